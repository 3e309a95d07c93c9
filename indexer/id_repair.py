"""ID numbers with one character OCR misread as a non-digit (生10106200202260165 for
110106200202260165, 1101旨5…): the digit detectors see a 17-digit run, or two runs
split by the misread character, and neither is any number; the fail-safe then masks the digits
but leaves the misread character, and the strict span of the ID is not found.

The check digit is what makes a repair safe: a candidate counts only when one digit put in the
misread character's place gives an 18-digit number whose region, birth date and check digit
all validate (indexer.checksums.valid_id18), and the character is a CJK character, a letter or
a stroke-like mark (+ for a 1) — what OCR makes of a digit — never a space or a separator between
two numbers.
"""
from __future__ import annotations

import re

from indexer.checksums import valid_id15, valid_id18

__all__ = ["misread_ids"]

# What OCR makes of a digit: a CJK character, a letter, or a stroke-like mark (+ for 1 or 4, |,
# !, ], ?); never a separator or clause mark between two numbers (space, -, ., :, ，).
_MISREAD = r"[\u4e00-\u9fffA-Za-z+\uff0b|!\uff01?\uff1f\[\]\uff3b\uff3d{}()\uff08\uff09$&*%]"
# The misread character first (生1010…, whatever OCR glued before it: 人人3生1010…), or inside
# the run (1101旨5…); the last character of an ID may be X.
_FIRST = re.compile(rf"{_MISREAD}(?=(\d{{16}}[\dXx])(?![0-9A-Za-z]))")
_INSIDE = re.compile(rf"(?<![0-9A-Za-z])(\d{{1,16}})({_MISREAD})(\d{{1,16}}[Xx]?)(?![0-9A-Za-z])")
# The check character X set off by a space OCR put before it (13052819460829749 x in a table
# cell): the digit detectors see 17 digits and a letter. Only the check digit joins them.
_SPLIT_X = re.compile(r"(?<![0-9A-Za-z])(\d{17})[ \u3000]{1,2}[Xx](?![0-9A-Za-z])")


def misread_ids(text: str) -> list[tuple[int, int, str]]:
    """(start, end, repaired 18-character ID) for every ID with one misread character, or with
    its check character X set off by a space."""
    out = []
    for m in _FIRST.finditer(text):
        rest = m.group(1).upper()
        fixes = [d + rest for d in "12345678" if valid_id18(d + rest)]
        if len(fixes) == 1:  # one reading only: an ambiguous repair is no evidence
            out.append((m.start(), m.start() + 18, fixes[0]))
    for m in _INSIDE.finditer(text):
        left, right = m.group(1), m.group(3).upper()
        if len(left) + len(right) != 17:
            continue
        fixes = [left + d + right for d in "0123456789" if valid_id18(left + d + right)]
        if len(fixes) == 1:
            out.append((m.start(), m.end(), fixes[0]))
    for m in _SPLIT_X.finditer(text):
        if valid_id18(m.group(1) + "X"):
            out.append((m.start(), m.end(), m.group(1) + "X"))
    out += _cued_id15(text)
    return out


# A 15-digit ID (no check digit) glued to one or two stray digits right after an ID label
# (身份证号码:1101066304286595, the stray 5 a smudge): its region and birth date must validate,
# and only the label makes the 15 digits an ID at all.
_ID_LABEL = re.compile(r"(?:身份证|身份證|公民身份)(?:号码|號碼|号|號)?[:：\s]{0,3}(?=(\d{16,17})(?!\d))")


def _cued_id15(text: str) -> list[tuple[int, int, str]]:
    out = []
    for m in _ID_LABEL.finditer(text):
        run = m.group(1)
        if valid_id15(run[:15]) and not valid_id18(run[:18]):
            out.append((m.end(), m.end() + 15, run[:15]))
    return out
