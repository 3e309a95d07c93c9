"""The image path's fail-safe, third part: names the page names again or by a title, with no label.

A person named once in a field is often named again in prose (和李明一起…), and a name before
同志/先生/女士 is too short for the detectors to mark on its own; on the served image both stay
readable unless boxed. The spans here only add image boxes (indexer.page_image.page_boxes); the
index keeps what the detectors decided.
"""
from __future__ import annotations

import re

from indexer import dotnames, textview
from indexer.image_cues import DOTS
from indexer.pii import PiiMatch

__all__ = ["name_repeats", "titled_names"]

_ANY_DOT = "[" + re.escape("".join(sorted(DOTS | dotnames.ANY_DOTS))) + "]{0,2}"


def name_repeats(text: str, matches: list[PiiMatch]) -> list[PiiMatch]:
    """Every other occurrence of a name the detectors found on this page, in either script and
    with or without spaces: a person named once in a field is often named again in prose, where
    no cue vouches for the name (和李明一起…), and the detectors judge each place on its own."""
    view = textview.build(text, join_lines=True)
    v = view.text
    targets = set()
    for m in matches:
        if m.kind != "name":
            continue
        folded = "".join(ch for ch in textview.fold_chars(text[m.start:m.end]) if not ch.isspace())
        if len(folded) >= 2 and all(textview.is_cjk(ch) or ch in DOTS for ch in folded):
            targets.add(folded)
    out = []
    for target in targets:
        # the dot of a dotted name as OCR reads it, or lost (其其格·依明 again as 其其格-依明)
        pattern = "".join(_ANY_DOT if ch in DOTS or ch in dotnames.ANY_DOTS else re.escape(ch)
                          for ch in target)
        for hit in re.finditer(pattern, v):
            s, e = view.span(hit.start(), hit.end())
            out.append(PiiMatch("name", s, e, text[s:e]))
    return out



# A name the text calls a comrade, Mr or Ms, after a preposition or a list mark (对傅琪同志,
# 關於傅琪同志, 与王芳女士): the detectors judge 2-character names there too weak to mark.
_TITLED = re.compile(r"(?:对|关于|于|与|和|及|跟|同|给|把|将|向|为|经|、|，|,|。|\n|^)"
                     r"([\u4e00-\u9fff]{2,4}?)(?=同志|先生|女士)")


def titled_names(text: str) -> list[PiiMatch]:
    """Names before 同志/先生/女士 after a preposition or a punctuation mark, in the folded
    view (traditional script and spacing as OCR gives them)."""
    view = textview.build(text, join_lines=True)
    out = []
    for m in _TITLED.finditer(view.text):
        if m.group(1) in ("该", "各位", "全体", "有关", "其他", "广大"):
            continue
        s, e = view.span(m.start(1), m.end(1))
        out.append(PiiMatch("name", s, e, text[s:e]))
    return out
