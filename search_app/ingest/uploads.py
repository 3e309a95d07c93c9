"""Upload batches for the ingest UI: where uploaded manifests and scans are kept, and the checks
they pass before a job is started.

A batch is one folder under INGEST_UPLOAD_DIR (0700, files 0600, whatever the umask). Nothing
in it is plaintext: every scan is encrypted on receipt (AES-GCM, bound by its associated data
to the batch and the file) and stored under a keyed hash of its name, with the name itself
encrypted beside it; the manifest (subject names and ID numbers) is encrypted the same way. A
scan is deleted as soon as the worker has stored its encrypted blob and its page rows (or failed
it for good), and the folder with its last scan. A batch survives a failed check, encrypted, so
the records manager fixes the manifest and submits again without uploading the scans a second
time; a batch nobody comes back to is removed after INGEST_BATCH_TTL_HOURS (`sweep`).

A manifest row may only name a file uploaded into the same batch: the CLI resolves names against
a directory the operator chose, but here the manifest comes over the web, and a row such as
"../../var/local.env" must not turn the ingest worker into a file reader. Rows are resolved by
`scan_path` (the batch's own folder, a hash of the name), and a file copied in from another
batch does not decrypt (its associated data names its own batch).
"""
from __future__ import annotations

import hashlib
import hmac
import os
import re
import shutil
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage

from indexer.manifest import ManifestError, ManifestRow, decode_manifest, parse_manifest_text
from indexer.types import IngestError
from search_app.crypto import DecryptError, Vault, vault_from_config
from search_app.timeutil import utcnow

SCAN_SUFFIXES = frozenset({".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png"})
MANIFEST_SUFFIXES = frozenset({".csv", ".json"})
_BATCH_ID = re.compile(r"^\d{8}-[0-9a-f]{32}$")
_FORBIDDEN = set('<>:"|?*\x7f')
OWNER_FILE = ".owner"
SCAN = ".scan"   # <token>.scan: the encrypted scan
NAME = ".name"   # <token>.name: its encrypted original file name
DIR_MODE, FILE_MODE = 0o700, 0o600


@dataclass
class Check:
    """What the form shows: errors about the upload as a whole, and errors per manifest row."""

    errors: list[str] = field(default_factory=list)
    row_errors: list[str] = field(default_factory=list)
    manifest: Path | None = None  # the encrypted manifest file
    rows: list[ManifestRow] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.row_errors and self.manifest is not None


def safe_name(raw: str) -> str | None:
    """The file's own name if it is a plain file name (Chinese kept), else None.

    werkzeug's secure_filename would turn "户籍登记表.png" into "png", and the manifest would no
    longer match; so names are kept as written and refused when they could mean a path.
    """
    name = unicodedata.normalize("NFC", raw or "").strip()
    if (not name or "/" in name or "\\" in name or name.startswith(".")
            or len(name.encode()) > 200 or any(ord(c) < 32 or c in _FORBIDDEN for c in name)):
        return None
    return name


def _vault() -> Vault:
    return vault_from_config(current_app.config)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) owner-only; mkdir's mode is cut by the umask, so chmod too."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.chmod(path, DIR_MODE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` as an owner-only file, atomically (never half a ciphertext)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def new_batch(root: Path, owner_id: int) -> Path:
    batch = private_dir(root.resolve()) / f"{utcnow():%Y%m%d}-{uuid.uuid4().hex}"
    private_dir(batch)
    write_private(batch / OWNER_FILE, str(owner_id).encode())
    return batch


def open_batch(root: Path, batch_id: str, owner_id: int) -> Path | None:
    """An earlier batch of the same user (for a resubmission), or None."""
    if not _BATCH_ID.match(batch_id or ""):
        return None
    batch = root.resolve() / batch_id
    owner = batch / OWNER_FILE
    if not owner.is_file() or owner.read_text().strip() != str(owner_id):
        return None
    return batch


