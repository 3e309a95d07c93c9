"""jieba segmentation for the precision field; the dictionary loads once per process."""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from pathlib import Path

import jieba

USER_DICT = Path(__file__).with_name("data") / "userdict.txt"
_KEEP = re.compile(r"[\w\u3400-\u9fff]", re.UNICODE)


@lru_cache(maxsize=1)
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.load_userdict(str(USER_DICT))
    tok.initialize()
    return tok


def search_tokens(text: str) -> list[str]:
    """Search-mode tokens (long words plus their sub-words); masks and punctuation dropped."""
    return [t for t in _tokenizer().cut_for_search(text)
            if t.strip() and _KEEP.search(t) and set(t) != {"*"}]


def pretokenized(text: str) -> str:
    return " ".join(search_tokens(text))
