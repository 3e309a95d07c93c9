"""What the vault holds for a page: the unredacted text and where the PII in it is.

Keeping the detected spans (inside the ciphertext) lets an unmask show exactly the kinds a grant
allows and mask the rest the same way the index did, without re-running detection. Pages stored
before spans were kept (plain text) fall back to the pattern detectors.
"""
from __future__ import annotations

import json

from indexer.pii import PiiMatch, detect
from indexer.types import PreparedPage

_VERSION = 2


def encode_secret(page: PreparedPage) -> bytes:
    return json.dumps({"v": _VERSION, "text": page.raw_text,
                       "pii": [[m.kind, m.start, m.end, m.value] for m in page.pii]},
                      ensure_ascii=False).encode()


def decode_secret(plaintext: bytes) -> tuple[str, list[PiiMatch]]:
    try:
        data = json.loads(plaintext)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("v") == _VERSION:
        return data["text"], [PiiMatch(k, s, e, v) for k, s, e, v in data["pii"]]
    text = plaintext.decode()
    return text, detect(text)
