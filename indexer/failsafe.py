"""The fail-safe: mask every long digit run that no validated detector claimed.

A validated detector (indexer.pii) only finds the formats it knows; a phone written with an odd
separator, a card from an unexpected bank or a number in Chinese numerals would pass through to
the index in plaintext. So, as the last detector, every run of MIN_DIGITS or more digits
(indexer.digits folds widths, Chinese numerals and separators) that is not *positively* harmless
is masked whole as kind "number". Positively harmless means: a date (2023-05-12, 2023.05,
20230512, 199001), a year among dates or years (1985.09—1989.07, 2019 2020), an 档号 after its
label or letter prefix (HJ-2023-0001) or in its DA/T 13 shape (0123-2019-永久-0045), a 案号 (（2023）京0108民初1234号), a page count or an
amount (…页, …元). Over-masking a long reference costs a search term; under-masking costs a
person's phone.
"""
from __future__ import annotations

import re

from indexer.digits import (SEPARATORS, SPACES, WEAK_SEPARATORS, amount_shape, date_units, gap_end,
                            is_year, weak_join)
from indexer.pii import PiiMatch, digit_view

__all__ = ["MIN_DIGITS", "find_numbers"]

_MAX_SEP = 3
MIN_DIGITS = 7
_CASE_NO = re.compile(  # 案号: （2023）京0108民初1234号
    r"[（(]\s*(?:19|20)\d\d\s*[）)]\s*[\u4e00-\u9fff]{1,3}\s*\d{0,6}\s*[\u4e00-\u9fff]{1,5}"
    r"\s*\d{1,8}\s*[号號]")
# 档号 (DA/T 13): 全宗号-[门类代码·]年度-保管期限-件号, e.g. 0123-2019-永久-0045, 0001-HJ·2023-Y-0012,
# positively an archive reference even without its label: the retention term is no digit.
_ARCHIVE_NO = re.compile(
    r"(?<![0-9A-Za-z])[0-9A-Z]{1,8}\s?[-－—]\s?(?:[A-Z]{1,6}\s?[·.\-－—]\s?)?(?:19|20)\d\d\s?[-－—]\s?"
    r"(?:永久|长期|長期|短期|定期|[YCDycd]|D\d{1,3}|\d{1,3}\s?年)\s?[-－—]\s?\d{1,6}(?![0-9])")
_ARCHIVE_CUE = re.compile(r"(?:档号|檔號|案卷号|案卷號|卷号|卷號|全宗号|全宗號|案号|案號)"
                          r"[：:\s]*[A-Za-z0-9\-－—.·]*$")
_LETTER_PREFIX = re.compile(r"[A-Za-z]{1,6}[-－—]?$")
# 统一社会信用代码 (GB 32100): an organisation's public register number, with a check character.
_USCC = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# Bridging a misread character: both groups beside it this long, at most this many characters.
_MIN_BRIDGED = 3
_MAX_MISREAD = 2
_MARKS = frozenset("+＋|!！?？[]［］{}()（）$&*%<>《》\"“”")
_NUMBER_ENDS = frozenset("年月日号號时時分秒岁歲元圆万萬千仟百佰亿億十拾点點个個次期届屆页頁度"
                         "室栋棟幢层層楼樓弄巷路街村组組户戶座单單元至到和或及与與共第转轉")
_AFTER_OK = re.compile(r"\s*(?:元|万元|万|亿|％|%|页|頁|册|冊|卷)")


def _pieces(text: str, run: list[list[int]], seps: list[str], digits: list[str | None]) -> list[list[int]]:
    """The parts of one run left after dates and years are taken out, as lists of positions."""
    groups = ["".join(digits[p] for p in g) for g in run]  # type: ignore[misc]
    exempt = [False] * len(run)
    units: list[tuple[int, int]] = []
    i = 0
    while i < len(run):
        k = date_units(groups, seps, i)
        if k:
            units.append((i, i + k))
        i += k or 1
    # A date is one only where it stands on its own: between two groups that are no date it is
    # the middle of one number (110105 19900307 1235, an ID OCR misread a digit of, whose birth
    # date would otherwise leave the region and the tail too short to mask).
    dated = {j for a, b in units for j in range(a, b)}
    for a, b in units:
        if not (0 < a and b < len(run) and a - 1 not in dated and b not in dated):
            for j in range(a, b):
                exempt[j] = True
    # A bare year is a year only among dates and years (1990 1991, 1985.09—1989.07), never as
    # the first group of an unknown number (2012 3456 is a landline).
    for i, g in enumerate(groups):
        if not exempt[i] and is_year(g):
            near = [exempt[j] or is_year(groups[j]) for j in (i - 1, i + 1) if 0 <= j < len(run)]
            if all(near):
                exempt[i] = True
    out: list[list[int]] = [[]]
    for i, g in enumerate(run):
        if exempt[i]:
            out.append([])
        else:
            out[-1].extend(g)
    return [p for p in out if len(p) >= MIN_DIGITS]


