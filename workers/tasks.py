"""Thin tasks: they take ids, re-fetch, and call the service that loops over pipeline stages."""
from __future__ import annotations

from celery import shared_task

MAX_RETRIES = 5


@shared_task(bind=True, acks_late=True, max_retries=MAX_RETRIES)
def ingest_file(self, file_id: int) -> dict:
    from search_app.ingest.service import mark_failed, run_file

    try:
        f = run_file(file_id)
    except Exception as exc:
        if self.request.retries >= MAX_RETRIES:
            mark_failed(file_id, f"重试 {MAX_RETRIES} 次后仍失败：{type(exc).__name__}: {exc}")
            raise
        raise self.retry(exc=exc, countdown=min(60, 2 ** self.request.retries)) from exc
    return {"file_id": f.id, "state": f.state, "pages": f.pages_done, "error": f.error}


@shared_task
def verify_audit_chain() -> dict:
    """Scheduled by beat every AUDIT_VERIFY_MINUTES; writes an audit.alert record on a break."""
    from search_app.audit.service import verify_and_alert
    from search_app.db import get_session

    report = verify_and_alert(get_session())
    return {"ok": report.ok, "records": report.records, "problems": report.problems[:5]}


@shared_task
def expire_pending_requests() -> int:
    """Unanswered grant requests lapse after PENDING_REQUEST_HOURS (beat, hourly)."""
    from search_app.db import get_session
    from search_app.grants.services import expire_pending

    session = get_session()
    count = expire_pending(session)
    session.commit()
    return count
