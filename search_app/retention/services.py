"""Destruction requests: propose (reasons + files whose retention ended), two approvals by two
different people neither of whom is the requester, execution, and the register.

Each step writes its audit record in the same transaction as the change. Execution records one
FILE_KEY_DESTROYED per file (what was removed, counted) and then DESTRUCTION_EXECUTE; a failure
leaves the request 'failed' with the reason, and executing it again resumes (shred.py is
idempotent)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.retention.appraisal import describe, due_files
from search_app.retention.models import DestroyedFile, DestructionRequest
from search_app.retention.shred import keystore, shred_file
from search_app.timeutil import local_time, utcnow

OPEN = ("pending", "pending_second", "approved", "failed")
REASONS_MAX = 2000


class DestructionError(ValueError):
    """A step that cannot be taken; the message says why, in Chinese. This base class is bad
    input (the API's 400); the two kinds below are a refusal by the rules (403) and a request no
    longer in a state that allows the step (409). The web screens answer 400 for all three."""


class DestructionRefused(DestructionError):
    """Separation of duties: the requester, or one person twice."""


class DestructionStateError(DestructionError):
    """The request's status does not allow the step (already decided, not yet approved)."""


def in_open_requests(session: Session) -> set[str]:
    rows = session.execute(select(DestructionRequest).where(DestructionRequest.status.in_(OPEN)))
    return {a for r in rows.scalars() for a in r.archive_nos}


def destroyed_nos(session: Session) -> set[str]:
    return set(session.execute(select(DestroyedFile.archive_no)).scalars())


def _refuse(session: Session, actor: Actor, action: str, reason: str, *,
            kind: type[DestructionError] = DestructionError, **filters) -> None:
    record_event(actor, Event(action=action, outcome="denied", reason=reason, filters=filters))
    raise kind(reason)


def request_destruction(session: Session, *, user: User, archive_nos: list[str], reasons: str,
                        actor: Actor, today: date) -> DestructionRequest:
    reasons = (reasons or "").strip()
    picked = sorted({a.strip() for a in archive_nos if a.strip()})
    due = {d.archive_no for d in due_files(session, today)}
    busy = in_open_requests(session) | destroyed_nos(session)
    why = ("必须填写销毁理由" if not reasons else
           f"销毁理由过长：最多 {REASONS_MAX} 个字符" if len(reasons) > REASONS_MAX else
           "必须选择至少一个到期文件" if not picked else "")
    if not why:
        for a in picked:
            if a in busy:
                why = f"档号 {a} 已在另一销毁申请中或已销毁"
            elif a not in due:
                item = describe(session, a)
                why = (f"档号 {a} 不在到期鉴定清单中（未导入，或未著录保管期限）" if item is None
                       else f"档号 {a} 为永久保管，不能销毁" if item.retention.due is None
                       else f"档号 {a} 的保管期限至 {item.retention.due.isoformat()} 才届满，不能销毁")
                break
    if why:
        _refuse(session, actor, Action.DESTRUCTION_REQUEST, why, archive_nos=picked)
    req = DestructionRequest(requested_by_id=user.id, requested_by=user.username, reasons=reasons,
                             archive_nos=picked, status="pending", created_at=utcnow())
    session.add(req)
    session.flush()
    record_event(actor, Event(action=Action.DESTRUCTION_REQUEST, outcome="allowed", query=reasons,
                              result_count=len(picked), returned_ids=picked,
                              filters={"destruction_request": req.id}), session=session)
    session.commit()
    return req


def approve(session: Session, req: DestructionRequest, *, user: User, actor: Actor
            ) -> DestructionRequest:
    """First approval → pending_second; the second, by someone else → approved."""
    where = {"destruction_request": req.id}
    if req.status not in ("pending", "pending_second"):
        _refuse(session, actor, Action.DESTRUCTION_APPROVE, f"销毁申请 #{req.id} 当前状态为"
                f"{req.label}，不能审批", kind=DestructionStateError, **where)
    if user.id == req.requested_by_id:
        _refuse(session, actor, Action.DESTRUCTION_APPROVE,
                "不能审批自己提出的销毁申请（须由申请人以外的两人批准）", kind=DestructionRefused,
                **where)
    if user.username == req.first_approver:
        _refuse(session, actor, Action.DESTRUCTION_APPROVE,
                "您已批准过此申请：第二审批须由另一人作出", kind=DestructionRefused, **where)
    now = utcnow()
    if req.status == "pending":
        req.first_approver, req.first_approved_at, req.status = user.username, now, "pending_second"
    else:
        req.second_approver, req.second_approved_at, req.status = user.username, now, "approved"
    record_event(actor, Event(action=Action.DESTRUCTION_APPROVE, outcome="allowed",
                              returned_ids=list(req.archive_nos),
                              filters={**where, "step": 1 if req.status == "pending_second" else 2}),
                 session=session)
    session.commit()
    return req


def deny(session: Session, req: DestructionRequest, *, user: User, reason: str, actor: Actor
         ) -> DestructionRequest:
    where = {"destruction_request": req.id}
    reason = (reason or "").strip()
    if req.status not in ("pending", "pending_second"):
        _refuse(session, actor, Action.DESTRUCTION_DENY, f"销毁申请 #{req.id} 当前状态为{req.label}，"
                "不能驳回", kind=DestructionStateError, **where)
    if not reason:
        _refuse(session, actor, Action.DESTRUCTION_DENY, "必须填写驳回理由", **where)
    if user.id == req.requested_by_id:
        _refuse(session, actor, Action.DESTRUCTION_DENY, "不能驳回自己提出的申请（可撤回）",
                kind=DestructionRefused, **where)
    req.status, req.decided_by, req.decision_reason = "denied", user.username, reason
    record_event(actor, Event(action=Action.DESTRUCTION_DENY, outcome="allowed", reason=reason,
                              filters=where), session=session)
    session.commit()
    return req


def _record(req: DestructionRequest, item, executed_by: str) -> dict:
    return {"archive_no": item.archive_no, "title": item.title, "page_count": item.page_count,
            "retention": item.retention.code, "year": item.retention.year, "request_id": req.id,
            "requested_by": req.requested_by,
            "approvers": [req.first_approver, req.second_approver], "reasons": req.reasons,
            "executed_by": executed_by, "destroyed_at": utcnow().isoformat(timespec="seconds")}


def add_register_row(session: Session, record: dict) -> DestroyedFile:
    from datetime import datetime

    row = session.execute(select(DestroyedFile).where(
        DestroyedFile.archive_no == record["archive_no"])).scalar_one_or_none()
    if row is None:
        cols = {c.key for c in DestroyedFile.__table__.columns} - {"id"}
        row = DestroyedFile(**{**{k: v for k, v in record.items() if k in cols},
                               "destroyed_at": datetime.fromisoformat(record["destroyed_at"])})
        session.add(row)
    return row


def execute(session: Session, req: DestructionRequest, *, executed_by: str, actor: Actor
            ) -> list[DestroyedFile]:
    where = {"destruction_request": req.id}
    if req.status not in ("approved", "failed"):
        _refuse(session, actor, Action.DESTRUCTION_EXECUTE, f"销毁申请 #{req.id} 当前状态为"
                f"{req.label}，须经两人批准后才能执行", kind=DestructionStateError, **where)
    done: list[DestroyedFile] = []
    try:
        for archive_no in req.archive_nos:
            tomb = {t["archive_no"]: t for t in keystore().destroyed()}.get(archive_no)
            item = describe(session, archive_no)
            record = tomb or (_record(req, item, executed_by) if item else None)
            if record is None:
                raise RuntimeError(f"档号 {archive_no} 的著录信息已不存在，无法登记销毁清册")
            result = shred_file(session, archive_no, record)
            done.append(add_register_row(session, record))
            record_event(actor, Event(
                action=Action.FILE_KEY_DESTROYED, outcome="allowed", returned_ids=[archive_no],
                filters={**where, "key_destroyed": result.key_destroyed,
                         "index_documents": result.index_docs, "rows": result.rows,
                         "blob_files": result.blob_files}), session=session)
            session.commit()
    except Exception as exc:
        session.rollback()
        req.status, req.error = "failed", f"{type(exc).__name__}: {exc}"[:1500]
        record_event(actor, Event(action=Action.DESTRUCTION_EXECUTE, outcome="error",
                                  reason=req.error, filters=where), session=session)
        session.commit()
        raise
    req.status, req.executed_by, req.executed_at, req.error = "executed", executed_by, utcnow(), ""
    record_event(actor, Event(action=Action.DESTRUCTION_EXECUTE, outcome="allowed",
                              result_count=len(done), returned_ids=list(req.archive_nos),
                              filters=where), session=session)
    session.commit()
    return done


def reapply_destructions(session: Session, actor: Actor) -> list[str]:
    """After a restore: every file the key store's tombstones name is destroyed again (index
    documents, rows, blobs of the restored copy) and its register row put back. Returns the
    档号 handled; one DESTRUCTION_REAPPLY record lists them."""
    handled = []
    for record in keystore().destroyed():
        shred_file(session, record["archive_no"], record)
        add_register_row(session, record)
        handled.append(record["archive_no"])
    if handled:
        record_event(actor, Event(action=Action.DESTRUCTION_REAPPLY, outcome="allowed",
                                  result_count=len(handled), returned_ids=handled),
                     session=session)
    session.commit()
    return handled


def when(value) -> str:
    return local_time(value)
