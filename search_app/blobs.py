"""Encrypted blobs at rest (AES-GCM): original scans and the redacted page images.

Originals are addressed by the sha256 of their plaintext (aad: that sha). A page image is bound
to its page as well: it lives under pages/<sha256(doc id)>/<image sha>.bin and its aad names both,
so swapping `image_sha256` between two page_secrets rows (or copying one page's blob file onto
another's path) cannot serve one page's image under another page's audit record: the read finds
nothing or fails authentication, and fails closed. The path alone gives the aad, which is what
lets key rotation re-encrypt every image without reading the database.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import os
from pathlib import Path

from search_app.crypto import DecryptError, Vault

PAGES_DIR = "pages"
FILES_DIR = "files"  # originals, one folder per 档号, under the file's own data key


class BlobMismatch(DecryptError):
    """A blob is missing, bound to another record, or not the content its record names."""


def doc_digest(doc_id: str) -> str:
    return hashlib.sha256(doc_id.encode()).hexdigest()


def page_image_aad(doc_digest_hex: str, sha256: str) -> bytes:
    return b"page-image:v1:" + doc_digest_hex.encode() + b":" + sha256.encode()


def original_aad(owner_digest_hex: str, sha256: str) -> bytes:
    return b"original:v2:" + owner_digest_hex.encode() + b":" + sha256.encode()


class BlobWriteError(OSError):
    """The blob store refused a write (full, read-only, not writable). An OSError still, so the
    ingest treats it as possibly transient (the worker retries); the message says which."""


_WHY = {errno.ENOSPC: "存储空间已满", errno.EDQUOT: "存储配额已满", errno.EROFS: "存储为只读",
        errno.EACCES: "目录无写权限", errno.EPERM: "目录无写权限", errno.ENOTDIR: "路径不是目录"}


def _owner_only_dirs(folder: Path) -> None:
    """Create `folder` and its missing parents 0700 whatever the umask (compose runs gunicorn
    and Celery without the scripts' umask 077, and mkdir's mode is cut by the umask)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        with contextlib.suppress(FileExistsError):
            d.mkdir(mode=0o700)
            os.chmod(d, 0o700)


def write_owner_only(tmp: Path, data: bytes) -> None:
    """Write `data` to a new file `tmp` 0600 whatever the umask (a blob replaced by key rotation
    or crypto-shredding keeps the owner-only mode of the one it replaces)."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)


def _write(path: Path, blob: bytes) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        _owner_only_dirs(path.parent)
        write_owner_only(tmp, blob)
        tmp.replace(path)  # atomic: a crash never leaves a half-written blob under the real name
    except OSError as exc:
        with contextlib.suppress(OSError):  # best effort: on a read-only store there is none
            tmp.unlink(missing_ok=True)  # nothing partial stays behind
        why = _WHY.get(exc.errno or 0, exc.strerror or type(exc).__name__)
        raise BlobWriteError(exc.errno, f"加密文件库写入失败：{why}（{path.parent}）") from exc


class BlobStore:
    def __init__(self, root: str | Path, vault: Vault) -> None:
        self.root = Path(root)
        self.vault = vault

    def path_for(self, sha256: str, owner: str = "") -> Path:
        """An original scan: files/<sha256(档号)>/<sha>.bin under the file's key when `owner`
        names its 档号 (two files with the same scan each keep a copy under their own key, so
        destroying one shreds nothing of the other); the legacy shared form without."""
        if owner:
            return self.root / FILES_DIR / doc_digest(owner) / f"{sha256}.bin"
        return self.root / sha256[:2] / f"{sha256}.bin"

    def put(self, sha256: str, data: bytes, *, owner: str = "") -> Path:
        path = self.path_for(sha256, owner)
        if not path.exists():
            if owner:
                blob = self.vault.for_file(owner).encrypt(
                    data, aad=original_aad(doc_digest(owner), sha256))
            else:
                blob = self.vault.encrypt(data, aad=sha256.encode())
            _write(path, blob)
        return path

    def get(self, sha256: str, *, owner: str = "") -> bytes:
        """The original; a file's own copy first, else the legacy shared blob (before 0012)."""
        path = self.path_for(sha256, owner)
        if owner and path.exists():
            return self.vault.decrypt(path.read_bytes(),
                                      aad=original_aad(doc_digest(owner), sha256))
        return self.vault.decrypt(self.path_for(sha256).read_bytes(), aad=sha256.encode())

    # --- page images: bound to their page ---

    def page_image_path(self, doc_id: str, sha256: str) -> Path:
        return self.root / PAGES_DIR / doc_digest(doc_id) / f"{sha256}.bin"

    def put_page_image(self, doc_id: str, data: bytes) -> str:
        """Store the image for this page; returns its sha256 (what page_secrets records)."""
        from search_app.keystore import file_of_doc

        sha256 = hashlib.sha256(data).hexdigest()
        path = self.page_image_path(doc_id, sha256)
        if not path.exists():
            vault = self.vault.for_file(file_of_doc(doc_id))
            _write(path, vault.encrypt(data, aad=page_image_aad(doc_digest(doc_id), sha256)))
        return sha256

    def get_page_image(self, doc_id: str, sha256: str) -> bytes:
        """The image, only if it was stored for this page with this content; else BlobMismatch."""
        path = self.page_image_path(doc_id, sha256)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise BlobMismatch(f"页面 {doc_id} 的图像不存在（记录的图像摘要 {sha256[:12]}… "
                               "不属于此页面或文件已丢失）") from None
        try:
            data = self.vault.decrypt(blob, aad=page_image_aad(doc_digest(doc_id), sha256))
        except DecryptError:
            raise BlobMismatch(f"页面 {doc_id} 的图像未通过完整性校验（密文不属于此页面）") from None
        if hashlib.sha256(data).hexdigest() != sha256:
            raise BlobMismatch(f"页面 {doc_id} 的图像内容与记录的摘要不符")
        return data

    def page_image_files(self) -> list[Path]:
        base = self.root / PAGES_DIR
        return sorted(base.glob("*/*.bin")) if base.is_dir() else []


def page_image_aad_of(path: Path) -> bytes:
    """The aad of a page-image blob file, from its path (key rotation)."""
    return page_image_aad(path.parent.name, path.stem)
