"""The image path's fail-safe, second part: detected spans grown to what they evidently belong to.

A detector that found part of a value boxes only that part on the served image, and OCR's
misreads are what cut it short: the middle dot of a transliterated name read as anything (哈斯 of
努尔·哈斯 found, 努尔 left readable), an address's house and flat numbers behind a misread
suffix (…730弄46号 found, 1097室 left out), a digit read as 丨 or l next to a number. The spans
here only add image boxes (indexer.page_image.page_boxes); the index keeps what the detectors
decided. Label-driven spans: indexer.image_cues; names found again elsewhere: indexer.image_names.
"""
from __future__ import annotations

import re

from indexer import cues, dotnames, textview, vocab
from indexer.image_cues import DOTS, address_end
from indexer.pii import PiiMatch

__all__ = ["widened"]

_FIELD_REST = 20  # characters of a field's rest that an address match may still take


def _field_numbers(text: str, end: int) -> int:
    """An address match's end moved on over the rest of its field when numbers follow there
    (…劳动南路75号 found, 银杏公富10栋5单元1291宝 misread and left out): up to the field's last
    number and the character after it, never past punctuation or the next field's label."""
    stop = address_end(text, end, [])
    rest = text[end:stop]
    last = max((i for i, ch in enumerate(rest) if ch.isdigit()), default=-1)
    if last < 0 or last >= _FIELD_REST:
        return end
    last += 1
    if last < len(rest) and textview.is_cjk(rest[last]):
        last += 1
    return end + last


# What OCR makes of a name's middle dot: ·•・. and also * - ' " ` ^ (努尔·哈斯 read 努尔*哈斯)
_DOTTED_RUN = re.compile(r"[\u3400-\u9fff]+(?:\s?[·•・.*\-'\"`^°]\s?[\u3400-\u9fff]+)+")
# An address's numbers and what OCR makes of their separators (3门482号 read 3[1482号, 号楼 split
# off the match): suffix characters, digits, letters and stray marks, with a digit among them.
_TAIL = re.compile(r"\s?(?:[号號院楼樓栋棟幢座门門层層室房户戶组組队隊弄甲乙丙丁单單元]|"
                   r"[0-9０-９A-Za-z\[\]|/\\\-—－#])+")


def widened(text: str, matches: list[PiiMatch], *, vouched: bool = False) -> list[PiiMatch]:
    """Detected spans grown to what they evidently belong to: a name that touches a middle dot
    to the whole dotted name (OCR reads the dot as anything, and a detector that found 哈斯 of
    努尔·哈斯 left 努尔 readable), an address to the house, flat and lane numbers right after it
    (…730弄46号 found, 1097室 misread and left out)."""
    out = []
    folded = textview.fold_chars(text)
    for m in matches:
        if m.kind == "name":
            grown = _over_dot(folded, m.start, m.end, vouched=vouched)
            if grown != (m.start, m.end):
                out.append(PiiMatch("name", *grown, text[grown[0]:grown[1]]))
            for run in _DOTTED_RUN.finditer(text, max(0, m.start - 16), min(len(text), m.end + 16)):
                if run.start() < m.end and m.start < run.end() and (run.start(), run.end()) != (m.start, m.end):
                    out.append(PiiMatch("name", min(run.start(), m.start), max(run.end(), m.end),
                                        text[min(run.start(), m.start):max(run.end(), m.end)]))
        elif m.kind == "address":
            tail = _TAIL.match(text, m.end)
            end = tail.end() if tail and any(ch.isdigit() for ch in tail.group()) else m.end
            if text[end - 1].isdigit() and end < len(text) and textview.is_cjk(text[end]):
                end += 1  # 31号 read 31昊: the misread suffix is still the house number's
            end = _field_numbers(text, end)
            if end > m.end:
                out.append(PiiMatch("address", m.start, end, text[m.start:end]))
        elif m.kind in _NUMERIC:
            # a digit OCR misread (１ as 丨 or l) is outside the match but on the page
            start, end = m.start, m.end
            while start > 0 and m.start - start < 3 and text[start - 1] in _DIGIT_LIKE:
                start -= 1
            while end < len(text) and end - m.end < 3 and text[end] in _DIGIT_LIKE:
                end += 1
            if (start, end) != (m.start, m.end):
                out.append(PiiMatch(m.kind, start, end, text[start:end]))
    return list(dict.fromkeys(out))  # two rules may grow one match alike


