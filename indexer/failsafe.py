"""The fail-safe: mask every long digit run that no validated detector claimed.

A validated detector (indexer.pii) only finds the formats it knows; a phone written with an odd
separator, a card from an unexpected bank or a number in Chinese numerals would pass through to
the index in plaintext. So, as the last detector, every run of MIN_DIGITS or more digits
(indexer.digits folds widths, Chinese numerals and separators) that is not *positively* harmless
is masked whole as kind "number". Positively harmless means: a date (2023-05-12, 2023.05,
20230512, 199001), a year among dates or years (1985.09—1989.07, 2019 2020), an 档号 after its
label or letter prefix (HJ-2023-0001), a 案号 (（2023）京0108民初1234号), a page count or an
amount (…页, …元). Over-masking a long reference costs a search term; under-masking costs a
person's phone.
"""
from __future__ import annotations

import re

from indexer.digits import SEPARATORS, SPACES, date_units, gap_end, is_year
from indexer.pii import PiiMatch, digit_view

__all__ = ["MIN_DIGITS", "find_numbers"]

_MAX_SEP = 3
MIN_DIGITS = 7
_CASE_NO = re.compile(  # 案号: （2023）京0108民初1234号
    r"[（(]\s*(?:19|20)\d\d\s*[）)]\s*[\u4e00-\u9fff]{1,3}\s*\d{0,6}\s*[\u4e00-\u9fff]{1,5}"
    r"\s*\d{1,8}\s*[号號]")
_ARCHIVE_CUE = re.compile(r"(?:档号|檔號|案卷号|案卷號|卷号|卷號|全宗号|全宗號|案号|案號)"
                          r"[：:\s]*[A-Za-z0-9\-－—.·]*$")
_LETTER_PREFIX = re.compile(r"[A-Za-z]{1,6}[-－—]?$")
# 统一社会信用代码 (GB 32100): an organisation's public register number, with a check character.
_USCC = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])")
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_AFTER_OK = re.compile(r"\s*(?:元|万元|万|亿|％|%|页|頁|册|冊|卷)")


def _pieces(text: str, run: list[list[int]], seps: list[str], digits: list[str | None]) -> list[list[int]]:
    """The parts of one run left after dates and years are taken out, as lists of positions."""
    groups = ["".join(digits[p] for p in g) for g in run]  # type: ignore[misc]
    exempt = [False] * len(run)
    i = 0
    while i < len(run):
        k = date_units(groups, seps, i)
        for j in range(i, i + k):
            exempt[j] = True
        i += k or 1
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
            j = gap_end(text, i, lambda k: text[k] in SEPARATORS or k in dashes, _MAX_SEP)
            if j == i or j >= n or digits[j] is None:
                break
            gap = text[i:j]
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
    public = [*_CASE_NO.finditer(text), *(m for m in _USCC.finditer(text) if _uscc_ok(m.group()))]
    for m in public:
        for k in range(m.start(), m.end()):
            digits[k] = None
    out = []
    for groups, seps in _runs(text, digits, dashes):
        if sum(map(len, groups)) < MIN_DIGITS:
            continue
        first = "".join(digits[p] for p in groups[0])  # type: ignore[misc]
        run_end = groups[-1][-1] + 1
        if _harmless(text, groups[0][0], run_end, first):
            continue
        for piece in _pieces(text, groups, seps, digits):
            value = "".join(digits[p] for p in piece)  # type: ignore[misc]
            out.append(PiiMatch("number", piece[0], piece[-1] + 1, value))
    return out
