"""Find personal identifiers in OCR'd Chinese page text before anything reaches the index.

The index must never hold PII in plaintext, so a miss here is a leak; but every false hit hides
searchable text, so each detector validates what it can (checksums, region codes, real dates)
instead of matching bare digit counts. OCR output is noisy: digits come out full-width, split by
stray spaces or with letters that look like digits, so detection works on a normalised view of
each digit run and reports spans in the original text, wide enough for redaction to erase every
noisy character. The digit view (indexer.digits) also reads Chinese numerals (一三八…, 壹叁捌…)
and joins groups split by dashes of any width, dots or a line break. What no validator claims,
the fail-safe in indexer.failsafe masks anyway if it is long enough to be someone's number.
"""
from __future__ import annotations

import re

from indexer import digits as _digits
from indexer.number_kinds import PHONE as _PHONE
from indexer.number_kinds import classify as _classify
from indexer.number_kinds import date_ranges as _date_ranges
from indexer.checksums import luhn_ok, plausible_id18, valid_id15, valid_id18
from indexer.id_repair import misread_ids
from indexer.cued_numbers import CHECK_X as _CHECK_X
from indexer.cued_numbers import KIND_RANK as _KIND_RANK
from indexer.cued_numbers import MAX_GROUPS as _MAX_GROUPS
from indexer.cued_numbers import SEPARATORS as _SEPARATORS
from indexer.cued_numbers import PiiMatch
from indexer.cued_numbers import Unit as _Unit
from indexer.cued_numbers import cued_local as _cued_local
from indexer.cued_numbers import letter_spaced as _letter_spaced
from indexer.cued_numbers import stray_digit_id as _stray_digit_id
from indexer.vocab import PHONE_KINDS

__all__ = ["PiiMatch", "detect", "valid_id18", "valid_id15", "plausible_id18", "luhn_ok"]

# OCR confusions are only trusted between real digits; elsewhere they are ordinary letters.
_CONFUSABLE = {"O": 0, "o": 0, "D": 0, "I": 1, "l": 1, "|": 1, "Z": 2, "S": 5, "B": 8, "g": 9}
_MAX_CONFUSABLE_RUN = 2
# Up to this many separators (cued_numbers.SEPARATORS) between two digit groups keep them in
# the same run.
_MAX_SEPARATORS = 3
# Clause punctuation joins groups of 3-6 digits only (158:9747:6012, 6222，0212，…): a phone's,
# card's or ID's groups, never two whole numbers of a list (62751234，13812345678).
_WEAK = _digits.WEAK_SEPARATORS
_MAX_WEAK_GROUP = 6
_PLUS = frozenset("+\uff0b")
# Opening brackets as OCR reads them before an area code or a country code ((, （, 〈, <, 《, [).
_OPEN = "(\uff08\u3008<\u300a[\uff3b"
# "+86" with the plus read as a 4 (486 185 0617 2295): the prefix group before a mobile.
_PLUS_AS_FOUR = re.compile(r"(?<![\d\uff10-\uff19])4 ?86[ \-\u2014\uff0d]?$")
_MAX_DIGITS = 19  # longest thing we look for (bank cards); longer spans are never candidates
_MIN_DIGITS = 10  # shortest: a 3-digit area code plus a 7-digit local number
# A candidate spans at most cued_numbers.MAX_GROUPS groups, of which this many lone digits.
_MAX_LONE_DIGIT_GROUPS = 1
# Right after a card label ("卡号 6222 021 3 396 7 4806 659") OCR-split card numbers are taken
# with more stray spaces: the label says a long number follows, and Luhn still has to pass.
_CARD_CUES = ("卡号", "卡號", "账号", "帐号", "帳號", "银行卡", "銀行卡")
_CUE_WINDOW = 8
# A whole run of 16-19 digits right after a card label is that card even when Luhn fails: one
# misread digit breaks the check digit, and the label already says what the number is.
_CUED_CARD = re.compile(r"\d{16,19}")
_CUED_MAX_GROUPS = 10
_CUED_MAX_LONE_DIGIT_GROUPS = 4
_ID_MAX_GROUPS = 18


