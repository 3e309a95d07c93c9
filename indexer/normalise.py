"""Width folding and traditional→simplified folding for the search fields (display keeps originals)."""
from __future__ import annotations

import unicodedata
from functools import lru_cache

import opencc


@lru_cache(maxsize=1)
def _t2s() -> opencc.OpenCC:
    return opencc.OpenCC("t2s")


def fold_width(text: str) -> str:
    """Full-width Latin letters, digits and punctuation to half-width (NFKC), CJK unchanged."""
    return unicodedata.normalize("NFKC", text)


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def for_search(text: str) -> str:
    """What the search fields hold and what queries are folded to, so 檔案 finds 档案 and ＡＢ finds ab."""
    return to_simplified(fold_width(text)).lower()
