"""A QA reviewer's text correction carried back onto the unredacted page text (pure).

The reviewer corrects the page as it is shown to them: masked (张*, 110105************) except
the kinds their scope unmasks. What they change is found by diffing the shown text against the
edited one; each change is applied at the same place in the unredacted text, and a change that
touches a masked span is refused: the reviewer cannot see what is there, and an edit there would
either destroy the personal data the archive holds or write a mask into it.
"""
from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from indexer.pii import PiiMatch
from indexer.redact import mask_value
from indexer.types import Word


class CorrectionRefused(ValueError):
    """The edit cannot be applied; the message (Chinese) says where and why."""


@dataclass(frozen=True)
class _Segment:
    shown: tuple[int, int]
    raw: tuple[int, int]
    masked: bool
    label: str = ""


def shown_text(raw: str, matches: Sequence[PiiMatch], unmasked: Collection[str] = ()
               ) -> tuple[str, list[_Segment]]:
    """The text as the reviewer sees it (every match masked but the `unmasked` kinds), and the
    segments that map it back onto `raw`."""
    segs: list[_Segment] = []
    out, pos = [], 0
    for m in sorted(matches, key=lambda m: (m.start, m.end)):
        if m.kind in unmasked or m.start < pos:
            continue
        if m.start > pos:
            segs.append(_Segment((len("".join(out)), len("".join(out)) + m.start - pos),
                                 (pos, m.start), False))
            out.append(raw[pos:m.start])
        masked = mask_value(m.kind, m.value)
        at = len("".join(out))
        segs.append(_Segment((at, at + len(masked)), (m.start, m.end), True, masked))
        out.append(masked)
        pos = m.end
    at = len("".join(out))
    segs.append(_Segment((at, at + len(raw) - pos), (pos, len(raw)), False))
    out.append(raw[pos:])
    return "".join(out), segs


def _raw_pos(segs: list[_Segment], p: int) -> int:
    for s in segs:
        if s.shown[0] <= p <= s.shown[1]:
            if p == s.shown[0]:
                return s.raw[0]
            if p == s.shown[1]:
                return s.raw[1]
            if not s.masked:
                return s.raw[0] + p - s.shown[0]
    raise CorrectionRefused("更正的位置落在已遮蔽的内容中间，无法对应到原文")


def apply_correction(raw: str, matches: Sequence[PiiMatch], edited: str, *,
                     unmasked: Collection[str] = ()) -> str:
    """`raw` with the reviewer's edits of its shown form applied; CorrectionRefused when an
    edit touches a masked span."""
    shown, segs = shown_text(raw, matches, unmasked)
    masked = [s for s in segs if s.masked]
    ops = SequenceMatcher(None, shown, edited, autojunk=False).get_opcodes()
    for tag, i1, i2, _j1, _j2 in ops:
        for s in masked if tag != "equal" else ():
            touches = (s.shown[0] < i2 and i1 < s.shown[1]) if i2 > i1 else \
                s.shown[0] < i1 < s.shown[1]
            if touches:
                raise CorrectionRefused(f"更正涉及已遮蔽的内容（“{s.label}”附近）：遮蔽部分不能更改，"
                                        "请只更正可见的文字")
    out: list[str] = []
    for tag, i1, i2, j1, j2 in ops:
        out.append(raw[_raw_pos(segs, i1):_raw_pos(segs, i2)] if tag == "equal" else edited[j1:j2])
    return "".join(out)


def realign_words(words: Sequence[Word], old_text: str, new_text: str) -> list[Word]:
    """Word boxes whose offsets point into `old_text` (a fresh OCR of the page), moved to the
    same words in `new_text` (the corrected text), so a span found only in the corrected text
    can still be boxed on the image. Offsets inside a changed stretch move proportionally; a word
    that cannot be placed keeps start=-1 (page_image then covers more, never less)."""
    ops = SequenceMatcher(None, old_text, new_text, autojunk=False).get_opcodes()

    def moved(p: int) -> int:
        for _tag, i1, i2, j1, j2 in ops:
            if i1 <= p < i2:
                return j1 + (p - i1 if _tag == "equal" else (p - i1) * (j2 - j1) // (i2 - i1))
        return -1

    out = []
    for w in words:
        if w.start < 0 or w.end <= w.start:
            out.append(w)
            continue
        start, last = moved(w.start), moved(w.end - 1)
        out.append(replace(w, start=start, end=max(start, last) + 1) if start >= 0 and last >= 0
                   else replace(w, start=-1, end=-1))
    return out