def _normalise(text: str) -> tuple[list[str | None], set[int]]:
    """Per-character digit view of text: '0'-'9', 'X' for a trailing ID check char, else None;
    plus the positions that separate groups although they are not separators (138一1234)."""
    norm, dashes = _digits.fold(text)
    folded = list(norm)

    def _digit_of(k: int) -> str | None:
        return folded[k]
    # Letter confusions only inside a digit run: a short run of look-alikes between two digits,
    # either directly or across one separator ("1381O 345678", "+86 l3812345678").
    def digit_near(k: int, step: int) -> bool:
        if step < 0 and 0 <= k < len(text) and text[k] in _OPEN:
            return True  # "(O571)": an opening bracket before an area code
        for _ in range(_MAX_SEPARATORS + 1):
            if not 0 <= k < len(text):
                return False
            if _digit_of(k) is not None:
                return True
            if text[k] not in _SEPARATORS and k not in dashes:
                return False
            k += step
        return False

    i = 0
    while i < len(text):
        if text[i] not in _CONFUSABLE:
            i += 1
            continue
        j = i
        while j < len(text) and text[j] in _CONFUSABLE:
            j += 1
        # …and glued to a digit on one side at least: a bar between spaces is a table's column
        # (21,010.96 | 58,375.57), not a 1.
        glued = (i > 0 and folded[i - 1] is not None) or (j < len(text) and folded[j] is not None)
        if j - i <= _MAX_CONFUSABLE_RUN and glued and digit_near(i - 1, -1) and digit_near(j, 1):
            for k in range(i, j):
                norm[k] = str(_CONFUSABLE[text[k]])
        i = j
    # An X directly after a digit and not followed by a letter or digit may end an 18-digit ID.
    for i, ch in enumerate(text):
        if ch in _CHECK_X and i > 0 and norm[i - 1] is not None and norm[i - 1] != "X":
            nxt = text[i + 1] if i + 1 < len(text) else ""
            if not (nxt and (norm[i + 1] is not None or (nxt.isascii() and nxt.isalpha()))):
                norm[i] = "X"
    return norm, dashes


def digit_view(text: str) -> tuple[list[str | None], set[int]]:
    """The digit view detection runs on: folded digits, OCR letter confusions between digits
    read as digits, 'X' for an ID check character; plus positions that separate groups."""
    return _normalise(text)


def _runs(text: str, norm: list[str | None], dashes: set[int]) -> list[list[list[_Unit]]]:
    """Maximal digit runs, each split into groups at single separators; an X ends its run."""
    runs: list[list[list[_Unit]]] = []
    i, n = 0, len(text)
    while i < n:
        if norm[i] is None or norm[i] == "X":
            i += 1
            continue
        groups: list[list[_Unit]] = [[]]
        while i < n:
            c = norm[i]
            if c == "X":
                groups[-1].append(_Unit("X", i))
                i += 1
                break
            if c is not None:
                groups[-1].append(_Unit(c, i))
                i += 1
            elif text[i] in _SEPARATORS or text[i] in _WEAK or i in dashes:
                j = _digits.gap_end(text, i, lambda k: text[k] in _SEPARATORS or text[k] in _WEAK
                                    or k in dashes, _MAX_SEPARATORS)
                if any(ch in _WEAK for ch in text[i:j]) and not _digits.weak_join(
                        text[i:j], len(groups[-1]), _ahead(norm, j), most=_MAX_WEAK_GROUP):
                    break
                if i < j < n and norm[j] is not None and norm[j] != "X":
                    groups.append([])
                    i = j
                else:
                    break
            else:
                break
        runs.append(groups)
    return runs


def _ahead(norm: list[str | None], j: int) -> int:
    k = j
    while k < len(norm) and norm[k] is not None and norm[k] != "X":
        k += 1
    return k - j


def _card_cue(text: str, pos: int) -> bool:
    before = "".join(text[max(0, pos - _CUE_WINDOW):pos].split())
    return any(cue in before for cue in _CARD_CUES)


