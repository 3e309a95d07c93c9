"""Page images that may be shown: PII burned out as black boxes (the watermark: indexer.watermark).

DESIGN.md rule 8. The boxes come from OCR (or text-layer) word and line boxes, found through each
word's character offsets into the page text, so whatever the PII detectors matched in the text is
what gets blacked out on the image. When in doubt the whole line, or the whole page, is covered.
"""
from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from PIL import Image, ImageDraw

from indexer import image_cues, image_misreads, image_names, image_tables, image_widen
from indexer.pii import PiiMatch
from indexer.types import Box, PageText, Word

# Margin round a span's rectangle, as shares of its line's height: above and below it covers
# anti-aliasing, blur and the slope a line keeps when deskew left a fraction of a degree; to the
# sides a whole glyph (a CJK glyph is about as wide as its line is tall), because Tesseract's
# LSTM places CJK symbol boxes only roughly: measured on realistic scans, a span's first glyph
# began up to 1.1 glyphs before its OCR box (黑 of 黑龙江 given to the word before) and the last
# ended a third of a glyph after it. Half a line left 1-2 % of such boxes unblacked, with ink.
LINE_MARGIN = 0.2
SIDE_MARGIN = 1.0
MIN_MARGIN_PX = 2
# Beyond the margin a span's box runs on over empty paper up to its neighbouring words, at most
# this many line heights (_to_neighbours).
NEIGHBOUR_REACH = 2.0
NEIGHBOUR_OVERLAP = 0.4
# Ink: luminance below this on the served image (paper tone stays above ~150, strokes below).
INK = 128
SNAP_REACH = 0.8  # ink_snapped: farthest an edge moves, as a share of the box's height


def _word_box(w: Word) -> Box:
    return Box(w.left, w.top, w.left + w.width, w.top + w.height)


def pii_boxes(words: Sequence[Word], text: str, matches: Sequence[PiiMatch], *,
              fallback: Box | None = None) -> list[Box]:
    """One solid rectangle per masked span per text line, at the line's full height plus a margin.

    A word only counts when its recorded offsets really point at its text in `text`. The span's
    words on one line give one rectangle from the first to the last of them (no gaps between
    glyphs), as tall as the line's box (Tesseract's line level, or the text layer's line): CJK
    word boxes are single glyphs' ink and can be half the line's height. A character of the span
    that no word holds widens the rectangle to its whole line, and when its line has no located
    word at all the match gets `fallback` (callers pass the whole page): a mapping failure hides
    too much instead of too little. Boxes are clipped to `fallback` when given.
    """
    located = [w for w in words
               if 0 <= w.start < w.end <= len(text) and text[w.start:w.end] == w.text]
    breaks = [i for i, ch in enumerate(text) if ch == "\n"]

    def text_line(i: int) -> int:
        return bisect.bisect_right(breaks, i - 1) if breaks else 0

    by_text_line: dict[int, list[Word]] = {}
    for w in located:
        by_text_line.setdefault(text_line(w.start), []).append(w)
    by_line: dict[Box, list[Word]] = {}
    for w in located:
        by_line.setdefault(w.line or _word_box(w), []).append(w)
    boxes: list[Box] = []
    for m in matches:
        hit = [w for w in located if w.start < m.end and m.start < w.end]
        covered = {i for w in hit for i in range(max(w.start, m.start), min(w.end, m.end))}
        missing = {i for i in range(m.start, m.end) if not text[i].isspace()} - covered
        whole_lines, lost = _unplaced(missing, hit, by_text_line, text_line)
        if lost and fallback is not None:
            boxes.append(fallback)
            continue
        rows: dict[Box, Box] = {}  # line box -> the span's extent on it
        for w in hit:
            line = w.line or _word_box(w)
            rows[line] = rows[line].union(_word_box(w)) if line in rows else _word_box(w)
        for ln in whole_lines:
            for w in by_text_line.get(ln, []):
                line = w.line or _word_box(w)
                rows[line] = rows.get(line, line).union(line)
        hit_ids = {id(w) for w in hit}
        for line, extent in rows.items():
            rect = Box(extent.left, line.top, extent.right, line.bottom).union(extent)
            rect = rect.padded(max(MIN_MARGIN_PX, round(line.height * SIDE_MARGIN)),
                               max(MIN_MARGIN_PX, round(line.height * LINE_MARGIN)))
            rect = _to_neighbours(rect, extent, line,
                                  [w for w in by_line.get(line, []) if id(w) not in hit_ids])
            if fallback is not None:
                rect = rect.clipped(fallback.right, fallback.bottom)
            if rect not in boxes:
                boxes.append(rect)
    return boxes