def _token(batch: Path, name: str) -> str:
    """Where a file of this name lives in this batch: a keyed hash, so the folder listing does not
    show the name (which often is the person's) and the same name replaces an earlier upload."""
    msg = f"upload-file-v1\0{batch.name}\0{name}".encode()
    return hmac.new(current_app.config["ARCHIVE_BLIND_INDEX_KEY"], msg, hashlib.sha256).hexdigest()[:32]


def _aad(kind: str, batch_id: str, token: str) -> bytes:
    return f"upload-{kind}:{batch_id}:{token}".encode()


def scan_path(batch: Path, name: str) -> Path:
    return batch / f"{_token(batch, name)}{SCAN}"


def scans_in(batch: Path) -> list[str]:
    """The original names of the scans in the batch (decrypted from their name files)."""
    vault, names = _vault(), []
    for scan in batch.glob(f"*{SCAN}"):
        try:
            sealed = (batch / f"{scan.stem}{NAME}").read_bytes()
            names.append(vault.decrypt(sealed, aad=_aad("name", batch.name, scan.stem)).decode())
        except (OSError, DecryptError):
            continue  # a half-removed or foreign file is not part of the batch
    return sorted(names)


def _read_limited(upload: FileStorage, max_bytes: int) -> bytes | None:
    data = upload.stream.read(max_bytes + 1)
    return None if len(data) > max_bytes else data


def store_scans(batch: Path, uploads: list[FileStorage], max_bytes: int) -> list[str]:
    """Encrypt and save the scans; a file with the same name as an earlier upload replaces it.
    -> errors"""
    errors = []
    vault = _vault()
    for upload in uploads:
        if not upload or not upload.filename:
            continue
        name = safe_name(upload.filename)
        if name is None:
            errors.append(f"文件名“{upload.filename}”不可用：不能含路径分隔符或特殊字符，也不能以“.”开头")
        elif Path(name).suffix.lower() not in SCAN_SUFFIXES:
            errors.append(f"文件“{name}”的格式不支持：只接受 PDF、TIFF、JPEG、PNG")
        elif (data := _read_limited(upload, max_bytes)) is None:
            errors.append(f"文件“{name}”超过 {max_bytes // (1024 * 1024)} MB 上限")
        else:
            token = _token(batch, name)
            write_private(batch / f"{token}{NAME}",
                          vault.encrypt(name.encode(), aad=_aad("name", batch.name, token)))
            write_private(batch / f"{token}{SCAN}",
                          vault.encrypt(data, aad=_aad("scan", batch.name, token)))
    return errors


def manifest_in(batch: Path) -> Path | None:
    for suffix in (".json", ".csv"):
        if (batch / f"manifest{suffix}.enc").is_file():
            return batch / f"manifest{suffix}.enc"
    return None


def store_manifest(batch: Path, upload: FileStorage | None, max_bytes: int) -> str | None:
    """Encrypt and save an uploaded manifest (replacing an earlier one). -> error"""
    if not upload or not upload.filename:
        return None
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in MANIFEST_SUFFIXES:
        return f"清单“{upload.filename}”的格式不支持：请上传 CSV 或 JSON 文件"
    data = _read_limited(upload, max_bytes)
    if data is None:
        return f"清单“{upload.filename}”超过 {max_bytes // (1024 * 1024)} MB 上限"
    for old in MANIFEST_SUFFIXES:
        (batch / f"manifest{old}.enc").unlink(missing_ok=True)
    write_private(batch / f"manifest{suffix}.enc",
                  _vault().encrypt(data, aad=_aad("manifest", batch.name, suffix)))
    return None


def read_manifest(path: Path) -> list[ManifestRow]:
    """The rows of a batch's encrypted manifest (ManifestError if it cannot be read)."""
    suffix = path.name.removesuffix(".enc").removeprefix("manifest")
    try:
        plain = _vault().decrypt(path.read_bytes(), aad=_aad("manifest", path.parent.name, suffix))
    except (OSError, DecryptError) as exc:
        raise ManifestError(f"无法读取清单 manifest{suffix}：{exc}") from None
    from search_app.catalogue.services import lists  # the catalogue imports nothing of ingest

    return parse_manifest_text(decode_manifest(plain, f"manifest{suffix}"), f"manifest{suffix}",
                               lists().vocabulary())


