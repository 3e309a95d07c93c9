"""One page of an ingest file: read it back from the blob store, run the stages, keep and index it.

A page task is safe to run twice and safe to be killed: the page row is claimed while 'queued'
or 'running' (a row left 'running' by a dead worker is claimed again by the redelivered message)
and the document id is deterministic. The PageSecret is committed first (the page is durable),
then the document is indexed, and only then does the row turn 'done': the index never holds a
page the database could lose, and a crash in between is redone by the redelivered task. The file is finished by whichever page task
sees no open page left, with one conditional UPDATE so exactly one of them does it.
"""
from __future__ import annotations

import io
import time

from flask import current_app
from opensearchpy import helpers
from sqlalchemy import case, exists, func, select, update
from sqlalchemy.orm import Session

from indexer.index import build_document, doc_id
from indexer.page_image import redact_image
from indexer.pages import MAX_PAGES, load_page
from indexer.pipeline import page_text, prepare, redact_title
from indexer.types import ArchiveMeta, IngestError, PreparedPage
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.ingest.models import IngestFile, IngestPage, PageSecret, PageVersion
from search_app.ingest.secrets import encode_secret
from search_app.ingest.service import blob_store, file_meta, options_from_config
from search_app.search._backend import alias, bulk_index, writer
from search_app.timeutil import utcnow

OPEN = ("queued", "running")


def run_page(page_id: int) -> IngestPage:
    session = get_session()
    page = session.get(IngestPage, page_id)
    if page is None:
        raise LookupError(f"ingest page {page_id} does not exist")
    f = session.get(IngestFile, page.file_id)
    if f.state == "running":
        now = utcnow()
        left_running = page.state == "running"
        claimed = session.execute(
            update(IngestPage).where(IngestPage.id == page_id, IngestPage.state.in_(OPEN))
            .values(state="running", attempts=IngestPage.attempts + 1, started_at=now,
                    updated_at=now)
            .execution_options(synchronize_session=False)).rowcount
        session.commit()
        if claimed:
            session.refresh(page)
            limit = current_app.config["MAX_PAGE_ATTEMPTS"]
            if page.attempts > limit:
                _give_up_attempts(session, f, page, limit, left_running=left_running)
            else:
                _process(session, f, page)
    # Also when the page was already done: a task killed between its commit and this check
    # is redelivered, and must still be able to finish the file.
    finish_file(f.id)
    return page


def _give_up_attempts(session: Session, f: IngestFile, page: IngestPage, limit: int, *,
                      left_running: bool) -> None:
    """A page claimed more than MAX_PAGE_ATTEMPTS times: each earlier attempt ended without a
    result (a worker killed mid-page leaves the row 'running' and the message is redelivered), so
    running it again would most likely kill the next worker too, without end. It fails here with
    the reason; the file's other pages are unaffected and the file can finish."""
    why = ("上次处理进程在处理中途退出" if left_running or not page.error
           else f"上次错误：{page.error}")
    page.state = "failed"
    page.error = (f"第 {limit} 次尝试仍未完成，可能导致处理进程崩溃（{why}）；已停止重试（MAX_PAGE_ATTEMPTS="
                  f"{limit}）：请检查该页扫描件（尺寸、损坏）后重新导入")[:2000]
    session.flush()
    _count_progress(session, f.id)
    session.commit()
    current_app.logger.error("ingest page %s (file %s, page %s) given up after %s attempts",
                             page.id, f.id, page.page_no, limit)


