"""The word lists the name detectors rely on (indexer/data/*.txt), loaded once per process.

Lists, not code: a reviewer adds a surname, a stop word or a place to a text file, with the
source of the list in its header, instead of changing a detector.
"""
from __future__ import annotations

import functools
from pathlib import Path

__all__ = ["compound_surnames", "divisions", "is_surname", "lines", "stopwords", "surname_len"]

_DATA = Path(__file__).resolve().parent / "data"


def lines(name: str) -> frozenset[str]:
    text = (_DATA / name).read_text(encoding="utf-8")
    return frozenset(s for line in text.splitlines() if (s := line.strip()) and s[0] != "#")


@functools.lru_cache(maxsize=1)
def _surnames() -> tuple[frozenset[str], frozenset[str]]:
    words = lines("surnames.txt")
    return (frozenset(w for w in words if len(w) == 1), frozenset(w for w in words if len(w) == 2))


@functools.lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    return lines("name_stopwords.txt")


@functools.lru_cache(maxsize=1)
def divisions() -> frozenset[str]:
    return lines("admin_divisions.txt")


def compound_surnames() -> frozenset[str]:
    return _surnames()[1]


def surname_len(word: str) -> int:
    """Length of the surname word starts with (compound first), 0 if none."""
    single, double = _surnames()
    if len(word) >= 3 and word[:2] in double:
        return 2
    return 1 if word[:1] in single else 0


def is_surname(word: str) -> bool:
    single, double = _surnames()
    return word in single or word in double
