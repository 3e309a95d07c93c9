"""Check digits and plausibility of Chinese identity numbers (GB 11643) and card numbers (Luhn).

Validation is what lets the number detectors mask a real ID or card without masking every long
number as one: an OCR misread usually breaks the checksum, a random number usually fails it.
"""
from __future__ import annotations

import datetime as _dt

__all__ = ["id_check_char", "luhn_ok", "plausible_id18", "valid_id15", "valid_id18"]

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_PROVINCES = frozenset(
    [*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55),
     *range(61, 66), 71, 81, 82, 83, 91]
)


def _valid_date(year: int, month: int, day: int) -> bool:
    try:
        born = _dt.date(year, month, day)
    except ValueError:
        return False
    return _dt.date(1900, 1, 1) <= born <= _dt.date.today()


def id_check_char(body17: str) -> str:
    """The GB 11643-1999 check character of the first 17 digits of an ID number."""
    return _ID_CHECK[sum(int(d) * w for d, w in zip(body17, _ID_WEIGHTS)) % 11]


def valid_id18(value: str) -> bool:
    """GB 11643-1999 check: the checksum catches most OCR misreads, region and date the rest."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    check = value[17].upper()
    if check not in _ID_CHECK:
        return False
    if int(value[:2]) not in _PROVINCES:
        return False
    if not _valid_date(int(value[6:10]), int(value[10:12]), int(value[12:14])):
        return False
    return id_check_char(value[:17]) == check


def plausible_id18(value: str) -> bool:
    """Region and birth date valid, checksum ignored: an ID with one misread digit still is one."""
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    if value[17].upper() not in _ID_CHECK or int(value[:2]) not in _PROVINCES:
        return False
    return _valid_date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def valid_id15(value: str) -> bool:
    """Legacy IDs have no checksum, so region and a real 19YY birth date are all we can check."""
    if len(value) != 15 or not value.isascii() or not value.isdigit():
        return False
    if int(value[:2]) not in _PROVINCES:
        return False
    return _valid_date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))


def luhn_ok(value: str) -> bool:
    """Card numbers carry a Luhn digit; requiring it keeps arbitrary long numbers searchable."""
    if not value or not value.isascii() or not value.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0