def _process(session: Session, f: IngestFile, page: IngestPage) -> None:
    started = time.monotonic()
    try:
        meta = ArchiveMeta(**file_meta(f))
        opts = options_from_config()
        data = blob_store().get(f.sha256)
        prepared = prepare(page_text(load_page(data, page.page_no, dpi=opts.dpi,
                                               max_pixels=opts.max_pixels,
                                               view_max_edge=opts.view_max_edge), opts), meta)
        doc = keep_page(session, meta, prepared, f, reason="reingest")
        session.commit()  # durable before it becomes searchable
        index_documents([doc])
    except IngestError as exc:  # this page cannot be read: fail it, the others go on
        session.rollback()
        page.state, page.error = "failed", str(exc)[:2000]
    except Exception as exc:  # possibly transient: back to queued for the task's retry
        session.rollback()
        page.state, page.error = "queued", f"上次尝试失败：{type(exc).__name__}: {exc}"[:2000]
        page.seconds = time.monotonic() - started
        session.commit()
        raise
    else:
        page.state, page.error = "done", ""
        page.ocr_confidence, page.text_source = prepared.confidence, prepared.source
    page.seconds = time.monotonic() - started
    session.flush()
    _count_progress(session, f.id)
    session.commit()


def keep_page(session: Session, meta: ArchiveMeta, prepared: PreparedPage, f: IngestFile, *,
              reason: str) -> dict:
    """Encrypt the unredacted text into PageSecret (flushed, not committed) and return the page's
    index document; the caller commits, then indexes it with `index_documents`.

    The replaced secret goes to PageVersion on re-OCR, or when it came from other file content;
    a retry of the same content just overwrites it (no history entry per attempt).
    """
    vault = vault_from_config(current_app.config)
    did = doc_id(meta.archive_no, prepared.page_no)
    secret = session.get(PageSecret, did)
    if secret is not None and (reason == "reocr" or secret.source_sha256 != f.sha256):
        archive_version(session, secret, reason)
    if secret is None:
        secret = PageSecret(doc_id=did)
        session.add(secret)
    secret.archive_no, secret.page_no = meta.archive_no, prepared.page_no
    secret.key_id = vault.current_key_id
    secret.ciphertext = vault.encrypt(encode_secret(prepared), aad=did.encode())
    secret.ocr_confidence, secret.text_source = prepared.confidence, prepared.source
    secret.source_sha256, secret.updated_at = f.sha256, utcnow()
    secret.pii_kinds = sorted({m.kind for m in prepared.pii})
    secret.image_sha256 = store_redacted_image(prepared, did)
    session.flush()
    return build_document(meta, prepared, title=redact_title(meta), page_count=f.pages_total,
                          blind_index=vault.blind_index, source_sha256=f.sha256,
                          ingest_file_id=f.id)


def index_documents(docs: list[dict]) -> int:
    """(Over)write index documents of pages whose PageSecret is already committed."""
    return bulk_index(writer(), alias(), docs)


def store_redacted_image(prepared: PreparedPage, did: str) -> str | None:
    """Burn the PII boxes into the page's view image and keep it encrypted, bound to its page
    (blobs.py); the unredacted image is never stored (the original stays encrypted whole)."""
    if prepared.view_image is None:
        return None
    buf = io.BytesIO()
    redact_image(prepared.view_image, prepared.pii_boxes).save(buf, format="PNG", optimize=True)
    return blob_store().put_page_image(did, buf.getvalue())


def archive_version(session: Session, secret: PageSecret, reason: str) -> PageVersion:
    version = PageVersion(
        doc_id=secret.doc_id, archive_no=secret.archive_no, page_no=secret.page_no,
        key_id=secret.key_id, ciphertext=secret.ciphertext, ocr_confidence=secret.ocr_confidence,
        text_source=secret.text_source or "", pii_kinds=list(secret.pii_kinds or []),
        source_sha256=secret.source_sha256, recorded_at=secret.updated_at or utcnow(),
        replaced_at=utcnow(), replaced_by=reason)
    session.add(version)
    return version


def _count_progress(session: Session, file_id: int) -> None:
    """pages_done := number of done page rows, never lowered.

    Counted, not incremented, so parallel page tasks cannot lose an update; the max() keeps a
    slower transaction that counted fewer from writing an older figure over a newer one.
    """
    done = (select(func.count()).select_from(IngestPage)
            .where(IngestPage.file_id == file_id, IngestPage.state == "done").scalar_subquery())
    session.execute(
        update(IngestFile).where(IngestFile.id == file_id)
        .values(pages_done=case((done > IngestFile.pages_done, done), else_=IngestFile.pages_done))
        .execution_options(synchronize_session=False))


