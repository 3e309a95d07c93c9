"""Ingest jobs: a row per file and per page, with state, progress, timing and errors.

`run_file` is the file phase (called by the Celery file task and by the synchronous CLI): it
reads the upload once, stores the encrypted original in the blob store, creates one page row
per page and hands the page ids to its caller's `dispatch`. The pages are then processed by the
page loop (`pagework.run_pages`: Celery page tasks, or the CLI's process pool), which reads each
page back from the blob store, so nothing depends on the upload path after this phase. The file
finishes when its last page does. This module knows nothing of the page loop; the loop uses it.

Re-running any step is safe: document ids are deterministic (档号 + page), page rows are unique
per (file, page), and a file whose content and manifest row match the archive's last complete
ingest is skipped without OCR.

What a job's progress shows (counts, per-file and per-page states) is in ingest/progress.py.
"""
from __future__ import annotations

import hashlib
import logging
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.manifest import ManifestRow
from indexer.pages import checked_page_count
from indexer.pipeline import PipelineOptions
from indexer.types import IngestError
from search_app.audit.actions import Action
from search_app.audit.redaction import mask_text
from search_app.audit.service import Actor, Event, record_event
from search_app.blobs import BlobStore
from search_app.catalogue.ingest_check import ingest_refusal
from search_app.crypto import DecryptError, vault_from_config
from search_app.db import get_session
from search_app.ingest import metachange, uploads
from search_app.ingest.models import IngestFile, IngestJob, IngestPage
from search_app.ingest.progress import (JobProgress, display_name,  # noqa: F401 (re-exported)
                                        job_detail, job_progress)
from search_app.timeutil import utcnow

META_AAD = b"ingest-file-meta"  # + the row id (meta_aad): a row's ciphertext opens on that row only

log = logging.getLogger(__name__)


def meta_aad(file_id: int) -> bytes:
    """Binds a manifest row's ciphertext to its ingest_files row: copied onto another row (say,
    one whose 档号 another grant covers), it fails authentication instead of decrypting."""
    return META_AAD + b":" + str(int(file_id)).encode()


UNCHANGED_NOTE = "内容未变，跳过（与该档号上次完整导入的文件及著录信息相同，未重新识别）"


def create_job(session: Session, *, source: str, created_by: str, rows: list[ManifestRow],
               base_dir: Path, locate: Callable[[str], Path] | None = None,
               confirm_metadata_change: bool = False, actor: Actor | None = None) -> IngestJob:
    """One job with a file row per manifest row; rows that failed validation start as failed,
    and so does a row that changes an existing 档号's unit, category, classification or subject
    unless `confirm_metadata_change` (ingest/metachange.py). Audit records for those rows are
    written in `session`: they commit with the job or not at all.

    `locate` maps a row's file name to where it is (an upload batch's encrypted scan); by
    default it is the name under `base_dir` (the CLI operator's folder).
    """
    vault = vault_from_config(current_app.config)
    actor = actor or Actor(None, created_by, "system_admin")
    job = IngestJob(source=source, created_by=created_by)
    session.add(job)
    metas = []
    for row in rows:
        where = locate(row.file) if locate and row.file else base_dir / row.file
        path = str(where.resolve()) if row.file else ""
        meta = asdict(row.meta) if row.meta else {}
        error = (row.error or _destroyed(vault, meta.get("archive_no", ""))
                 or ingest_refusal(session, actor, row,
                                   exists=lambda no: last_complete_file(session, no) is not None)
                 or _metadata_check(session, actor, meta, confirm_metadata_change))
        metas.append(json.dumps(meta, ensure_ascii=False).encode())
        job.files.append(IngestFile(path=path, archive_no=row.meta.archive_no if row.meta else "",
                                    meta_ciphertext=b"",
                                    state="failed" if error else "queued",
                                    error=mask_text(error, set()) if error else ""))
    session.flush()  # row ids first: each row's ciphertext is bound to its own id
    for f, meta in zip(job.files, metas):
        # under the file's own data key; a refused row for a destroyed 档号 under the master key
        own = vault if _destroyed(vault, f.archive_no) else vault.for_file(f.archive_no)
        f.meta_ciphertext = own.encrypt(meta, aad=meta_aad(f.id))
    session.flush()
    return job