def _runs(text: str, digits: list[str | None], dashes: set[int]) -> list[tuple[list[list[int]], list[str]]]:
    """Digit runs as groups of positions and the separator text before each group."""
    runs = []
    i, n = 0, len(text)
    while i < n:
        if digits[i] is None:
            i += 1
            continue
        groups, seps = [[i]], [""]
        i += 1
        while i < n:
            if digits[i] is not None:
                groups[-1].append(i)
                i += 1
                continue
            j = gap_end(text, i, lambda k: text[k] in SEPARATORS or text[k] in WEAK_SEPARATORS
                        or k in dashes, _MAX_SEP)
            if j == i and len(groups[-1]) >= _MIN_BRIDGED:
                j = _misread_end(text, digits, i)
            if j == i or j >= n or digits[j] is None:
                break
            gap = text[i:j]
            if any(ch in WEAK_SEPARATORS for ch in gap) and not weak_join(
                    gap, len(groups[-1]), _ahead(digits, j)):
                break
            # Spaces alone join real groupings (139 8765 4321) and digits spaced out one by one
            # (1 3 8 1 2 …, a text layer's letter spacing), not rows of numbers (85 90 78 92).
            if set(gap) <= SPACES:
                sizes = (len(groups[-1]), _ahead(digits, j))
                if len(gap) > 2 or (max(sizes) < 3 and not (sizes == (1, 1) and gap == " ")):
                    break
            groups.append([])
            seps.append(gap)
            i = j
        runs.append((groups, seps))
    return runs


def _misread_end(text: str, digits: list[str | None], i: int) -> int:
    """End of one or two characters OCR made of digits inside a number (236旨0413330825127,
    1381?345678) if a group of _MIN_BRIDGED or more digits follows, else i: the number is masked
    whole instead of leaving its two halves, each perhaps too short, readable. Never a unit or
    a word that ends a number in prose (年, 号, 元, 室, 至 …), a separator or a space."""
    j = i
    while j < len(text) and j - i < _MAX_MISREAD and digits[j] is None and _bridgeable(text[j]):
        j += 1
    return j if j > i and _ahead(digits, j) >= _MIN_BRIDGED else i


def _bridgeable(ch: str) -> bool:
    return (not ch.isspace() and ch not in SEPARATORS and ch not in WEAK_SEPARATORS
            and ch not in _NUMBER_ENDS and (ch.isalpha() or ch in _MARKS))


def _ahead(digits: list[str | None], j: int) -> int:
    k = j
    while k < len(digits) and digits[k] is not None:
        k += 1
    return k - j


def _uscc_ok(code: str) -> bool:
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(code, _USCC_WEIGHTS))
    return _USCC_CHARS[(31 - total % 31) % 31] == code[17]


def _harmless(text: str, start: int, end: int, first_group: str) -> bool:
    """An 档号 or 案卷号 after its label or letter prefix, a page count, an amount of money."""
    before = text[max(0, start - 24):start]
    if _ARCHIVE_CUE.search(before):
        return True
    if _LETTER_PREFIX.search(before) and is_year(first_group[:4]):
        return True
    return bool(_AFTER_OK.match(text, end))


def find_numbers(text: str, taken: list[PiiMatch] | None = None) -> list[PiiMatch]:
    """Every run of MIN_DIGITS or more digits not covered by `taken` and not positively harmless."""
    digits, dashes = digit_view(text)
    digits = [None if d == "X" else d for d in digits]
    for m in taken or ():
        for k in range(m.start, m.end):
            digits[k] = None
    public = [*_CASE_NO.finditer(text), *_ARCHIVE_NO.finditer(text),
              *(m for m in _USCC.finditer(text) if _uscc_ok(m.group()))]
    for m in public:
        for k in range(m.start(), m.end()):
            digits[k] = None
    out = []
    for groups, seps in _runs(text, digits, dashes):
        if sum(map(len, groups)) < MIN_DIGITS or amount_shape([len(g) for g in groups], seps):
            continue
        first = "".join(digits[p] for p in groups[0])  # type: ignore[misc]
        run_end = groups[-1][-1] + 1
        if _harmless(text, groups[0][0], run_end, first):
            continue
        for piece in _pieces(text, groups, seps, digits):
            value = "".join(digits[p] for p in piece)  # type: ignore[misc]
            out.append(PiiMatch("number", piece[0], piece[-1] + 1, value))
    return out
