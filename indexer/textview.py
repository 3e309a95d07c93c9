"""A folded, space-free view of page text for the word-level PII detectors (names, addresses).

OCR and text layers break Chinese words apart with stray spaces ("王 建 国", "建国路 88 号") and
chi_sim+chi_tra may return traditional forms (張偉), while jieba and the address patterns only
know simplified, unbroken text. The detectors therefore run on a view where each character is
width-folded and traditional→simplified, and short runs of horizontal whitespace next to a CJK
character are dropped; an offset per view character maps every span back to the original text,
so redaction erases the original characters, noise included.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from indexer import normalise

__all__ = ["FoldedView", "build", "fold_chars", "is_cjk"]

_HSPACE = frozenset(" \t\u3000\u00a0")
_MAX_GAP = 3  # wider gaps are layout (table columns) and stay as word boundaries
_MAX_INDENT = 8  # spaces round a dropped line break: the next line may be indented


def is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def _wordish(ch: str) -> bool:
    return is_cjk(ch) or unicodedata.decimal(ch, None) is not None


@dataclass(frozen=True)
class FoldedView:
    """`text[i]` stands for `original[offsets[i]]`."""

    text: str
    offsets: tuple[int, ...]
    # View positions before which a line break was dropped (build(..., join_lines=True)).
    breaks: frozenset[int] = frozenset()

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original [start, end) covering view characters [start, end)."""
        return self.offsets[start], self.offsets[end - 1] + 1


def fold_chars(text: str) -> list[str]:
    """One folded character per input character (NFKC only where it stays one character, then
    traditional→simplified and lower case), with a single OpenCC call for the whole text."""
    widths = []
    for ch in text:
        folded = normalise.fold_width(ch)
        widths.append(folded if len(folded) == 1 else ch)
    joined = "".join(widths)
    simplified = normalise.to_simplified(joined)
    if len(simplified) == len(joined):
        return list(simplified.lower()) if len(simplified.lower()) == len(joined) else list(simplified)
    return [s if len(s := normalise.to_simplified(ch)) == 1 else ch for ch in widths]


def build(text: str, *, join_lines: bool = False) -> FoldedView:
    """Fold every character and drop horizontal whitespace runs (up to _MAX_GAP long) that sit
    between two word characters of which at least one is CJK; other whitespace is kept as a
    boundary so digits in "3 15" never fuse into one number.

    With `join_lines`, one line break (with any indentation round it) between two such
    characters is dropped too and its position kept in `breaks`: narrow form cells wrap an
    address ("市南区小⏎营街道…24⏎号") or a label ("其⏎母") onto the next line, and a detector
    that stops at the break leaves the rest readable."""
    chars = fold_chars(text)
    out: list[str] = []
    offsets: list[int] = []
    breaks: set[int] = set()
    i, n = 0, len(chars)
    while i < n:
        ch = chars[i]
        if (ch in _HSPACE or (join_lines and ch in "\r\n")) and out:
            j = i
            while j < n and (chars[j] in _HSPACE or (join_lines and chars[j] in "\r\n")):
                j += 1
            prev, nxt = out[-1], chars[j] if j < n else ""
            lines = "".join(chars[i:j]).replace("\r\n", "\n").count("\n")
            wide = j - i - lines > (_MAX_INDENT if lines else _MAX_GAP)
            if (not wide and lines <= 1 and nxt and _wordish(prev) and _wordish(nxt)
                    and (is_cjk(prev) or is_cjk(nxt))):
                if lines:
                    breaks.add(len(out))
                i = j
                continue
        out.append(ch)
        offsets.append(i)
        i += 1
    return FoldedView("".join(out), tuple(offsets), frozenset(breaks))
