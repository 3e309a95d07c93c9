"""OCR words laid out on a grid, for the image-box unit tests (no OCR, no image): one word per
non-space character, lines LINE_H apart, characters PITCH apart, each GLYPH high."""
from __future__ import annotations

from indexer.types import Box, Word

PITCH, GLYPH, LINE_H = 40, 30, 40


def grid_words(text: str) -> list[Word]:
    words, offset = [], 0
    for row, line in enumerate(text.split("\n")):
        top = 20 + row * LINE_H
        box = Box(10, top, 10 + PITCH * max(1, len(line)), top + GLYPH)
        for col, ch in enumerate(line):
            if not ch.isspace():
                left = 10 + col * PITCH
                words.append(Word(ch, left, top + 2, GLYPH, GLYPH - 4, 90.0, offset + col,
                                  offset + col + 1, line=box))
        offset += len(line) + 1
    return words