# What OCR makes of a middle dot between two parts of a transliterated name, one or two marks
# (巴特爾·阿依古麗 read 巴特页:阿依古腺路); a full stop or semicolon ends a sentence instead.
_PART_DOTS = frozenset((DOTS | dotnames.ANY_DOTS) - set("。；;"))
_PART_MAX = 6  # characters of one part (dotnames)
_PARTICLES = frozenset("吗呢吧啊呀的了是在等和与及同系为于说称被把向对")


def _part_len(folded: list[str], start: int, step: int) -> int:
    """Length of the name part next to `start` going `step` (-1: leftwards, the part ends just
    before `start`; +1: it begins at `start`): CJK characters, at most one of them outside the
    transliteration set (an OCR misread), up to _PART_MAX; 0 when shorter than two."""
    n, misread, k = 0, 0, start - 1 if step < 0 else start
    while 0 <= k < len(folded) and n < _PART_MAX and textview.is_cjk(folded[k]):
        if step > 0 and n >= 2 and folded[k] in _PARTICLES:
            break
        if folded[k] not in dotnames.TRANSLIT:
            if misread:
                break
            misread = 1
        n, k = n + 1, k + step
    closed = not (0 <= k < len(folded)) or not textview.is_cjk(folded[k])
    if n and misread and not closed and folded[k - step] not in dotnames.TRANSLIT:
        n -= 1  # a misread last character is more likely the next word's, unless the run ends there
    return n if n >= 2 else 0


def _over_dot(folded: list[str], start: int, end: int, *, vouched: bool = False) -> tuple[int, int]:
    """A detected name grown over the other part of a transliterated name on either side of it
    across what OCR made of the dot: a detector that found 阿依古腺路 of 巴特页:阿依古腺路 left
    巴特爾 readable. The found name must itself look transliterated (at most one character in
    three outside the set), so a Han name next to a comma is not grown into its neighbour,
    unless a label `vouched` for it (代理人阿依還兩:迪前拜爾: 阿依古丽 misread twice)."""
    core = [ch for ch in folded[start:end] if textview.is_cjk(ch)]
    if len(core) < 2 or (not vouched and 3 * sum(ch not in dotnames.TRANSLIT for ch in core) > len(core)):
        return start, end
    a, b = start, end
    view = "".join(folded)
    # a label's name may also lose its dot to a full stop (调查人:人海燕、玉素甫。买买担1961…)
    dots = _PART_DOTS | {"。"} if vouched else _PART_DOTS
    for gap in (1, 2):  # a part before the dot, unless it is a role label (调查人:明国)
        if a - gap < 0 or not all(folded[k] in dots for k in range(a - gap, a)):
            break
        if any(m.end() == a - gap for m in cues.cue_regex().finditer(view, max(0, a - gap - 8), a - gap)):
            break
        if n := _part_len(folded, a - gap, -1):
            a = a - gap - n
            break
    for gap in (1, 2):  # a part after it
        if b + gap > len(folded) or not all(folded[k] in dots for k in range(b, b + gap)):
            break
        if n := _part_len(folded, b + gap, 1):
            b = b + gap + n
            break
    return a, b


_NUMERIC = frozenset(set(vocab.PII_KINDS) - {"name"} - {"address"})  # the digit kinds
_DIGIT_LIKE = frozenset("0123456789０１２３４５６７８９lIi|丨!oOQDSZBg〇一二三四五六七八九十-—－.·+＋")
