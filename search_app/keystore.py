"""Per-file data keys (envelope encryption) kept outside the database and outside the backups.

Why: destroying a file (鉴定销毁) must also make the copies of its ciphertexts in older backups
unreadable. Each file (档号) gets its own random AES-256 data key; its page texts, versions,
manifest row, page images and original scan are encrypted under that key, and the key is stored
only here, wrapped (AES-GCM) by the master key ARCHIVE_DATA_KEY. Destroying the file deletes
this one small file: every ciphertext under the key, wherever a copy of it lives, is then noise.

The store is a directory (KEY_STORE_DIR, 0700, not under BLOB_DIR): `flask backup` never copies
it, and a restore leaves it as it is, so a restored database brings back ciphertexts but never
the key of a file destroyed since. A destroyed key leaves a tombstone (destroyed/<kid>.json: the
destruction register row, no key material), which is how a restore re-applies destructions and
how a re-ingest of a destroyed 档号 is refused. Layout: <kid[2:4]>/<kid>.key holds the wrapped key
(b"v1:<master key id>:" + nonce + ciphertext, aad names the kid), so rotating the master key
re-wraps these files only (rotation.py), never the data.

Limits (docs/security.md): the store must be on durable, replicated storage of its own; if it
is backed up, those copies hold the keys of files destroyed later, until they expire. Deleting
a file does not scrub the disk blocks it used (a key file is overwritten before the unlink, which
a copy-on-write filesystem or an SSD may not honour).
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from search_app.crypto import DecryptError

if TYPE_CHECKING:
    from search_app.crypto import Vault

FILE_KEY_PREFIX = "f-"
TOMBSTONES = "destroyed"


class KeyDestroyed(DecryptError):
    """The file's data key was destroyed (the file is in the destruction register)."""


def file_key_id(archive_no: str) -> str:
    """The key id of a file: derived from its 档号 (which never changes), 26 characters."""
    return FILE_KEY_PREFIX + hashlib.sha256(f"file-key:{archive_no}".encode()).hexdigest()[:24]


def file_of_doc(doc_id: str) -> str:
    """The 档号 of a page id (indexer.vocab.doc_id)."""
    from indexer.vocab import archive_of

    return archive_of(doc_id)


def _wrap_aad(kid: str) -> bytes:
    return f"file-key:v1:{kid}".encode()


class KeyStore:
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def key_path(self, kid: str) -> Path:
        return self.root / kid[2:4] / f"{kid}.key"

    def tombstone(self, kid: str) -> Path:
        return self.root / TOMBSTONES / f"{kid}.json"

    def is_destroyed(self, archive_no: str) -> bool:
        return self.tombstone(file_key_id(archive_no)).exists()

    def get_or_create(self, archive_no: str, master: Vault) -> tuple[str, bytes]:
        """(kid, data key) of this file, made on first use. Two workers creating it at once
        agree: the key file is linked into place only if absent, else the winner's is read."""
        kid = file_key_id(archive_no)
        if self.tombstone(kid).exists():
            raise KeyDestroyed(f"档号 {archive_no} 已销毁（见销毁清册），其数据不能再加密或解密")
        path = self.key_path(kid)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(self.root, 0o700)
            tmp = path.with_name(f"{kid}.tmp{os.getpid()}")
            tmp.write_bytes(master.encrypt(os.urandom(32), aad=_wrap_aad(kid)))
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)  # atomic and exclusive: fails if another writer won
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
        return kid, self.unwrap(kid, master)

    def unwrap(self, kid: str, master: Vault) -> bytes:
        if self.tombstone(kid).exists():
            raise KeyDestroyed(f"文件密钥 {kid} 已随档案销毁，数据不可解密")
        try:
            wrapped = self.key_path(kid).read_bytes()
        except FileNotFoundError:
            raise DecryptError(f"密钥库（{self.root}）中没有文件密钥 {kid}") from None
        return master.decrypt(wrapped, aad=_wrap_aad(kid))

    def destroy(self, archive_no: str, record: dict[str, Any]) -> bool:
        """Tombstone first (so no reader or writer can recreate the key meanwhile), then
        overwrite and delete the key file. True if a key was there. Idempotent."""
        kid = file_key_id(archive_no)
        tomb = self.tombstone(kid)
        tomb.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not tomb.exists():
            tmp = tomb.with_suffix(f".tmp{os.getpid()}")
            tmp.write_text(json.dumps({**record, "archive_no": archive_no, "kid": kid},
                                      ensure_ascii=False, default=str), "utf-8")
            tmp.replace(tomb)
        path = self.key_path(kid)
        if not path.exists():
            return False
        size = path.stat().st_size
        with path.open("r+b") as fh:
            fh.write(os.urandom(size))
            fh.flush()
            os.fsync(fh.fileno())
        path.unlink()
        return True

    def destroyed(self) -> list[dict[str, Any]]:
        """The tombstones: the register rows of every file destroyed in this deployment."""
        base = self.root / TOMBSTONES
        if not base.is_dir():
            return []
        return [json.loads(p.read_text("utf-8")) for p in sorted(base.glob("*.json"))]

    def key_files(self) -> list[Path]:
        return sorted(self.root.glob(f"??/{FILE_KEY_PREFIX}*.key")) if self.root.is_dir() else []

    def rewrap(self, master: Vault) -> tuple[int, int]:
        """Master-key rotation: re-wrap every file key not under the current master key.
        Returns (re-wrapped, already current)."""
        from search_app.crypto import key_id_of

        done = current = 0
        for path in self.key_files():
            blob = path.read_bytes()
            if key_id_of(blob) == master.current_key_id:
                current += 1
                continue
            kid = path.stem
            new = master.encrypt(master.decrypt(blob, aad=_wrap_aad(kid)), aad=_wrap_aad(kid))
            tmp = path.with_name(path.name + ".rotating")
            tmp.write_bytes(new)
            os.chmod(tmp, 0o600)
            tmp.replace(path)
            done += 1
        return done, current