def _to_neighbours(rect: Box, extent: Box, line: Box, others: Sequence[Word]) -> Box:
    """`rect` widened over the empty stretch up to the next word on each side of the span (at
    most NEIGHBOUR_REACH line heights from it): ink there belongs to no word OCR read, so it is a
    glyph OCR dropped or misplaced, next to the span and most likely part of it (the full-width
    １ of １９１６… that OCR left out, whose box then began a glyph late)."""
    reach = round(line.height * NEIGHBOUR_REACH)
    centre = [(w.left + w.width / 2, w) for w in others]
    # into the neighbour by a share of a glyph: OCR's box of the word before may take in the
    # edge of the span's first glyph (话 of 电话１３…, 97.5 % black)
    into = round(line.height * NEIGHBOUR_OVERLAP)
    before = [w.left + w.width - into for c, w in centre if c < extent.left]
    after = [w.left + into for c, w in centre if c > extent.right]
    left = max([extent.left - reach, *before]) if before else extent.left - reach
    right = min([extent.right + reach, *after]) if after else extent.right + reach
    return Box(min(rect.left, left), rect.top, max(rect.right, right), rect.bottom)


def page_boxes(words: Sequence[Word], text: str, matches: Sequence[PiiMatch], size: tuple[int, int],
               blackout: Sequence[Box] = (), image: Image.Image | None = None) -> list[Box]:
    """Everything black on the served image of a page of `size` (its pixels, which the words'
    boxes are in): the detectors' matches (a match that cannot be placed blacks the page), the
    image path's own fail-safe spans (indexer.image_cues: the value after a role or address
    label, other occurrences of a detected name, a dotted name or an address's numbers that a
    match stopped short of, a number broken by misread characters, a family-table row's name
    (indexer.image_misreads), the cells of a column whose header names personal data
    (indexer.image_tables); one that cannot be placed is boxed where it can be, never the
    whole page, since no detector vouched for it) and `blackout` regions. Given the `image`
    (the served one), no span box ends inside a glyph (ink_snapped)."""
    whole = Box(0, 0, size[0], size[1])
    boxes = pii_boxes(words, text, matches, fallback=whole) if matches else []
    extra = [*image_cues.cue_spans(text, words), *image_names.name_repeats(text, list(matches)),
             *image_widen.widened(text, list(matches)), *image_names.titled_names(text),
             *image_misreads.misread_numbers(text), *image_misreads.member_rows(text),
             *image_misreads.phone_values(text), *image_misreads.closed_names(text),
             *image_tables.column_cells(text, words)]
    extra += image_widen.widened(text, [m for m in extra if m.kind == "name"], vouched=True)
    for b in pii_boxes(words, text, extra):
        b = b.clipped(whole.right, whole.bottom)
        if b.right > b.left and b.bottom > b.top and b not in boxes:
            boxes.append(b)
    if image is not None and boxes:
        ink = np.asarray(image.convert("L")) < INK
        boxes = [b if b == whole else ink_snapped(b, ink) for b in boxes]
    boxes += [b.clipped(whole.right, whole.bottom) for b in blackout]
    return boxes


