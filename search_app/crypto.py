"""Encryption at rest (AES-GCM) and the keyed blind index (HMAC-SHA256).

Ciphertexts carry their key id so a key can be rotated without guessing which key wrote what:
layout is b"v1:" + key_id + b":" + nonce(12) + ciphertext||tag. `aad` binds a ciphertext to
its record (e.g. the page id) so a blob cannot be swapped onto another record.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from collections.abc import Mapping
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from indexer.identity import canonical_id, fold_name, person_value

if TYPE_CHECKING:
    from search_app.keystore import KeyStore

_PREFIX = b"v1:"


class DecryptError(RuntimeError):
    pass


class Vault:
    def __init__(self, keys: Mapping[str, bytes], current_key_id: str, blind_key: bytes, *,
                 keystore: KeyStore | None = None, master: Vault | None = None) -> None:
        if current_key_id not in keys:
            raise ValueError(f"current key id {current_key_id!r} has no key")
        self._keys = dict(keys)
        self.current_key_id = current_key_id
        self._blind_key = blind_key
        self.keystore = keystore
        self._master = master or self  # what unwraps file keys (a file's vault keeps its master)

    def for_file(self, archive_no: str) -> Vault:
        """The vault that encrypts this file's data under the file's own data key (envelope
        encryption, search_app.keystore); without a key store, this vault itself."""
        if self.keystore is None or not archive_no:
            return self
        master = self._master
        kid, key = self.keystore.get_or_create(archive_no, master)
        return Vault({**master._keys, kid: key}, kid, self._blind_key, keystore=self.keystore,
                     master=master)

    def encrypt(self, plaintext: bytes, *, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        ct = AESGCM(self._keys[self.current_key_id]).encrypt(nonce, plaintext, aad)
        return _PREFIX + self.current_key_id.encode() + b":" + nonce + ct

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def decrypt(self, blob: bytes, *, aad: bytes) -> bytes:
        key_id, rest = _split(blob)
        key = self._keys.get(key_id)
        if key is None and self.keystore is not None and key_id.startswith("f-"):
            key = self.keystore.unwrap(key_id, self._master)  # KeyDestroyed once destroyed
        if key is None:
            raise DecryptError(f"no key for key id {key_id!r}")
        try:
            return AESGCM(key).decrypt(rest[:12], rest[12:], aad)
        except Exception as exc:  # InvalidTag: wrong key, wrong aad or tampered data
            raise DecryptError("ciphertext failed authentication") from exc

    def blind_index(self, kind: str, value: str) -> str:
        """Keyed hash of a canonical PII value: exact look-up without storing the value.

        Canonicalisation lives here so that no caller can hash a different form of the same
        value: ID numbers in their 18-digit form (a 15-digit number and its 18-digit successor
        are one term), names width/script/space folded, "person" values as folded name plus
        birth date. 18-digit numbers hash exactly as before the 15-digit folding was added."""
        if kind == "id_number":
            norm = canonical_id(value)
        elif kind == "name":
            norm = fold_name(value)
        elif kind == "person":
            name, sep, born = value.rpartition("|")
            canon = person_value(name, born) if sep else None
            if canon is None:
                raise ValueError("a person value is \"name|YYYYMMDD\" (see indexer.identity)")
            norm = canon
        else:  # numbers: "138-0013-8000" and "13800138000" are one value
            norm = unicodedata.normalize("NFKC", value).strip().upper()
            norm = "".join(ch for ch in norm if ch.isalnum())
        return hmac.new(self._blind_key, f"{kind}:{norm}".encode(), hashlib.sha256).hexdigest()

    def person_index(self, name: str, id_number: str) -> str | None:
        """The (name, birth date) term of someone registered with this ID number, or None when
        the name or a real birth date is missing."""
        value = person_value(name, id_number)
        return self.blind_index("person", value) if value else None

def _split(blob: bytes) -> tuple[str, bytes]:
    if not blob.startswith(_PREFIX):
        raise DecryptError("unknown ciphertext format")
    raw_id, sep, rest = blob[len(_PREFIX):].partition(b":")
    if not sep:
        raise DecryptError("ciphertext header has no key id")
    return raw_id.decode(errors="replace"), rest


def key_id_of(blob: bytes) -> str:
    """The id of the key that wrote `blob` (read from its header; nothing is decrypted)."""
    return _split(blob)[0]


def vault_from_config(config: Mapping) -> Vault:
    """The current key encrypts; retired keys (ARCHIVE_DATA_OLD_KEYS) only still decrypt; file
    data keys (KEY_STORE_DIR) are unwrapped by these on demand, never cached: a key destroyed
    in one process is gone for every other at its next read."""
    from search_app.keystore import KeyStore

    keys = dict(config.get("ARCHIVE_DATA_OLD_KEYS") or {})
    keys[config["ARCHIVE_DATA_KEY_ID"]] = config["ARCHIVE_DATA_KEY"]
    store = KeyStore(config["KEY_STORE_DIR"]) if config.get("KEY_STORE_DIR") else None
    return Vault(keys, config["ARCHIVE_DATA_KEY_ID"], config["ARCHIVE_BLIND_INDEX_KEY"],
                 keystore=store)