def mark_page_failed(page_id: int, error: str) -> None:
    session = get_session()
    session.rollback()
    page = session.get(IngestPage, page_id)
    if page is not None and page.state != "done":
        page.state, page.error = "failed", error[:2000]
        session.commit()


def give_up_page(page_id: int, error: str) -> None:
    """After the last retry: the page fails with the reason and the file may now finish."""
    mark_page_failed(page_id, error)
    page = get_session().get(IngestPage, page_id)
    if page is not None:
        finish_file(page.file_id)


def finish_file(file_id: int) -> bool:
    """Finish the file if no page is open; True for the one caller that did it.

    Each page commits its own state before calling this, so the last page to commit sees every
    other page closed; `state == 'running'` in the same UPDATE makes a second finisher a no-op.
    """
    session = get_session()
    session.commit()
    open_pages = exists().where(IngestPage.file_id == file_id, IngestPage.state.in_(OPEN))
    failed = exists().where(IngestPage.file_id == file_id, IngestPage.state == "failed")
    flipped = session.execute(
        update(IngestFile).where(IngestFile.id == file_id, IngestFile.state == "running",
                                 ~open_pages)
        .values(state=case((failed, "failed"), else_="done"), updated_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    if flipped != 1:
        session.rollback()
        return False
    try:
        _close_file(session, file_id)
        session.commit()
    except Exception:
        session.rollback()  # still 'running': the next page task or a retry finishes it
        raise
    writer().indices.refresh(index=alias())
    return True


def _close_file(session: Session, file_id: int) -> None:
    f = session.get(IngestFile, file_id)
    session.refresh(f)
    pages = list(session.execute(select(IngestPage).where(IngestPage.file_id == file_id)
                                 .order_by(IngestPage.page_no)).scalars())
    bad = [p for p in pages if p.state == "failed"]
    f.pages_done = sum(p.state == "done" for p in pages)
    if bad:
        f.error = (f"{len(bad)} 页失败（其余 {f.pages_done} 页已编入索引）；"
                   f"第 {bad[0].page_no} 页：{bad[0].error}")[:2000]
    if f.started_at:
        f.seconds = (utcnow() - f.started_at).total_seconds()
    drop_vanished_pages(session, f.archive_no, f.pages_total)


def drop_vanished_pages(session: Session, archive_no: str, pages_total: int) -> int:
    """Pages beyond the new page count no longer exist: out of the index and out of
    page_secrets (their last text stays in page_versions as 'removed')."""
    stale = list(session.execute(select(PageSecret).where(
        PageSecret.archive_no == archive_no, PageSecret.page_no > pages_total)).scalars())
    for secret in stale:
        archive_version(session, secret, "removed")
        session.delete(secret)
    session.flush()
    # Found by query, not by the secrets above, in case the index holds a page the database
    # lost. (The minimal OpenSearch distribution has no _delete_by_query: search, then bulk.)
    found = writer().search(index=alias(), size=MAX_PAGES, _source=False, body={"query": {
        "bool": {"filter": [{"term": {"archive_no": archive_no}},
                            {"range": {"page_no": {"gt": pages_total}}}]}}})
    ids = [hit["_id"] for hit in found["hits"]["hits"]]
    if ids:
        _, errors = helpers.bulk(writer(), ({"_op_type": "delete", "_index": alias(), "_id": i}
                                            for i in ids), raise_on_error=False)
        # A document already gone is what we wanted; anything else leaves a stale page
        # searchable, so the file must not be reported finished.
        real = [e for e in errors if e.get("delete", {}).get("status") != 404]
        if real:
            raise RuntimeError(f"{archive_no} 已不存在的 {len(real)} 页未能从索引删除，仍可被检索，"
                               f"文件不能完成：{real[:3]}")
    return len(stale)
