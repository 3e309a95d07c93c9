"""Chinese names written in Latin letters (Zhang Wei, WANG Xiaoming, Li Na, Ouyang Nana).

Forms, passports and English-language attachments spell names in pinyin; the Han-character
detectors never see them. A pinyin name is a surname syllable (data/surname_pinyin.txt, the
pinyin of every surname in surnames.txt) followed by one or two given-name words, each one or
two pinyin syllables (data/pinyin_syllables.txt), every word capitalised or in capitals (or,
in passport order, given names first and the surname in capitals: Xiaoming WANG). Many
English words are also pinyin (He, Long, Man, Pan, Ping); a pair made only of such words needs
a cue (姓名, Name:, a role word) before it, so "He Long" in an English sentence stays, while
"姓名：He Long" does not.
"""
from __future__ import annotations

import functools
import re

from indexer import cues
from indexer.name_data import lines as _lines
from indexer.pii import PiiMatch

__all__ = ["find_pinyin_names"]

_WORD = r"(?:[A-Z][a-z]{0,11}(?:-[a-z]{1,6})?|[A-Z]{2,12}(?:-[A-Z]{1,6})?)"  # Jian-guo
_CANDIDATE = re.compile(rf"(?<![A-Za-z]){_WORD}(?:[ \-]{_WORD}){{1,2}}(?![A-Za-z])")
# English words that are also pinyin syllables (or two): ordinary in English prose.
_ENGLISH = frozenset(
    "a an ai he she me ma pa long men man pan fan tan ban ran pin ping bin die tie lie pie hen "
    "ken pen bang gang hang dong ding gong song sun wan tang sang lang you mao bo lee sue gun "
    "chin china hui lou mini nina lane line dune tune ta bite gene hong kong".split())
_CUE = re.compile(rf"(?:姓名|名字|拼音|英文名|Name|NAME|name|{'|'.join(cues.ROLE_CUES)})"
                  r"[：:\s(（]{0,3}$")


@functools.lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    return _lines("pinyin_syllables.txt")


@functools.lru_cache(maxsize=1)
def _surnames() -> frozenset[str]:
    return _lines("surname_pinyin.txt")


def _given(word: str) -> bool:
    """One or two pinyin syllables (Wei, Xiaoming, Nana)."""
    w, syl = word.lower().replace("-", ""), _syllables()
    return w in syl or any(w[:k] in syl and w[k:] in syl for k in range(1, len(w)))


def find_pinyin_names(text: str) -> list[PiiMatch]:
    """Pinyin names in `text`; value lower-cased, parts joined by one space."""
    out = []
    for m in _CANDIDATE.finditer(text):
        words = re.split(r" |-(?=[A-Z][a-z])", m.group())
        surname, given = words[0], words[1:]
        if surname.lower() not in _surnames() or not all(_given(w) for w in given):
            # Western order with the surname in capitals, as passports print it: Xiaoming WANG.
            surname, given = words[-1], words[:-1]
            if (not surname.isupper() or surname.lower() not in _surnames()
                    or not all(_given(w) and not w.isupper() for w in given)):
                continue
        if all(w.lower() in _ENGLISH for w in words) and not _CUE.search(text, 0, m.start()):
            continue
        out.append(PiiMatch("name", m.start(), m.end(), " ".join(w.lower() for w in words)))
    return out
