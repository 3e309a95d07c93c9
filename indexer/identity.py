"""Canonical forms of a person's identity, so one person hashes to one blind-index term.

Old files carry the 15-digit ID number (GB 11643-1989), newer ones the 18-digit form; a reader
registered under one form must still be excluded from files that carry the other, and a look-up
by either form must find both. Every ID number is therefore turned into its 18-digit form
before it is hashed (search_app.crypto.Vault.blind_index does it, so no caller can forget).
A file may also name its subject only by name and birth date; `person_value` is the canonical
(folded name, birth date) pair that both the reader's registration and the index hash.
Pure functions: no keys, no storage.
"""
from __future__ import annotations

import datetime as _dt
import unicodedata
from collections.abc import Iterable

from indexer import normalise
from indexer.checksums import id_check_char
from indexer.pii import PiiMatch

__all__ = ["canonical_id", "id15_to_id18", "birth_date", "fold_name", "person_value",
           "page_person_pairs"]

# A name "next to" an ID number: at most this many characters before it ("姓名：李四 性别：男
# 民族：汉 公民身份号码：…"), or right after it on the same line ("110105… 李四").
_NAME_BEFORE = 32
_NAME_AFTER = 6


def _digits(value: str) -> str:
    norm = unicodedata.normalize("NFKC", value).strip().upper()
    return "".join(ch for ch in norm if ch.isalnum())


def id15_to_id18(id15: str) -> str:
    """The 18-digit form of a 15-digit number: "19" before the two-digit year, then the
    GB 11643-1999 check character over the 17 digits."""
    if len(id15) != 15 or not id15.isascii() or not id15.isdigit():
        raise ValueError("not a 15-digit ID number")
    body = id15[:6] + "19" + id15[6:]
    return body + id_check_char(body)


def canonical_id(value: str) -> str:
    """Separators, widths and case folded; a 15-digit number in its 18-digit form. Anything
    else (an 18-digit number with a bad checksum, a typo) is returned folded but unchanged, so
    it still hashes consistently with the same typo elsewhere."""
    digits = _digits(value)
    if len(digits) == 15 and digits.isascii() and digits.isdigit():
        return id15_to_id18(digits)
    return digits


def birth_date(id_number: str) -> str | None:
    """YYYYMMDD from a 15- or 18-digit ID number, or None when it holds no real date."""
    canon = canonical_id(id_number)
    if len(canon) != 18 or not canon[:17].isascii() or not canon[:17].isdigit():
        return None
    raw = canon[6:14]
    try:
        born = _dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
    except ValueError:
        return None
    return raw if _dt.date(1900, 1, 1) <= born <= _dt.date.today() else None


def fold_name(name: str) -> str:
    """Width, whitespace and script folded: 張偉, "张 伟" and 张伟 are one name."""
    norm = normalise.to_simplified(unicodedata.normalize("NFKC", name)).strip().upper()
    return "".join(norm.split())


def person_value(name: str, id_or_birth: str) -> str | None:
    """The canonical "name|YYYYMMDD" blind-index value, or None when either part is missing.
    `id_or_birth` is an ID number (either form) or an 8-digit date."""
    folded = fold_name(name)
    digits = _digits(id_or_birth)
    born = digits if len(digits) == 8 and digits.isdigit() else birth_date(id_or_birth)
    if len(folded) < 2 or not born:
        return None
    return f"{folded}|{born}"


def page_person_pairs(text: str, matches: Iterable[PiiMatch]) -> list[str]:
    """(name, birth date) values for people a page names with an ID number next to them.

    For each ID number: the nearest name ending before it (within _NAME_BEFORE characters,
    not counting whitespace, across at most one line break - forms and text layers wrap
    "公民身份号\n码" - and with no other ID number in between), and a name starting right after
    it on the same line ("110105… 李四"). Both are taken when both exist: a wrong pair joins
    one person's name to another's birth date, which excludes a page only from a reader with
    exactly that name *and* birth date; a missed pair would leak the reader's own file.
    """
    found = sorted(matches, key=lambda m: m.start)
    ids = [m for m in found if m.kind == "id_number"]
    names = [m for m in found if m.kind == "name"]
    out: set[str] = set()
    for idm in ids:
        picks = []
        before = [n for n in names if n.end <= idm.start
                  and len("".join(text[n.end:idm.start].split())) <= _NAME_BEFORE
                  and text[n.end:idm.start].count("\n") <= 1
                  and not any(n.end <= o.start < idm.start for o in ids)]
        if before:
            picks.append(before[-1])
        picks += [n for n in names if n.start >= idm.end and n.start - idm.end <= _NAME_AFTER
                  and "\n" not in text[idm.end:n.start]][:1]
        for pick in picks:
            value = person_value(text[pick.start:pick.end], idm.value)
            if value:
                out.add(value)
    return sorted(out)
