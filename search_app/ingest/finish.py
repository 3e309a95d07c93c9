"""The end of page work: progress counts, pages that give up, and finishing a file exactly once
(by whichever page loop sees no open page left), with its vanished pages taken out of the
index and the database."""
from __future__ import annotations

from opensearchpy import helpers
from sqlalchemy import case, exists, func, select, update
from sqlalchemy.orm import Session

from indexer.pages import MAX_PAGES
from search_app.db import get_session
from search_app.ingest.keep import archive_version
from search_app.ingest.models import IngestFile, IngestPage, PageSecret
from search_app.search._backend import alias, writer
from search_app.search._files import refresh_file_docs
from search_app.timeutil import utcnow

OPEN = ("queued", "running")


def count_progress(session: Session, file_id: int) -> None:
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
        _close_file(session, file_id)  # ends with a refresh (refresh_file_docs): no second one
        session.commit()
    except Exception:
        session.rollback()  # still 'running': the next page task or a retry finishes it
        raise
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
    refresh_file_docs(f.archive_no)  # the grouped search's file-level documents


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