def check_batch(batch: Path) -> Check:
    """Every manifest row valid, every row's file uploaded, every uploaded scan listed."""
    check = Check(manifest=manifest_in(batch))
    if check.manifest is None:
        check.errors.append("请选择清单文件（CSV 或 JSON，每个扫描件一行）")
        return check
    try:
        rows = read_manifest(check.manifest)
    except ManifestError as exc:
        check.errors.append(str(exc))
        return check
    if not rows:
        check.errors.append("清单中没有任何条目")
        return check
    check.rows = rows
    uploaded = set(scans_in(batch))
    listed: dict[str, int] = {}
    archive_nos: dict[str, int] = {}
    for row in rows:
        if row.error:
            check.row_errors.append(row.error)
            continue
        name = row.file
        if safe_name(name) != name:
            check.row_errors.append(f"第 {row.line} 行文件名“{name}”不能含路径，只写文件本身的名字")
        elif name not in uploaded:
            check.row_errors.append(f"第 {row.line} 行的文件“{name}”没有上传")
        elif name in listed:
            check.row_errors.append(f"第 {row.line} 行的文件“{name}”与第 {listed[name]} 行重复")
        listed.setdefault(name, row.line)
        archive_no = row.meta.archive_no if row.meta else ""
        if archive_no in archive_nos:
            check.row_errors.append(f"第 {row.line} 行的档号“{archive_no}”与第 "
                                    f"{archive_nos[archive_no]} 行重复（同一档号的页面会互相覆盖）")
        archive_nos.setdefault(archive_no, row.line)
    for name in sorted(uploaded - set(listed)):
        check.errors.append(f"文件“{name}”已上传，但清单中没有对应的条目")
    return check


def upload_root() -> Path:
    return Path(current_app.config["INGEST_UPLOAD_DIR"]).resolve()


def is_upload(path: Path) -> bool:
    """An encrypted scan of an upload batch (as opposed to a file the CLI operator named).

    Judged by the name alone (web and worker may mount INGEST_UPLOAD_DIR at different paths); a
    CLI file named like this fails to decrypt, since its associated data is checked."""
    return path.suffix == SCAN and bool(_BATCH_ID.match(path.parent.name))


def read_scan(path: Path) -> bytes:
    """The worker's read of an uploaded scan: decrypted in memory, never written out."""
    try:
        return _vault().decrypt(path.read_bytes(), aad=_aad("scan", path.parent.name, path.stem))
    except FileNotFoundError:
        raise IngestError("上传的文件已不存在（批次已清理），请重新上传") from None
    except DecryptError:
        raise IngestError("上传的文件无法解密：它已被改动，或不属于本批次") from None


def consumed(path: Path) -> None:
    """The scan is stored encrypted in the blob store (or failed for good): remove it, and the
    batch folder with its manifest once no scan is left in it."""
    (path.parent / f"{path.stem}{NAME}").unlink(missing_ok=True)
    path.unlink(missing_ok=True)
    if path.parent.is_dir() and not any(path.parent.glob(f"*{SCAN}")):
        discard_batch(path.parent)


def sweep(root: Path, *, max_age_hours: float, active: set[str]) -> list[str]:
    """Remove batches untouched for `max_age_hours` that no queued or running file still needs
    (`active`: batch ids). -> the removed ids"""
    root = root.resolve()
    if not root.is_dir():
        return []
    cutoff, removed = time.time() - max_age_hours * 3600, []
    for batch in root.iterdir():
        if (batch.is_dir() and _BATCH_ID.match(batch.name) and batch.name not in active
                and batch.stat().st_mtime < cutoff):
            discard_batch(batch)
            removed.append(batch.name)
    return removed


def discard_batch(batch: Path) -> None:
    shutil.rmtree(batch, ignore_errors=True)
