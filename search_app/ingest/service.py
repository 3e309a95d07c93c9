"""Ingest jobs: a row per file with state, progress, timing and a per-file error.

`run_file` is what the Celery task (and the synchronous CLI) calls for one file id. It is safe
to run again for the same file: document ids are deterministic (档号 + page), so a retry
overwrites instead of duplicating, and a file already done is skipped.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.index import build_document, doc_id
from indexer.manifest import ManifestRow
from indexer.pages import count_pages
from indexer.pipeline import PipelineOptions, process_file, redact_title
from indexer.types import ArchiveMeta, IngestError
from search_app.blobs import BlobStore
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.ingest.models import IngestFile, IngestJob, PageSecret
from search_app.search._backend import alias, bulk_index, client

BATCH_PAGES = 10


META_AAD = b"ingest-file-meta"


def create_job(session: Session, *, source: str, created_by: str, rows: list[ManifestRow],
               base_dir: Path) -> IngestJob:
    """One job with a file row per manifest row; rows that failed validation start as failed."""
    vault = vault_from_config(current_app.config)
    job = IngestJob(source=source, created_by=created_by)
    session.add(job)
    for row in rows:
        path = str((base_dir / row.file).resolve()) if row.file else ""
        meta = json.dumps(asdict(row.meta) if row.meta else {}, ensure_ascii=False).encode()
        job.files.append(IngestFile(path=path, archive_no=row.meta.archive_no if row.meta else "",
                                    meta_ciphertext=vault.encrypt(meta, aad=META_AAD),
                                    state="failed" if row.error else "queued", error=row.error))
    session.flush()
    return job


def options_from_config() -> PipelineOptions:
    cfg = current_app.config
    return PipelineOptions(dpi=cfg["OCR_DPI"], langs=cfg["OCR_LANGS"],
                           ocr_timeout=cfg["OCR_TIMEOUT_S"], max_pixels=cfg["MAX_IMAGE_PIXELS"],
                           preprocess=tuple(s.strip() for s in cfg["OCR_PREPROCESS"].split(",") if s.strip()))


def run_file(file_id: int, *, refresh: bool | str = False) -> IngestFile:
    session = get_session()
    f = session.get(IngestFile, file_id)
    if f is None:
        raise LookupError(f"ingest file {file_id} does not exist")
    if f.state in ("done", "failed"):
        return f
    f.state, f.error, f.pages_done = "running", "", 0
    session.commit()
    started = time.monotonic()
    try:
        _ingest(session, f, refresh=refresh)
        f.state = "done"
    except IngestError as exc:
        f.state, f.error = "failed", str(exc)
    except Exception as exc:
        # Possibly transient (engine unreachable): leave it queued so a retry picks it up.
        session.rollback()
        f.state, f.error = "queued", f"上次尝试失败：{type(exc).__name__}: {exc}"[:2000]
        f.seconds = time.monotonic() - started
        session.commit()
        raise
    f.seconds = time.monotonic() - started
    session.commit()
    return f


def mark_failed(file_id: int, error: str) -> None:
    session = get_session()
    f = session.get(IngestFile, file_id)
    if f is not None and f.state != "done":
        f.state, f.error = "failed", error[:2000]
        session.commit()


def _ingest(session: Session, f: IngestFile, *, refresh: bool | str) -> None:
    vault = vault_from_config(current_app.config)
    meta = ArchiveMeta(**json.loads(vault.decrypt(f.meta_ciphertext, aad=META_AAD)))
    path = Path(f.path)
    if not path.is_file():
        raise IngestError(f"文件不存在：{path.name}")
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    if path.stat().st_size > max_bytes:
        raise IngestError(f"文件超过 {current_app.config['MAX_UPLOAD_MB']} MB 上限")
    data = path.read_bytes()
    f.sha256 = hashlib.sha256(data).hexdigest()
    f.pages_total = count_pages(path)
    session.commit()
    title = redact_title(meta)
    batch: list[dict] = []
    for page in process_file(path, meta, options_from_config()):
        did = doc_id(meta.archive_no, page.page_no)
        secret = session.get(PageSecret, did) or PageSecret(doc_id=did)
        secret.archive_no, secret.page_no = meta.archive_no, page.page_no
        secret.key_id = vault.current_key_id
        secret.ciphertext = vault.encrypt(page.raw_text.encode(), aad=did.encode())
        secret.ocr_confidence, secret.source_sha256 = page.confidence, f.sha256
        secret.pii_kinds = sorted({m.kind for m in page.pii})
        session.merge(secret)
        batch.append(build_document(meta, page, title=title, page_count=f.pages_total,
                                    blind_index=vault.blind_index, source_sha256=f.sha256,
                                    ingest_file_id=f.id))
        if len(batch) >= BATCH_PAGES:
            _flush(session, f, batch, refresh=refresh)
    _flush(session, f, batch, refresh=refresh)
    if f.pages_done == 0:
        raise IngestError("文件中没有可读取的页面")
    # The encrypted original goes in last: a file that failed keeps nothing behind.
    BlobStore(current_app.config["BLOB_DIR"], vault).put(f.sha256, data)


def _flush(session: Session, f: IngestFile, batch: list[dict], *, refresh: bool | str) -> None:
    if not batch:
        return
    bulk_index(client(), alias(), batch, refresh=refresh)
    f.pages_done += len(batch)
    batch.clear()
    session.commit()  # progress becomes visible to the UI and API


@dataclass
class JobProgress:
    job_id: int
    files_total: int
    files_done: int
    files_failed: int
    pages_total: int
    pages_done: int
    finished: bool
    errors: list[tuple[str, str]]


def job_progress(session: Session, job_id: int) -> JobProgress | None:
    job = session.get(IngestJob, job_id)
    if job is None:
        return None
    files = list(session.execute(select(IngestFile).where(IngestFile.job_id == job_id)).scalars())
    return JobProgress(
        job_id=job_id, files_total=len(files),
        files_done=sum(f.state == "done" for f in files),
        files_failed=sum(f.state == "failed" for f in files),
        pages_total=sum(f.pages_total for f in files),
        pages_done=sum(f.pages_done for f in files),
        finished=all(f.state in ("done", "failed") for f in files),
        errors=[(Path(f.path).name or f"#{f.id}", f.error) for f in files if f.state == "failed"])
