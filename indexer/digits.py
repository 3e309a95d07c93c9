"""Digit folding shared by the number detectors (indexer.pii, indexer.failsafe).

OCR and typists write the same number many ways: full-width digits, groups split by spaces,
dashes of every width, dots or a line break, or in Chinese numerals. Detection therefore runs on
one digit per original character, so every span still points into the original text and
redaction erases the noise too.

Full-width and other Unicode decimal digits are digits. Chinese numerals (〇一二…九, 壹贰叁…玖,
零, ○, 幺, 两) are digits in a run of at least three of them (一三八一二三四五六七八, also spaced
out: 一 三 八 …), in a run of two or more glued to Arabic digits (138一二三四5678), or alone between
two Arabic digits; 一 alone is a word. A single 一 between Arabic digits is OCR's reading of a
dash (138一1234一5678) and separates groups. 十/拾 are multipliers, not digits, so
二〇二三年五月十二日 stays a date.
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable

__all__ = ["CN_DIGITS", "MAX_CELL_WRAP", "MAX_WRAP", "SEPARATORS", "SPACES", "WEAK_SEPARATORS", "all_dates", "amount_shape",
           "date_units", "fold", "gap_end", "weak_join"]

CN_DIGITS = {
    "〇": 0, "○": 0, "零": 0, "一": 1, "幺": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6,
    "七": 7, "八": 8, "九": 9, "壹": 1, "贰": 2, "貳": 2, "叁": 3, "參": 3, "肆": 4, "伍": 5,
    "陆": 6, "陸": 6, "柒": 7, "捌": 8, "玖": 9, "叄": 3, "◯": 0, "两": 2, "兩": 2,
}
_MIN_CN_RUN = 3
_MAX_MISREAD = 2
_UNITS = frozenset("年月日号號时時分秒岁歲元圆万萬千仟百佰亿億十拾点點个個次期届屆页頁度")
# What may sit between two digit groups of one number: spaces, hyphens and dashes of every
# width, dots and middle dots, slashes and underscores, line breaks (a number wrapped at the end
# of a line), and the marks OCR makes of a smudge or a dot between digits (@ # ~ ^ ` =).
# The ideographic full stop and the other small dots (。 ‧ ∙ ⋅) are what OCR makes of a dot
# separator (137。2607. 1689, 136‧1162.9630); an apostrophe or prime is its reading of a
# smudged dot (199. 3207' 0520).
SEPARATORS = frozenset(" \t\r\n\u3000\u00a0-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
                       "\uff0d.\uff0e\u00b7\u2022\u30fb\uff65/\uff0f_\uff3f@#~^`=\uff20\uff03\uff5e\uff1d"
                       "\u3002\uff61\u2027\u2219\u22c5'\u2018\u2019\u2032")
SPACES = frozenset(" \t\u3000\u00a0")
# Clause punctuation (colons, commas, 、, semicolons) between two digit groups: a clerk's or
# OCR's separator inside one number (158:9747:6012, 一五八：九七四七：六〇一二, 138，1234，5678),
# but in prose the end of one number and the start of the next (邮编100080，电话…, 第3、4、5页,
# 10:30, 1,234,567). So such a gap joins groups only under weak_join's conditions.
WEAK_SEPARATORS = frozenset(":\uff1a,\uff0c\u3001;\uff1b")
_CN = "".join(CN_DIGITS)
_SPACING = re.escape("".join(sorted((SEPARATORS - {"\n", "\r"}) | {":", "\uff1a"})))
_CN_SPACED = re.compile(rf"(?<![0-9０-９])[{_CN}]+(?:[{_SPACING}][{_CN}]+)+(?![0-9０-９])")
# A gap that holds one line break may be longer: the number wrapped onto an indented line.
MAX_WRAP = 8
# …and a gap of whitespace with one line break longer still: a table cell wrapped its value onto
# the next line, indented to the cell's column (12010119⏎　　　　…431123075X).
MAX_CELL_WRAP = 40


def fold(text: str) -> tuple[list[str | None], set[int]]:
    """Per character: its digit ('0'-'9') or None; plus the positions of 一 read for a dash."""
    out: list[str | None] = [None] * len(text)
    dashes: set[int] = set()
    for i, ch in enumerate(text):
        d = unicodedata.decimal(ch, None)
        if d is not None:
            out[i] = str(d)
    text = _letter_zeros(text)
    spaced = _spaced_numerals(text)
    i, n = 0, len(text)
    while i < n:
        if text[i] not in CN_DIGITS:
            i += 1
            continue
        j = i
        while j < n and text[j] in CN_DIGITS:
            j += 1
        if i in spaced:
            for k in range(i, j):
                out[k] = str(CN_DIGITS[text[k]])
            i = j
            continue
        before = out[i - 1] if i > 0 else None
        after = out[j] if j < n else None
        glued = before is not None or after is not None
        if before is not None and after is not None and text[i:j] == "一":
            dashes.add(i)  # 138一1234: a dash read as 一
        elif (j - i >= _MIN_CN_RUN or (glued and j - i >= 2)
              or (before is not None and after is not None)):
            # 138一二三四5678 mixes both scripts; a reader still reads one number.
            for k in range(i, j):
                out[k] = str(CN_DIGITS[text[k]])
        i = j
    dashes |= _misread_inside(text, out)
    return out, dashes


_LETTER_ZERO = frozenset("OoD")
_DASH_ONE = frozenset("~\uff5e")


def _letter_zeros(text: str) -> str:
    """The text with OCR's look-alikes of 〇 next to a Chinese numeral read back as 〇
    (一九九五六七三八三O八, 二OO六年, 一八六六三二五O七三DO; a lone Arabic 0 between numerals,
    一三八五七九六六六0六): the glyph is the numeral's shape, and a number cut there leaves two
    readable halves, each too short for any detector. A tilde opening a run of numerals is its
    一 (手机是~八六四七四七〇二六七): the stroke read as a wave."""
    chars = list(text)
    n = len(chars)

    def arabic(k: int) -> bool:
        return 0 <= k < n and chars[k].isdigit() and chars[k] not in CN_DIGITS

    for _ in range(2):  # chains of two (二OO六) from either side
        for i, ch in enumerate(chars):
            near = (i > 0 and chars[i - 1] in CN_DIGITS) or (i + 1 < n and chars[i + 1] in CN_DIGITS)
            if near and (ch in _LETTER_ZERO or (ch in "0\uff10" and not arabic(i - 1)
                                                and not arabic(i + 1))):
                chars[i] = "〇"
    for i, ch in enumerate(chars):
        if (ch in _DASH_ONE and not arabic(i - 1) and (i == 0 or chars[i - 1] not in CN_DIGITS)
                and all(c in CN_DIGITS for c in chars[i + 1:i + 1 + _MIN_CN_RUN])
                and i + _MIN_CN_RUN < n):
            chars[i] = "一"
    return "".join(chars)


def _misread_inside(text: str, out: list[str | None]) -> set[int]:
    """Positions of one or two characters OCR misread inside a number written in Chinese
    numerals (一七七六四八信人六一八三, 一七六六零麦九七): read as a separator, so the number stays one
    run that the detectors (and the fail-safe) see whole. Both sides must be numeral runs of
    three or more, and the characters no unit (年, 月, 号, 元 …) that ends a number in prose."""
    found: set[int] = set()
    n = len(text)
    i = 0
    while i < n:
        if out[i] is None or text[i] not in CN_DIGITS:
            i += 1
            continue
        j = i
        while j < n and out[j] is not None and text[j] in CN_DIGITS:
            j += 1
        gap = j
        while gap < n and gap - j < _MAX_MISREAD and out[gap] is None and text[gap] not in _UNITS \
                and not text[gap].isspace() and text[gap] not in SEPARATORS and text[gap] not in "，。；：、,;:":
            gap += 1
        k = gap
        while k < n and out[k] is not None and text[k] in CN_DIGITS:
            k += 1
        if j - i >= _MIN_CN_RUN and gap > j and k - gap >= _MIN_CN_RUN:
            found.update(range(j, gap))
        i = j if gap == j else gap
    return found


def _spaced_numerals(text: str) -> set[int]:
    """Starts of Chinese-numeral runs that belong to a longer one spaced out by single
    separators (一 三 八 一 二 …, as text layers space characters), not glued to Arabic digits."""
    out: set[int] = set()
    for m in _CN_SPACED.finditer(text):
        starts = [k for k in range(m.start(), m.end())
                  if text[k] in CN_DIGITS and (k == m.start() or text[k - 1] not in CN_DIGITS)]
        if len(starts) > 1 and sum(ch in CN_DIGITS for ch in m.group()) >= _MIN_CN_RUN:
            out.update(starts)
    return out


def gap_end(text: str, i: int, is_sep: Callable[[int], bool], max_sep: int) -> int:
    """End of the separator gap at i if two digit groups may be joined across it, else i.

    Up to max_sep separators join ("139 — 8765"); a gap with one line break may be up to
    MAX_WRAP long (MAX_CELL_WRAP if it is all whitespace), so an ID wrapped onto an indented
    next line stays one number, while a blank line between two numbers (two line breaks) keeps
    them apart."""
    j, n = i, len(text)
    while j < n and j - i < MAX_CELL_WRAP and is_sep(j):
        j += 1
    gap = text[i:j]
    if j - i <= max_sep and gap.count("\n") <= 1:
        return j
    if gap.replace("\r\n", "\n").count("\n") != 1:
        return i
    return j if j - i <= MAX_WRAP or not gap.strip() else i


def weak_join(gap: str, before: int, after: int, *, most: int | None = None) -> bool:
    """Whether a gap holding clause punctuation joins a group of `before` digits to one of
    `after`: one mark, only spaces beside it, no line break, two or more digits on both sides and
    three on one (a phone's, card's or ID's groups, one a partial read: 九七四七:六〇; not 10:30
    or 第3、4页), each at most `most` if given (two whole numbers in a list,
    62751234，13812345678, stay two)."""
    if sum(ch in WEAK_SEPARATORS for ch in gap) != 1 or any(
            ch not in WEAK_SEPARATORS and ch not in SPACES for ch in gap):
        return False
    if gap.strip() in (",", "\uff0c") and before <= 3 and after == 3:
        return False  # 58,375.57 | 1,234: thousands
    return (min(before, after) >= 2 and max(before, after) >= 3
            and (most is None or max(before, after) <= most))


def amount_shape(sizes: list[int], seps: list[str]) -> bool:
    """Digit groups in thousands with commas (1,234,567 or 12，345，678): an amount, no one's
    number, whatever follows it."""
    return (len(sizes) > 2 and 1 <= sizes[0] <= 3 and all(n == 3 for n in sizes[1:])
            and all(sep.strip() in (",", "\uff0c") for sep in seps[1:]))


def _valid_date(y: int, m: int, d: int) -> bool:
    try:
        _dt.date(y, m, d)
    except ValueError:
        return False
    return 1800 <= y <= 2100


def is_year(g: str) -> bool:
    return len(g) == 4 and g.isdigit() and 1800 <= int(g) <= 2100


def date_units(groups: list[str], seps: list[str], i: int) -> int:
    """How many groups from i are positively one date: Y-M-D, Y.M, YYYYMMDD or YYYYMM.

    `seps[k]` is the text before groups[k]; a Y-M-D needs the same separator twice, a Y.M a
    visible one (2012 12 is two numbers, 2012.12 a month)."""
    g = groups[i]
    if (i + 2 < len(groups) and is_year(g) and len(groups[i + 1]) <= 2
            and len(groups[i + 2]) <= 2 and seps[i + 1].strip() == seps[i + 2].strip()
            and _valid_date(int(g), int(groups[i + 1]), int(groups[i + 2]))):
        return 3
    if (i + 1 < len(groups) and is_year(g) and len(groups[i + 1]) <= 2 and seps[i + 1].strip()
            and 1 <= int(groups[i + 1]) <= 12):
        return 2
    if len(g) == 8 and _valid_date(int(g[:4]), int(g[4:6]), int(g[6:])):
        return 1
    if len(g) == 6 and is_year(g[:4]) and 1 <= int(g[4:]) <= 12:
        return 1
    return 0


def all_dates(groups: list[str], seps: list[str]) -> bool:
    """Whether the groups are a sequence of dates and years and nothing else."""
    i = 0
    while i < len(groups):
        k = date_units(groups, seps, i) or (1 if is_year(groups[i]) else 0)
        if not k:
            return False
        i += k
    return True
