"""What the appraisal and destruction screens and /api/v1/retention share: the lists they show
(each view audited), loading a request, and queueing an execution to the worker. The steps
themselves (propose, approve, deny, execute) are in services.py."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.retention import services
from search_app.retention.appraisal import DueFile, due_files
from search_app.retention.models import DestroyedFile, DestructionRequest
from search_app.timeutil import display_zone

LIST_MAX = 200
EXECUTABLE = ("approved", "failed")


def today() -> date:
    """Retention periods end on local calendar days."""
    return datetime.now(display_zone()).date()


def appraisal(session: Session, actor: Actor) -> list[DueFile]:
    """Files whose retention period has ended and that no open request or the register holds."""
    busy = services.in_open_requests(session) | services.destroyed_nos(session)
    rows = due_files(session, today(), exclude=busy)
    record_event(actor, Event(action=Action.APPRAISAL_VIEW, outcome="allowed", result_count=len(rows),
                              returned_ids=[r.archive_no for r in rows][:500]))
    return rows


def request_list(session: Session, statuses: tuple[str, ...] | None = None) -> list[DestructionRequest]:
    stmt = select(DestructionRequest).order_by(DestructionRequest.id.desc())
    if statuses:
        stmt = stmt.where(DestructionRequest.status.in_(statuses))
    return list(session.execute(stmt.limit(LIST_MAX)).scalars())


def load(session: Session, request_id: int | None) -> DestructionRequest | None:
    return session.get(DestructionRequest, request_id) if request_id is not None else None


def queue_execution(session: Session, req: DestructionRequest, *, user: User, actor: Actor) -> None:
    """Queued to the worker (index writes are its identity's, never the web's); a request not
    approved by two people is refused here too (audited), not only by the worker."""
    from workers.tasks import execute_destruction

    if req.status not in EXECUTABLE:
        record_event(actor, Event(action=Action.DESTRUCTION_EXECUTE, outcome="denied",
                                  reason=f"销毁申请状态为{req.label}",
                                  filters={"destruction_request": req.id}))
        raise services.DestructionStateError(f"销毁申请 #{req.id} 当前状态为{req.label}，须经两人"
                                             "批准后才能执行")
    execute_destruction.delay(req.id, user.username)


def destroyed(session: Session, actor: Actor) -> list[DestroyedFile]:
    rows = list(session.execute(select(DestroyedFile).order_by(
        DestroyedFile.destroyed_at.desc())).scalars())
    record_event(actor, Event(action=Action.DESTRUCTION_REGISTER_VIEW, outcome="allowed",
                              result_count=len(rows)))
    return rows