def _candidates(text: str, groups: list[list[_Unit]]) -> list[tuple[int, int, PiiMatch]]:
    """Every validated span of whole groups in a run, with its ranking key."""
    found: list[tuple[int, int, PiiMatch]] = []
    dates = _date_ranges(text, groups)
    gaps = [""] + [text[groups[k - 1][-1].pos + 1:groups[k][0].pos] for k in range(1, len(groups))]
    # Across a cell wrap (a long indent) only the check digit of an ID is evidence enough; across
    # any line break, a whole mobile or ID on the next line is that number, not a card's tail.
    cell_wrap = {k for k, gap in enumerate(gaps) if len(gap) > _MAX_SEPARATORS and "\n" in gap}
    line_break = {k for k, gap in enumerate(gaps) if "\n" in gap}
    for first in range(len(groups)):
        units: list[_Unit] = []
        lone = 0
        cued = _card_cue(text, groups[first][0].pos)
        id_only = False
        for last in range(first, min(first + _ID_MAX_GROUPS, len(groups))):
            units = units + groups[last]
            lone += len(groups[last]) < 2
            # A card number is long enough to carry one more stray space than a phone.
            loose = lone > _MAX_LONE_DIGIT_GROUPS + (len(units) >= 16) or last - first >= _MAX_GROUPS
            id_only = id_only or (loose and not (cued and lone <= _CUED_MAX_LONE_DIGIT_GROUPS
                                                 and last - first < _CUED_MAX_GROUPS))
            if id_only:
                # Split by OCR's stray spaces (1 2 0 10 1194301043862) only an ID's check digit
                # still makes the digits one number.
                if len(units) > 18:
                    break
                digits = "".join(u.char for u in units)
                if len(digits) == 18 and valid_id18(digits):
                    found.append((18, _KIND_RANK["id_number"],
                                  PiiMatch("id_number", units[0].pos, units[-1].pos + 1, digits)))
                continue
            ends = [units]
            if units[-1].char == "X":
                # The X may also be a neighbouring letter rather than a check character.
                ends = [units, units[:-1]]
            for span in ends:
                digits = "".join(u.char for u in span)
                if len(digits) > _MAX_DIGITS or len(digits) < _MIN_DIGITS:
                    if not loose:
                        found.extend(_stray_digit_id(span, digits))
                    continue
                hit = _classify(digits, groups[first:last + 1])
                if hit is None and not loose:
                    stray = _stray_digit_id(span, digits)
                    found.extend(stray)
                    if not stray and cued and len(span) == len(units) and first == 0 and \
                            last == len(groups) - 1 and _CUED_CARD.fullmatch(digits):
                        hit = ("bank_card", digits)  # 卡号 then a whole card run OCR misread a digit of
                if hit is None or (loose and hit[0] != "bank_card"):
                    continue
                if hit[0] != "id_number" and any(a < first < b or a <= last < b - 1
                                                 for a, b in dates):
                    continue  # "2023-05-12 2023-06-01" holds no landline 0512 20230601
                inner = range(first + 1, last + 1)
                if hit[0] != "id_number" and any(k in cell_wrap and len(gaps[k]) > _digits.MAX_WRAP
                                                 for k in inner):
                    continue
                if hit[0] == "bank_card" and any(k in line_break and _whole_number(
                        "".join(u.char for g in groups[k:last + 1] for u in g)) for k in inner):
                    continue
                kind, value = hit
                start = span[0].pos
                if kind in PHONE_KINDS and value != digits and start > 0 and text[start - 1] in _PLUS:
                    start -= 1
                    if start > 0 and text[start - 1] in _OPEN:
                        start -= 1  # "(+86)139…": the bracket goes with the country code
                if kind == "phone" and value == digits and (plus := _PLUS_AS_FOUR.search(
                        text, max(0, start - 6), start)):
                    start = plus.start()
                if kind == "landline" and start > 0 and text[start - 1] in _OPEN:
                    start -= 1  # "(010)6275 1234": the bracket goes with the number
                found.append((len(digits), _KIND_RANK[kind],
                              PiiMatch(kind, start, span[-1].pos + 1, value)))
            if len(units) > _MAX_DIGITS + 1:
                break
    return found


def _whole_number(digits: str) -> bool:
    return bool(_PHONE.fullmatch(digits)) or valid_id18(digits)


def detect(text: str) -> list[PiiMatch]:
    """All identifiers in text, sorted by start and non-overlapping, longest first on conflict.

    Candidates start and end only at run edges or at separators, so digits glued to a number
    (a 20-digit reference, a phone with a stray digit) disqualify it, while grouped numbers
    ("6222 0212 3456 7890 123") and neighbours split off by a space or hyphen still match.
    """
    norm, dashes = _normalise(text)
    found: list[tuple[int, int, PiiMatch]] = []
    for groups in _runs(text, norm, dashes):
        seps = [""] + [text[groups[k - 1][-1].pos + 1:groups[k][0].pos] for k in range(1, len(groups))]
        if _digits.amount_shape([len(g) for g in groups], seps):
            continue  # 123,456,789: an amount in thousands
        found.extend(_candidates(text, groups))
        found.extend(_cued_local(text, groups))
        found.extend(_letter_spaced(text, norm, groups))
    found.extend((len(value), _KIND_RANK["id_number"], PiiMatch("id_number", a, b, value))
                 for a, b, value in misread_ids(text))
    found.sort(key=lambda c: (-c[0], c[1], c[2].start))
    chosen: list[PiiMatch] = []
    for _, _, match in found:
        if all(match.end <= m.start or match.start >= m.end for m in chosen):
            chosen.append(match)
    return sorted(chosen, key=lambda m: m.start)
