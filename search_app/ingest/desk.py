"""What the ingest screens and /api/v1/ingest share: the job list (with the housekeeping a
visit does), the low-confidence review list and marking a page as reviewed (audited first).
No page text is loaded here: the review list reads only PageSecret's plain columns."""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.ingest import uploads
from search_app.ingest.held import HELD, release_held
from search_app.ingest.models import IngestFile, IngestJob, PageSecret
from search_app.timeutil import utcnow

JOBS_PER_PAGE = 50
REVIEW_PER_PAGE = 100


def housekeep(session: Session, actor: Actor) -> None:
    """Abandoned batches go on the next visit (no beat needed): batches untouched for
    INGEST_BATCH_TTL_HOURS that no held, queued or running file still reads from. Held files
    (Redis was down when they were submitted) are sent to the queue here too, once it answers."""
    release_held()
    root = uploads.upload_root()
    paths = session.execute(select(IngestFile.path).where(
        IngestFile.state.in_((HELD, "queued", "running")),
        IngestFile.path.startswith(str(root) + "/"))).scalars()
    removed = uploads.sweep(root, max_age_hours=current_app.config["INGEST_BATCH_TTL_HOURS"],
                            active={Path(p).parent.name for p in paths})
    if removed:
        record_event(actor, Event(action=Action.INGEST_BATCHES_REMOVED, outcome="allowed",
                                  result_count=len(removed), filters={"batches": removed}))


def job_list(session: Session, page: int) -> tuple[list[dict], bool]:
    """(one page of jobs with their file and page counts, newest first; whether more follow)."""
    finished = IngestFile.state.in_(("done", "failed"))
    stmt = (select(IngestJob,
                   func.count(IngestFile.id),
                   func.coalesce(func.sum(case((IngestFile.state == "done", 1), else_=0)), 0),
                   func.coalesce(func.sum(case((IngestFile.state == "failed", 1), else_=0)), 0),
                   func.coalesce(func.sum(IngestFile.pages_done), 0),
                   func.coalesce(func.sum(IngestFile.pages_total), 0),
                   func.coalesce(func.sum(case((finished, 0), else_=1)), 0))
            .outerjoin(IngestFile, IngestFile.job_id == IngestJob.id)
            .group_by(IngestJob.id).order_by(IngestJob.id.desc())
            .offset((page - 1) * JOBS_PER_PAGE).limit(JOBS_PER_PAGE + 1))
    rows = [dict(job=job, files=n, done=done, failed=failed, pages_done=pd, pages_total=pt,
                 finished=open_ == 0)
            for job, n, done, failed, pd, pt, open_ in session.execute(stmt)]
    return rows[:JOBS_PER_PAGE], len(rows) > JOBS_PER_PAGE


def review_list(session: Session, *, reviewed: bool, page: int) -> dict:
    """Pages whose OCR confidence is under OCR_REVIEW_THRESHOLD, not yet (or already) reviewed."""
    threshold = current_app.config["OCR_REVIEW_THRESHOLD"]
    weak = PageSecret.ocr_confidence.is_not(None) & (PageSecret.ocr_confidence < threshold)
    done = PageSecret.reviewed_at.is_not(None)
    counts = dict(session.execute(select(done, func.count()).where(weak).group_by(done)).all())
    # Only these columns are loaded: the ciphertext (page text) never leaves the database here.
    stmt = (select(PageSecret.doc_id, PageSecret.archive_no, PageSecret.page_no,
                   PageSecret.ocr_confidence, PageSecret.updated_at, PageSecret.reviewed_at,
                   PageSecret.reviewed_by)
            .where(weak, done if reviewed else ~done)
            .order_by(PageSecret.updated_at.desc(), PageSecret.doc_id)
            .offset((page - 1) * REVIEW_PER_PAGE).limit(REVIEW_PER_PAGE + 1))
    rows = session.execute(stmt).all()
    return {"rows": rows[:REVIEW_PER_PAGE], "has_next": len(rows) > REVIEW_PER_PAGE,
            "threshold": threshold, "pending": counts.get(False, 0), "reviewed": counts.get(True, 0)}


class NoSuchPage(LookupError):
    """The page to mark does not exist (404)."""


def mark_reviewed(session: Session, actor: Actor, doc_id: str) -> bool:
    """Mark a low-confidence page as reviewed by `actor`; False when it already was. The record
    is written first (fail closed): if it cannot be, the review is not stored."""
    page = session.execute(select(PageSecret.doc_id, PageSecret.ocr_confidence, PageSecret.reviewed_at)
                           .where(PageSecret.doc_id == doc_id)).one_or_none()
    if page is None:
        raise NoSuchPage(f"页面 {doc_id} 不存在")
    if page.reviewed_at is not None:
        return False
    record_event(actor, Event(
        action=Action.INGEST_PAGE_REVIEWED, outcome="allowed",
        filters={"doc_id": doc_id, "ocr_confidence": page.ocr_confidence,
                 "threshold": current_app.config["OCR_REVIEW_THRESHOLD"]}))
    session.execute(update(PageSecret).where(PageSecret.doc_id == doc_id).values(
        reviewed_at=utcnow(), reviewed_by=actor.username,
        updated_at=PageSecret.updated_at))  # the ingest date shown stays the ingest date
    session.commit()
    return True