def _destroyed(vault, archive_no: str) -> str:
    """The refusal for a 档号 destroyed by appraisal (a 档号 is never reused), else ""."""
    if archive_no and vault.keystore is not None and vault.keystore.is_destroyed(archive_no):
        return f"档号 {archive_no} 已经鉴定销毁（见销毁清册），不能重新导入；新文件须使用新档号"
    return ""


def _metadata_check(session: Session, actor: Actor, meta: dict, confirmed: bool) -> str:
    """"" when the row may go ahead, else the refusal (both audited when fields change)."""
    prev = last_complete_file(session, meta.get("archive_no", "")) if meta else None
    if prev is None:
        return ""
    changed = metachange.changes(file_meta(prev), meta)
    if not changed:
        return ""
    reason = "" if confirmed else metachange.refusal(meta["archive_no"], changed)
    record_event(actor, Event(
        action=Action.INGEST_METADATA_CHANGE, outcome="allowed" if confirmed else "denied",
        reason=reason or f"操作员确认修改著录信息：{metachange.describe(changed)}",
        filters={"archive_no": meta["archive_no"], "previous_file": prev.id,
                 "changes": changed}), session=session)
    return reason


def options_from_config() -> PipelineOptions:
    cfg = current_app.config
    return PipelineOptions(dpi=cfg["OCR_DPI"], langs=cfg["OCR_LANGS"],
                           ocr_timeout=cfg["OCR_TIMEOUT_S"], max_pixels=cfg["MAX_IMAGE_PIXELS"],
                           view_max_edge=cfg["VIEW_MAX_EDGE_PX"],
                           preprocess=cfg["OCR_PREPROCESS"])


def file_meta(f: IngestFile) -> dict:
    return json.loads(vault_from_config(current_app.config).decrypt(f.meta_ciphertext,
                                                                    aad=meta_aad(f.id)))


def trusted_file_meta(f: IngestFile, listing: str) -> dict | None:
    """The manifest row of `f`, or None (logged, with the row's id) when it fails authentication
    (swapped, altered, or under a key that is gone): a list built from many rows (`listing`)
    leaves that file out, loudly, instead of failing for everyone or guessing from it."""
    try:
        return file_meta(f)
    except DecryptError:
        log.error("%s: ingest file %s (%s): its manifest row failed authentication; left out",
                  listing, f.id, f.archive_no)
        return None


def blob_store() -> BlobStore:
    return BlobStore(current_app.config["BLOB_DIR"], vault_from_config(current_app.config))


Dispatch = Callable[[list[int]], None]


def run_file(file_id: int, *, dispatch: Dispatch) -> IngestFile:
    """File phase, then `dispatch(page_ids)` hands the pages still queued to the page loop.

    Safe to run again: a file already 'running' (a redelivered file task) only re-sends the pages
    that no task has picked up yet.
    """
    session = get_session()
    f = session.get(IngestFile, file_id)
    if f is None:
        raise LookupError(f"ingest file {file_id} does not exist")
    if f.state in ("done", "failed"):
        return f
    if f.state == "queued":
        started = utcnow()
        f.state, f.error, f.started_at = "running", "", started
        try:
            skip = _prepare(session, f)
        except IngestError as exc:
            session.rollback()
            f.state, f.error, f.started_at = "failed", str(exc), started
            f.seconds = (utcnow() - started).total_seconds()
            session.commit()
            _release_upload(f)  # failed for good: a fixed file is uploaded again
            return f
        except Exception as exc:
            # Possibly transient (disk, database): leave it queued so a retry picks it up.
            session.rollback()
            f.state, f.error = "queued", f"上次尝试失败：{type(exc).__name__}: {exc}"[:2000]
            session.commit()
            raise
        if skip:
            f.state, f.note, f.pages_done = "done", UNCHANGED_NOTE, f.pages_total
            f.seconds = (utcnow() - f.started_at).total_seconds()
            session.commit()
            _release_upload(f)
            return f
        session.commit()  # page rows and 'running' together: a worker never sees one without the other
        _release_upload(f)  # the encrypted blob and the page rows are durable: the upload goes
    page_ids = list(session.execute(
        select(IngestPage.id).where(IngestPage.file_id == f.id, IngestPage.state == "queued")
        .order_by(IngestPage.page_no)).scalars())
    dispatch(page_ids)
    return f