def ink_snapped(box: Box, ink: np.ndarray) -> Box:
    """`box` with its left and right edges moved outwards in the served image: through the ink
    just outside an edge to the next clear column (Tesseract's CJK symbol boxes can sit a glyph
    off: 武 of 住武侯区 boxed 32 px right of its ink on a 30 px line, and an edge that cuts a
    glyph leaves its stroke readable), then over clear paper up to the next ink (a full-width
    １ is a thin stroke in a wide cell; its cell, not only its stroke, is the value's). Top and
    bottom only move through ink they cut. At most SNAP_REACH of the box's height per side: a
    run of ink that long is the next word, not the cut glyph."""
    h, w = ink.shape
    left, top, right, bottom = max(0, box.left), max(0, box.top), min(w, box.right), min(h, box.bottom)
    if right <= left or bottom <= top:
        return box
    reach = max(MIN_MARGIN_PX, round((bottom - top) * SNAP_REACH))

    def out(lines: np.ndarray, *, over_paper: bool) -> int:
        """How far to move: `lines` holds one column (row) per entry of axis 1, nearest first."""
        has = lines.any(axis=0)
        k = 0
        while k < len(has) and has[k]:
            k += 1
        cut = k > 0
        if over_paper:  # the clear gap too, up to (not into) the next glyph
            while k < len(has) and not has[k]:
                k += 1
            return k
        return k + MIN_MARGIN_PX if cut and k < len(has) else k

    band = ink[top:bottom]
    left -= out(band[:, max(0, left - reach):left][:, ::-1], over_paper=True)
    right += out(band[:, right:min(w, right + reach)], over_paper=True)
    left, right = max(0, left), min(w, right)
    cols = ink[:, left:right]
    vreach = max(MIN_MARGIN_PX, round((bottom - top) * SNAP_REACH / 2))
    top -= out(cols[max(0, top - vreach):top][::-1].T, over_paper=False)
    bottom += out(cols[bottom:min(h, bottom + vreach)].T, over_paper=False)
    return Box(min(box.left, max(0, left)), min(box.top, max(0, top)),
               max(box.right, min(w, right)), max(box.bottom, min(h, bottom)))


def _unplaced(missing: set[int], hit: list[Word], by_text_line: dict[int, list[Word]],
              text_line) -> tuple[set[int], bool]:
    """Where the span's characters that no word holds are: inside its rectangle on a line (a
    gap between its words: nothing to add), somewhere on a line whose box is known (cover the
    whole line: returned), or nowhere known (True: cover the page)."""
    whole: set[int] = set()
    for ln in {text_line(i) for i in missing}:
        here = [w for w in hit if text_line(w.start) == ln]
        gaps = [i for i in missing if text_line(i) == ln]
        if (here and len({w.line for w in here}) == 1
                and all(min(w.start for w in here) <= i < max(w.end for w in here) for i in gaps)):
            continue
        on_line = by_text_line.get(ln, [])
        if not on_line or any(w.line is None for w in on_line):
            return whole, True
        whole.add(ln)
    return whole, False


def redact_image(img: Image.Image, boxes: Sequence[Box], *, pad: int = 0) -> Image.Image:
    """A new image with solid black boxes burned in (pixels replaced, not an overlay layer).
    The boxes already carry their margin (pii_boxes); `pad` widens them further."""
    out = img.convert("RGB") if img.mode not in ("L", "RGB") else img.copy()
    draw = ImageDraw.Draw(out)
    black = 0 if out.mode == "L" else (0, 0, 0)
    for b in boxes:
        draw.rectangle((max(0, b.left - pad), max(0, b.top - pad),
                        min(out.width, b.right + pad) - 1, min(out.height, b.bottom + pad) - 1),
                       fill=black)
    return out


def fit_view(text: PageText, max_edge: int) -> PageText:
    """The page scaled down so its long edge is at most `max_edge`, words and blackout regions
    with it (rounded outwards): what is stored and served, so boxes are drawn in its pixels and
    serving never holds a larger image."""
    img = text.image
    if img is None or max(img.size) <= max_edge:
        return text
    f = max_edge / max(img.size)
    size = (max(1, round(img.width * f)), max(1, round(img.height * f)))
    words = []
    for w in text.words:
        b = _word_box(w).scaled(f)
        words.append(replace(w, left=b.left, top=b.top, width=b.right - b.left,
                             height=b.bottom - b.top, line=w.line.scaled(f) if w.line else None))
    return replace(text, image=img.resize(size, Image.Resampling.LANCZOS), words=words,
                   blackout=[b.scaled(f) for b in text.blackout])
