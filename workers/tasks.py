"""Thin tasks: they take ids, re-fetch, and call the service that loops over pipeline stages.

All are acks_late (the message is acknowledged after the task returns), so a worker killed
mid-page leaves the message to be redelivered (see docs/operations.md, visibility timeout).
"""
from __future__ import annotations

from celery import shared_task
from search_app.audit.actions import Action

# Retries of a task that raised. A page whose worker is killed never raises: its redelivery is
# bounded by MAX_PAGE_ATTEMPTS instead (pagework.run_pages counts every claim of a row).
MAX_RETRIES = 5


def _backoff(retries: int) -> int:
    return min(60, 2 ** retries)


def _retry_or_give_up(task, exc: Exception, give_up, *, args: list | None = None) -> None:
    """Raise Celery's Retry with back-off (with `args` instead of the task's own, when given);
    after MAX_RETRIES record why on the row (`give_up(reason)`) and return, so the caller
    re-raises the original error."""
    if task.request.retries >= MAX_RETRIES:
        give_up(f"重试 {MAX_RETRIES} 次后仍失败：{type(exc).__name__}: {exc}")
        return
    raise task.retry(exc=exc, args=args, countdown=_backoff(task.request.retries))


def _dispatch_pages(page_ids: list[int]) -> None:
    """A file's pages in page-loop batches: one bulk index request per batch, and at least
    WORKER_CONCURRENCY batches when the file has that many pages, so every process gets some."""
    from flask import current_app

    from search_app.ingest.pagework import batches

    cfg = current_app.config
    for batch in batches(page_ids, processes=cfg["WORKER_CONCURRENCY"],
                         size=cfg["INGEST_BATCH_PAGES"]):
        ingest_pages.delay(batch)


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def ingest_file(self, file_id: int) -> dict:
    """File phase: store the original, create page rows, queue the page batches."""
    from search_app.ingest.finish import finish_file
    from search_app.ingest.service import mark_failed, run_file

    sent: list[int] = []

    def dispatch(page_ids: list[int]) -> None:
        sent.extend(page_ids)
        _dispatch_pages(page_ids)

    try:
        f = run_file(file_id, dispatch=dispatch)
        if f.state == "running" and not sent:  # redelivered after every page had run
            finish_file(f.id)
    except Exception as exc:
        _retry_or_give_up(self, exc, lambda reason: mark_failed(file_id, reason))
        raise
    return {"file_id": f.id, "state": f.state, "pages_total": f.pages_total}


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def ingest_pages(self, page_ids: list[int]) -> list[dict]:
    """One batch through the page loop; pages that ended queued (a possibly transient error)
    are retried alone, and given up with the reason after MAX_RETRIES."""
    from dataclasses import asdict

    from search_app.ingest.pagework import PagesPending, give_up_page, run_pages

    def give_up(ids: list[int]):
        return lambda reason: [give_up_page(pid, reason) for pid in ids]

    try:
        outcomes = run_pages(page_ids)
    except Exception as exc:
        _retry_or_give_up(self, exc, give_up(page_ids))
        raise
    again = [o for o in outcomes if o.state == "queued"]
    if again:
        exc = PagesPending(f"{len(again)} 页待重试；第 {again[0].page_no} 页：{again[0].error}")
        ids = [o.page_id for o in again]
        _retry_or_give_up(self, exc, give_up(ids), args=[ids])
        raise exc
    return [asdict(o) for o in outcomes]


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def ingest_page(self, page_id: int) -> dict:
    """A single page (messages queued before page batches existed)."""
    from search_app.ingest.pagework import give_up_page, run_page

    try:
        page = run_page(page_id)
    except Exception as exc:
        _retry_or_give_up(self, exc, lambda reason: give_up_page(page_id, reason))
        raise
    return {"page_id": page.id, "page_no": page.page_no, "state": page.state}


@shared_task(bind=True, acks_late=True, max_retries=3)
def reocr_page(self, archive_no: str, page_no: int | None = None) -> list[dict]:
    from dataclasses import asdict

    from indexer.types import IngestError
    from search_app.ingest.reocr import reocr

    try:
        return [asdict(r) for r in reocr(archive_no, page_no=page_no)]
    except IngestError:
        raise  # permanent: the message says why, retrying cannot help
    except Exception as exc:
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task
def release_held_ingest() -> int:
    """Beat, every INGEST_HELD_RETRY_S (and each worker at start): send the tasks of ingest files
    held while Redis was down (search_app/ingest/held.py). Its own run proves Redis is back."""
    from search_app.ingest.held import release_held

    return release_held()


@shared_task
def verify_audit_chain() -> dict:
    """Scheduled by beat every AUDIT_VERIFY_MINUTES; writes an audit.alert record on a break."""
    from search_app.audit.service import verify_and_alert
    from search_app.db import get_session

    report = verify_and_alert(get_session())
    return {"ok": report.ok, "records": report.records, "problems": report.problems[:5]}


@shared_task
def write_audit_checkpoint() -> dict:
    """Beat, every AUDIT_CHECKPOINT_MINUTES: the chain head, anchored outside the database (the
    engine's checkpoint index and the append-only file), so a truncated log is caught. A head
    that fails its MAC is not anchored: an audit.alert record says why."""
    from search_app.audit.checkpoints import CheckpointError, write_checkpoint
    from search_app.audit.service import Actor, Event, record_event
    from search_app.db import get_session

    try:
        cp = write_checkpoint(get_session())
    except CheckpointError as exc:
        record_event(Actor(None, "system", "system"),
                     Event(action=Action.AUDIT_ALERT, outcome="error", reason=str(exc)[:1500]))
        return {"ok": False, "reason": str(exc)}
    return {"ok": True, "seq": cp.seq, "ts": cp.ts}


@shared_task
def expire_pending_requests() -> int:
    """Unanswered grant requests lapse after PENDING_REQUEST_HOURS (beat, hourly)."""
    from search_app.db import get_session
    from search_app.grants.services import expire_pending

    session = get_session()
    count = expire_pending(session)
    session.commit()
    return count


@shared_task
def scheduled_backup() -> dict:
    """A backup set under BACKUP_DIR with retention (search_app.backup.scheduled_backup)."""
    from search_app.backup import scheduled_backup as run

    return run()


@shared_task(bind=True, acks_late=True, max_retries=3)
def execute_destruction(self, request_id: int, executed_by: str) -> dict:
    """An approved destruction request (search_app.retention): idempotent, so a retry resumes."""
    from search_app.audit.service import Actor
    from search_app.db import get_session
    from search_app.retention.models import DestructionRequest
    from search_app.retention.services import execute

    session = get_session()
    req = session.get(DestructionRequest, request_id)
    done = execute(session, req, executed_by=executed_by,
                   actor=Actor(None, executed_by, "system_admin"))
    return {"request_id": request_id, "destroyed": [d.archive_no for d in done]}
