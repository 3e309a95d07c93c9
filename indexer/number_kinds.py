"""What a validated digit run is (indexer.pii): an ID number, a bank card, a mobile or a landline.

Kept apart from the run finder in indexer.pii so each reads as one rule: the finder decides which
characters form a number, this module only which kind of number a span of whole groups is.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from indexer import digits as _digits
from indexer.checksums import luhn_ok, valid_id15, valid_id18

__all__ = ["AREA_CODE", "LOCAL_NUMBER", "PHONE", "classify", "date_ranges"]

PHONE = re.compile(r"1[3-9]\d{9}")
# Real area codes are 010, 02x or 0[3-9]xx; local numbers never start with 0 or 1.
AREA_CODE = re.compile(r"0(?:10|2\d|[3-9]\d\d)")
LOCAL_NUMBER = re.compile(r"[2-9]\d{6,7}")


class Unit(Protocol):
    """One normalised character of a digit run (indexer.cued_numbers.Unit)."""

    char: str
    pos: int


def _dates_only(digits: str, groups: Sequence[Sequence[Unit]]) -> bool:
    """Dates written next to each other (2023-05-12 20230512) are no card, Luhn or not."""
    parts, k = [], 0
    for g in groups:
        parts.append(digits[k:k + len(g)])
        k += len(g)
    return len(parts) > 1 and _digits.all_dates(parts, ["", *["-"] * (len(parts) - 1)])


def classify(digits: str, groups: Sequence[Sequence[Unit]]) -> tuple[str, str] | None:
    """Kind and canonical value of one candidate span, or None if nothing validates."""
    n = len(digits)
    if digits.endswith("X"):
        return ("id_number", digits) if valid_id18(digits) else None
    if n == 18 and valid_id18(digits):
        return "id_number", digits
    if n == 15 and valid_id15(digits):
        return "id_number", digits
    # Any BIN: UnionPay cards start with 62, but 9558…, 3xxx and private-label cards exist too.
    if 16 <= n <= 19 and luhn_ok(digits) and not _dates_only(digits, groups):
        return "bank_card", digits
    for prefix in ("", "86", "0086"):
        body = digits[len(prefix):]
        if n == 11 + len(prefix) and digits.startswith(prefix) and PHONE.fullmatch(body):
            return "phone", body
    # +86 before a landline drops the area code's 0 (+86-456-7310393): the country code is its
    # own group, the area code the next.
    for prefix in ("86", "0086"):
        if len(groups) > 2 and len(groups[0]) == len(prefix) and digits.startswith(prefix):
            area = "0" + digits[len(prefix):len(prefix) + len(groups[1])]
            local = digits[len(prefix) + len(groups[1]):]
            if AREA_CODE.fullmatch(area) and LOCAL_NUMBER.fullmatch(local):
                return "landline", area + local
    # The area code ends at a group boundary, though a stray space may split it ("075 5-8290…").
    cut = 0
    for group in groups[:-1]:
        cut += len(group)
        if AREA_CODE.fullmatch(digits[:cut]) and LOCAL_NUMBER.fullmatch(digits[cut:]):
            return "landline", digits
    # Written without a separator (02327798695): area codes are prefix-free (010 and 02x have
    # three digits, every other one four), so the cut is unambiguous.
    if len(groups) == 1 and digits[:1] == "0":
        cut = 3 if digits[1] in "12" else 4
        if AREA_CODE.fullmatch(digits[:cut]) and LOCAL_NUMBER.fullmatch(digits[cut:]):
            return "landline", digits
    return None


def date_ranges(text: str, groups: Sequence[Sequence[Unit]]) -> list[tuple[int, int]]:
    """Group ranges [a, b) of a run that are a date written in several groups (2023-05-12)."""
    values = ["".join(u.char for u in g) for g in groups]
    seps = [""] + [text[groups[k - 1][-1].pos + 1:groups[k][0].pos] for k in range(1, len(groups))]
    out, i = [], 0
    while i < len(groups):
        k = _digits.date_units(values, seps, i) if values[i].isdigit() else 0
        if k > 1:
            out.append((i, i + k))
        i += k or 1
    return out
