"""Original scans, encrypted at rest (AES-GCM), addressed by the sha256 of their plaintext."""
from __future__ import annotations

import os
from pathlib import Path

from search_app.crypto import Vault


class BlobStore:
    def __init__(self, root: str | Path, vault: Vault) -> None:
        self.root = Path(root)
        self.vault = vault

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / f"{sha256}.bin"

    def put(self, sha256: str, data: bytes) -> Path:
        path = self.path_for(sha256)
        if path.exists():
            return path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(self.vault.encrypt(data, aad=sha256.encode()))
        tmp.replace(path)  # atomic: a crash never leaves a half-written blob under the real name
        return path

    def get(self, sha256: str) -> bytes:
        return self.vault.decrypt(self.path_for(sha256).read_bytes(), aad=sha256.encode())
