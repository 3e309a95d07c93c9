"""Upload batches for the ingest UI: where uploaded manifests and scans are kept, and the checks
they pass before a job is started.

A batch is one folder under INGEST_UPLOAD_DIR. It survives a failed check, so the records
manager fixes the manifest and submits again without uploading the scans a second time (nothing
is lost). A manifest row may only name a file uploaded into the same batch: the CLI resolves
names against a directory the operator chose, but here the manifest comes over the web, and a
row such as "../../var/local.env" must not turn the ingest worker into a file reader.
"""
from __future__ import annotations

import re
import shutil
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from werkzeug.datastructures import FileStorage

from indexer.manifest import ManifestError, parse_manifest
from search_app.timeutil import utcnow

SCAN_SUFFIXES = frozenset({".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png"})
MANIFEST_SUFFIXES = frozenset({".csv", ".json"})
_BATCH_ID = re.compile(r"^\d{8}-[0-9a-f]{32}$")
_FORBIDDEN = set('<>:"|?*\x7f')
OWNER_FILE = ".owner"


@dataclass
class Check:
    """What the form shows: errors about the upload as a whole, and errors per manifest row."""

    errors: list[str] = field(default_factory=list)
    row_errors: list[str] = field(default_factory=list)
    manifest: Path | None = None

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


def new_batch(root: Path, owner_id: int) -> Path:
    batch = root.resolve() / f"{utcnow():%Y%m%d}-{uuid.uuid4().hex}"
    batch.mkdir(parents=True)
    (batch / OWNER_FILE).write_text(str(owner_id))
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


def scans_in(batch: Path) -> list[str]:
    return sorted(p.name for p in batch.iterdir()
                  if p.is_file() and p.suffix.lower() in SCAN_SUFFIXES)


def manifest_in(batch: Path) -> Path | None:
    for suffix in (".json", ".csv"):
        if (batch / f"manifest{suffix}").is_file():
            return batch / f"manifest{suffix}"
    return None


def store_scans(batch: Path, uploads: list[FileStorage], max_bytes: int) -> list[str]:
    """Save the scans; a file with the same name as an earlier upload replaces it. -> errors"""
    errors = []
    for upload in uploads:
        if not upload or not upload.filename:
            continue
        name = safe_name(upload.filename)
        if name is None:
            errors.append(f"文件名“{upload.filename}”不可用：不能含路径分隔符或特殊字符，也不能以“.”开头")
        elif Path(name).suffix.lower() not in SCAN_SUFFIXES:
            errors.append(f"文件“{name}”的格式不支持：只接受 PDF、TIFF、JPEG、PNG")
        else:
            target = batch / name
            upload.save(target)
            if target.stat().st_size > max_bytes:
                target.unlink()
                errors.append(f"文件“{name}”超过 {max_bytes // (1024 * 1024)} MB 上限")
    return errors


def store_manifest(batch: Path, upload: FileStorage | None) -> str | None:
    """Save an uploaded manifest as manifest.csv/.json (replacing an earlier one). -> error"""
    if not upload or not upload.filename:
        return None
    suffix = Path(upload.filename).suffix.lower()
    if suffix not in MANIFEST_SUFFIXES:
        return f"清单“{upload.filename}”的格式不支持：请上传 CSV 或 JSON 文件"
    for old in MANIFEST_SUFFIXES:
        (batch / f"manifest{old}").unlink(missing_ok=True)
    upload.save(batch / f"manifest{suffix}")
    return None


def check_batch(batch: Path) -> Check:
    """Every manifest row valid, every row's file uploaded, every uploaded scan listed."""
    check = Check(manifest=manifest_in(batch))
    if check.manifest is None:
        check.errors.append("请选择清单文件（CSV 或 JSON，每个扫描件一行）")
        return check
    try:
        rows = parse_manifest(check.manifest)
    except ManifestError as exc:
        check.errors.append(str(exc))
        return check
    if not rows:
        check.errors.append("清单中没有任何条目")
        return check
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


def discard_batch(batch: Path) -> None:
    shutil.rmtree(batch, ignore_errors=True)