def _prepare(session: Session, f: IngestFile) -> bool:
    """Read, hash, store and split the upload; True when it is unchanged and can be skipped."""
    data = _read_source(Path(f.path))
    f.sha256 = hashlib.sha256(data).hexdigest()
    f.pages_total = checked_page_count(data, max_pixels=current_app.config["MAX_IMAGE_PIXELS"])
    from search_app.qa.records import record_file  # noqa: PLC0415 (qa builds on ingest)
    f.note = record_file(session, f, file_meta(f).get("page_count"))  # 页数 vs the scan
    if _unchanged(session, f):
        return True
    # The encrypted original goes in first: page tasks and later re-OCR read it from here.
    blob_store().put(f.sha256, data, owner=f.archive_no)
    existing = set(session.execute(
        select(IngestPage.page_no).where(IngestPage.file_id == f.id)).scalars())
    for page_no in range(1, f.pages_total + 1):
        if page_no not in existing:
            session.add(IngestPage(file_id=f.id, page_no=page_no))
    return False


def _read_source(path: Path) -> bytes:
    """The file's bytes: a web upload is decrypted in memory (it is encrypted on receipt), a CLI
    file is read where the operator put it."""
    max_bytes = current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024
    too_big = IngestError(f"文件超过 {current_app.config['MAX_UPLOAD_MB']} MB 上限")
    if uploads.is_upload(path):
        data = uploads.read_scan(path)
        if len(data) > max_bytes:
            raise too_big
        return data
    try:
        if not path.is_file():
            raise IngestError(f"文件不存在：{path.name}")
        if path.stat().st_size > max_bytes:
            raise too_big
        return path.read_bytes()
    except OSError as exc:  # a name too long, no permission, a directory: this file only
        raise IngestError(f"无法读取文件 {path.name[:80]}：{exc.strerror or exc}") from None


def _release_upload(f: IngestFile) -> None:
    """Delete an uploaded scan once nothing needs it (never the CLI operator's own files)."""
    path = Path(f.path)
    if f.path and uploads.is_upload(path):
        uploads.consumed(path)


def last_complete_file(session: Session, archive_no: str, *, exclude: int | None = None
                       ) -> IngestFile | None:
    """The archive's most recent ingest that wrote pages (done, or failed after fan-out)."""
    rows = session.execute(
        select(IngestFile).where(IngestFile.archive_no == archive_no, IngestFile.sha256 != "",
                                 IngestFile.state.in_(("done", "failed")),
                                 IngestFile.id != (exclude or 0))
        .order_by(IngestFile.id.desc())).scalars()
    for row in rows:
        if row.state == "done" or row.pages_done > 0:
            return row
    return None


def _unchanged(session: Session, f: IngestFile) -> bool:
    """Same bytes and same manifest row as the last complete ingest of this 档号.

    The manifest row is compared too: a changed classification or unit with the same scan must
    reach the index, or the permission filter would judge the pages by stale metadata.
    """
    prev = last_complete_file(session, f.archive_no, exclude=f.id)
    return (prev is not None and prev.state == "done" and prev.sha256 == f.sha256
            and prev.pages_total == f.pages_total
            and metachange.with_defaults(file_meta(prev)) == metachange.with_defaults(file_meta(f)))


def mark_failed(file_id: int, error: str) -> None:
    session = get_session()
    f = session.get(IngestFile, file_id)
    if f is not None and f.state != "done":
        f.state, f.error = "failed", error[:2000]
        session.commit()
