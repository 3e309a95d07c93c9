"""Digit runs that are a number for a reason other than their shape alone (indexer.pii): a
local number or a partly read mobile right after a phone cue, an ID spaced out digit by digit,
an ID with stray digits glued on. Also the match type the detectors share."""
from __future__ import annotations

import re
from dataclasses import dataclass

from indexer import digits as _digits
from indexer.checksums import valid_id18
from indexer.number_kinds import PHONE as _PHONE
from indexer.vocab import OVERLAP_PRECEDENCE

# Up to three (indexer.pii) of these between two digit groups keep them in the same run
# ("1381 234 5678", "139 — 8765 — 4321", "138.1234.5678", an ID wrapped onto the next line,
# "(010)62751234" after an area code).
SEPARATORS = _digits.SEPARATORS | frozenset(")\uff09")
CHECK_X = frozenset("Xx\uff38\uff58\u00d7")
# Real groupings have 2-5 groups ("6222 0212 3456 7890 123"); OCR adds the odd stray space.
# Rows of single digits or many short numbers ("1 3 8 1 2 ...", a table of scores) are not one
# number, so a candidate may span at most this many groups, of which one may be a lone digit.
MAX_GROUPS = 7

# A local number without area code (住宅电话：6275 1234) is only a landline after a phone cue;
# without one the fail-safe (indexer.failsafe) still masks it as a bare number.
_PHONE_CUE = re.compile(
    r"(?:电话|電話|宅电|宅電|座机|座機|固话|固話|传真|傳真|手机|手機|分机|分機|联系方式|聯繫方式|"
    r"联系方法|聯繫方法|tel|TEL|Tel|"
    r"Phone|phone)(?:号码|號碼|号|號)?(?:是|为|為)?[：:\s()（）]{0,3}$")
# Among overlapping candidates the longer one wins; on equal length, the more specific kind.
KIND_RANK = {kind: rank for rank, kind in enumerate(OVERLAP_PRECEDENCE)}
_SHORT_LOCAL = re.compile(r"[2-9]\d{6,7}")
_SHORT_MOBILE = re.compile(r"1[3-9]\d{7,8}")
# …and one of twelve: OCR read one digit twice (一八九一八OD八O五二九, a 〇 read as O and D).
_LONG_MOBILE = re.compile(r"1[3-9]\d{10}")


@dataclass(frozen=True)
class PiiMatch:
    """One identifier: where it sits in the input and its canonical value for the blind index."""

    kind: str
    start: int
    end: int
    value: str


@dataclass(frozen=True)
class Unit:
    """One normalised character of a digit run and where it came from in the text."""

    char: str
    pos: int


def stray_digit_id(span: list[Unit], digits: str) -> list[tuple[int, int, PiiMatch]]:
    """An 18-digit ID number OCR glued one or two stray digits to (59520102196003080382: a
    colon read as 59): the valid ID inside the run, if the run as a whole is nothing. The check
    digit makes a chance hit rare (a 15-digit ID has none: 编号4319350141126015 would pass its
    region and date, so it is left to the fail-safe), and the stray digits alone are too short
    to be anyone's number."""
    n = len(digits)
    if not 16 <= n <= 20:
        return []
    for left in range(3):
        for right in range(3):
            body = digits[left:n - right]
            if not (left or right) or "X" in body[:-1]:
                continue
            if len(body) == 18 and valid_id18(body):
                match = PiiMatch("id_number", span[left].pos, span[n - right - 1].pos + 1, body)
                return [(len(body), KIND_RANK["id_number"], match)]
    return []


def cued_local(text: str, groups: list[list[Unit]]) -> list[tuple[int, int, PiiMatch]]:
    """A whole run of 7-8 digits right after a phone cue is a local landline (宅电 62751234);
    a whole run of nine or ten that reads like a mobile there is one OCR dropped a digit or two
    of (手机1391234567; the character glued after the tenth digit is most likely its misread
    eleventh), of twelve one it read a digit of twice: masked as the phone it was, not as an
    anonymous number. Never a landline: local numbers do not start with 1."""
    units = [u for g in groups for u in g]
    digits = "".join(u.char for u in units)
    start = units[0].pos
    kind = ("landline" if _SHORT_LOCAL.fullmatch(digits) else
            "phone" if _SHORT_MOBILE.fullmatch(digits) or _LONG_MOBILE.fullmatch(digits) else "")
    # A mobile spaced out digit by digit (1 3 0 1 2 6 6 6 4 0 1, as OCR spaces a wide font):
    # too many lone groups for an ordinary candidate, one number after a phone cue.
    if not kind and len(groups) > MAX_GROUPS and _PHONE.fullmatch(digits):
        kind = "phone"
    if not kind or not _PHONE_CUE.search(text, max(0, start - 12), start):
        return []
    end = units[-1].pos + 1
    # 一八七一一一八五一五:，or 一八一七“三一七九七養: ten digits or misread digits, then the
    # eleventh read as a mark or a character.
    at = {u.pos for u in units}
    read = len(units) + sum(k not in at and not text[k].isspace() and text[k] not in SEPARATORS
                            for k in range(start, end))
    if kind == "phone" and read == 10 and end < len(text) and _misread_digit(text[end]):
        end += 1
    return [(len(digits), KIND_RANK[kind], PiiMatch(kind, start, end, digits))]


def _misread_digit(ch: str) -> bool:
    """Whether ch, glued to the end of a mobile OCR read ten digits of, may be its eleventh."""
    return not ch.isspace() and not (ch.isascii() and ch.isalnum())


def letter_spaced(text: str, norm: list[str | None], groups: list[list[Unit]]) -> list[tuple[int, int, PiiMatch]]:
    """An 18-digit ID spaced out digit by digit (4 1 1 7 2 3 1 9 9 1 …, a form's boxes or a
    text layer's letter spacing): too many lone groups for an ordinary candidate, so a stretch
    of lone digits one space apart is the ID if its check digit validates (a check character X
    may stand one space after the last digit). Spaced mobiles have no check digit: only after a
    cue (_cued_local)."""
    out: list[tuple[int, int, PiiMatch]] = []
    stretch: list[Unit] = []
    for g in [*groups, []]:
        if len(g) == 1 and (not stretch or text[stretch[-1].pos + 1:g[0].pos] == " "):
            stretch.append(g[0])
            continue
        out.extend(_spaced_id(text, stretch))
        stretch = list(g) if len(g) == 1 else []
    return out


def _spaced_id(text: str, units: list[Unit]) -> list[tuple[int, int, PiiMatch]]:
    if len(units) not in (17, 18):
        return []
    end = units[-1].pos + 1
    digits = "".join(u.char for u in units)
    if (len(digits) == 17 and text[end:end + 1] == " " and text[end + 1:end + 2] in CHECK_X
            and not (text[end + 2:end + 3].isascii() and text[end + 2:end + 3].isalnum())):
        digits, end = digits + "X", end + 2
    if not valid_id18(digits):
        return []
    return [(len(digits), KIND_RANK["id_number"], PiiMatch("id_number", units[0].pos, end, digits))]
