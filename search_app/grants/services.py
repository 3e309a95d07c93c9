"""The grant workflow: request → approve (a second approver for 秘密/机密) or deny → active until
expiry → revoked or withdrawn; unanswered requests lapse. Every change writes an audit record
before it is committed (so a change the log cannot hold does not happen).
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, object_session

from indexer.redact import mask_value
from search_app.accounts.dual_control import puppet_refusal
from search_app import limits
from search_app.accounts.models import User
from search_app.audit.service import Actor, Event, record_event
from search_app.config import CATEGORIES, CLASSIFICATION_LEVELS, UNMASK_FIELDS
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.grants.models import PENDING, Grant
from search_app.permissions import Permission, has_permission
from search_app.timeutil import utcnow


class GrantError(ValueError):
    """A request or decision is invalid; the message says why."""


class GrantDenied(PermissionError):
    """No usable grant for this read; `reason` is shown to the user and written to the audit log."""

    def __init__(self, reason: str, grant: Grant | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.grant = grant


@dataclass(frozen=True)
class Scope:
    categories: list[str]
    units: list[str]
    classification: str
    archive_nos: list[str]


@dataclass(frozen=True)
class Request:
    purpose_category: str
    purpose: str
    scope: Scope
    hours: float
    unmask_fields: tuple[str, ...] = ()
    allow_lookup: bool = False
    subject_id: str = ""  # a named subject person's ID number: only the blind index is kept


def actor_of(user: User, client_addr: str = "") -> Actor:
    return Actor(user.id, user.username, user.role, client_addr)


def _ref(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _mask_id(value: str) -> str:
    """The subject's ID number as every page shows it (one masking policy: indexer.redact)."""
    return mask_value("id_number", "".join(value.split()).upper())


def _validate(user: User, req: Request) -> None:
    cfg = current_app.config
    if not has_permission(user.role, Permission.GRANT_REQUEST):
        raise GrantError(f"{user.username} 的角色不能查询档案，不能申请查询授权")
    if req.purpose_category not in cfg["PURPOSE_CATEGORIES"]:
        raise GrantError(f"查询事由类别必须是 {'、'.join(cfg['PURPOSE_CATEGORIES'])} 之一")
    if not req.purpose.strip():
        raise GrantError("必须填写查询事由")
    if too_long := limits.too_long("查询事由", req.purpose.strip(), limits.PURPOSE):
        raise GrantError(too_long)
    bad = [c for c in req.scope.categories if c not in CATEGORIES]
    if not req.scope.categories or bad:
        raise GrantError(f"档案门类必须从 {'、'.join(CATEGORIES)} 中选择" + (f"，无效：{bad}" if bad else ""))
    if not req.scope.units:
        raise GrantError("必须指定至少一个单位")
    if req.scope.classification not in CLASSIFICATION_LEVELS:
        raise GrantError(f"密级上限必须是 {'、'.join(CLASSIFICATION_LEVELS)} 之一")
    bad = [f for f in req.unmask_fields if f not in UNMASK_FIELDS]
    if bad:
        raise GrantError(f"未知的可显示字段：{bad}")
    if not 0 < req.hours <= cfg["GRANT_MAX_HOURS"]:
        raise GrantError(f"授权时长必须大于 0 且不超过 {cfg['GRANT_MAX_HOURS']} 小时")
    if req.subject_id and len("".join(req.subject_id.split())) not in (15, 18):
        raise GrantError("指定当事人须填写 15 或 18 位身份证号")


def _audit(session: Session, actor: Actor, action: str, grant: Grant, *,
           outcome: str = "allowed", reason: str = "") -> None:
    """Written in the session that holds the change: both commit together or neither does."""
    record_event(actor, session=session, event=Event(
        action=action, outcome=outcome, reason=reason, purpose=grant.purpose,
        approval_ref=grant.ref, grant_id=grant.id,
        filters={"holder": grant.user.username if grant.user else grant.user_id,
                 "categories": grant.categories, "units": grant.units,
                 "classification_ceiling": grant.classification_ceiling,
                 "archive_nos": grant.archive_nos, "subject": grant.subject_label,
                 "unmask_fields": grant.unmask_fields, "allow_lookup": grant.allow_lookup,
                 "status": grant.status}))


def request_grant(session: Session, *, user: User, req: Request, actor: Actor) -> Grant:
    _validate(user, req)
    now = utcnow()
    subject_hmac = subject_label = None
    if req.subject_id:
        subject_hmac = vault_from_config(current_app.config).blind_index("id_number", req.subject_id)
        subject_label = _mask_id(req.subject_id)
    grant = Grant(user_id=user.id, user=user, request_no=_ref("SQ", now),
                  purpose_category=req.purpose_category, purpose=req.purpose.strip(),
                  categories=list(req.scope.categories), units=list(req.scope.units),
                  classification_ceiling=CLASSIFICATION_LEVELS[req.scope.classification],
                  archive_nos=list(req.scope.archive_nos), subject_hmac=subject_hmac,
                  subject_label=subject_label or "", unmask_fields=list(req.unmask_fields),
                  allow_lookup=req.allow_lookup, requested_hours=req.hours, status="pending",
                  created_at=now)
    session.add(grant)
    session.flush()
    _audit(session, actor, "grant.request", grant)
    return grant


def _puppet_refusal(requester: User, approver: User) -> str | None:
    """One security admin who made or last reset both accounts knew both passwords, so the
    approval would prove nothing (accounts.dual_control)."""
    session = object_session(requester) or object_session(approver) or get_session()
    return puppet_refusal(session, requester, approver)


def _refuse_puppet(grant: Grant | None, requester: User, approver: User, actor: Actor) -> None:
    """Audited in its own transaction (the caller rolls back on GrantError): call it only
    while the caller's session holds no uncommitted writes."""
    reason = _puppet_refusal(requester, approver)
    if reason is None:
        return
    record_event(actor, Event(action="grant.approve", outcome="denied", reason=reason,
                              purpose=grant.purpose if grant else "",
                              approval_ref=grant.ref if grant else "",
                              grant_id=grant.id if grant else None,
                              filters={"holder": requester.username, "approver": approver.username,
                                       "rule": "puppet"}))
    raise GrantError(reason)


def _check_approver(grant: Grant, approver: User) -> None:
    puppet = _puppet_refusal(grant.user, approver) if grant.user is not None else None
    if puppet:
        raise GrantError(puppet)
    if approver.id == grant.user_id:
        raise GrantError("授权不能由申请人本人批准")
    if not has_permission(approver.role, Permission.GRANT_APPROVE):
        raise GrantError(f"{approver.username} 不是审批人，不能审批授权")
    if grant.status == "pending_second" and grant.approved_by_id == approver.id:
        raise GrantError("秘密及以上密级须由另一名审批人复核，不能由同一人两次批准")
    if grant.status not in PENDING:
        raise GrantError(f"授权申请 {grant.request_no} 当前状态为 {STATUS_LABELS[grant.status]}，不能审批")


def approve(session: Session, grant: Grant, *, approver: User, actor: Actor,
            hours: float | None = None) -> Grant:
    """First approval, or the second one for 秘密/机密; the last approval starts the clock.
    An approver may shorten the duration, never lengthen it."""
    if grant.user is not None:  # first, while nothing is written: the refusal is audited apart
        _refuse_puppet(grant, grant.user, approver, actor)
    expire_pending(session)
    _check_approver(grant, approver)
    if hours is not None:
        if not 0 < hours <= grant.requested_hours:
            raise GrantError(f"批准时长必须大于 0 且不超过申请的 {grant.requested_hours:g} 小时")
        grant.requested_hours = hours
    now = utcnow()
    if grant.status == "pending" and grant.needs_second_approval:
        grant.status, grant.approved_by_id, grant.approved_at = "pending_second", approver.id, now
        session.flush()
        _audit(session, actor, "grant.approve", grant, reason="第一审批人已批准，待第二审批人复核")
        return grant
    if grant.status == "pending":
        grant.approved_by_id, grant.approved_at = approver.id, now
    else:
        grant.second_approved_by_id, grant.second_approved_at = approver.id, now
    grant.status, grant.approval_ref = "active", _ref("SP", now)
    grant.valid_from, grant.valid_until = now, now + timedelta(hours=grant.requested_hours)
    session.flush()
    _audit(session, actor, "grant.approve", grant, reason=f"批准，有效 {grant.requested_hours:g} 小时")
    return grant


def deny(session: Session, grant: Grant, *, approver: User, reason: str, actor: Actor) -> Grant:
    _check_approver(grant, approver)
    if not reason.strip():
        raise GrantError("驳回必须填写理由")
    if too_long := limits.too_long("驳回理由", reason.strip(), limits.REASON):
        raise GrantError(too_long)
    grant.status, grant.decided_by_id, grant.decision_reason = "denied", approver.id, reason.strip()
    session.flush()
    _audit(session, actor, "grant.deny", grant, reason=grant.decision_reason)
    return grant


def revoke(session: Session, grant: Grant, *, by: User, reason: str, actor: Actor) -> Grant:
    """Takes effect on the next read: resolve_grant checks the status every time."""
    if grant.status != "active":
        raise GrantError(f"授权 {grant.ref} 当前状态为 {STATUS_LABELS[grant.status]}，不能撤销")
    if not (has_permission(by.role, Permission.GRANT_APPROVE) or by.id == grant.user_id):
        raise GrantError("只有审批人或授权持有人可以撤销授权")
    if by.id != grant.user_id and not reason.strip():
        raise GrantError("撤销他人的授权必须填写理由")
    if too_long := limits.too_long("撤销理由", reason.strip(), limits.REASON):
        raise GrantError(too_long)
    grant.status, grant.revoked_at, grant.decided_by_id = "revoked", utcnow(), by.id
    grant.decision_reason = reason.strip() or ("持有人主动放弃" if by.id == grant.user_id else "")
    session.flush()
    _audit(session, actor, "grant.revoke", grant, reason=grant.decision_reason)
    return grant


def withdraw(session: Session, grant: Grant, *, by: User, actor: Actor) -> Grant:
    if by.id != grant.user_id or grant.status not in PENDING:
        raise GrantError("只能撤回本人尚未审批的申请")
    grant.status, grant.decided_by_id = "withdrawn", by.id
    session.flush()
    _audit(session, actor, "grant.withdraw", grant)
    return grant


SYSTEM_ACTOR = Actor(None, "system", "system", "")


def expire_pending(session: Session, now: datetime | None = None) -> int:
    """Requests unanswered for PENDING_REQUEST_HOURS lapse (the beat task and every inbox view
    run this, so a lapsed request is never approved late)."""
    now = now or utcnow()
    cutoff = now - timedelta(hours=current_app.config["PENDING_REQUEST_HOURS"])
    stale = session.execute(select(Grant).where(Grant.status.in_(PENDING),
                                                Grant.created_at < cutoff)).scalars().all()
    for grant in stale:
        grant.status = "lapsed"
        grant.decision_reason = f"超过 {current_app.config['PENDING_REQUEST_HOURS']} 小时未审批"
        session.flush()
        _audit(session, SYSTEM_ACTOR, "grant.lapse", grant, reason=grant.decision_reason)
    return len(stale)


def inbox(session: Session, approver: User) -> list[Grant]:
    """Requests this approver may decide: never their own, never one they already approved."""
    rows = session.execute(
        select(Grant).where(Grant.status.in_(PENDING), Grant.user_id != approver.id,
                            or_(Grant.approved_by_id.is_(None), Grant.approved_by_id != approver.id))
        .order_by(Grant.created_at)).scalars().all()
    return list(rows)


def decided_by_me(session: Session, approver: User, limit: int = 50) -> list[Grant]:
    return list(session.execute(
        select(Grant).where(or_(Grant.approved_by_id == approver.id,
                                Grant.second_approved_by_id == approver.id,
                                Grant.decided_by_id == approver.id))
        .order_by(Grant.created_at.desc()).limit(limit)).scalars())


def create_grant(session: Session, *, user: User, approver: User, purpose: str, scope: Scope,
                 hours: float, unmask_fields: list[str] | None = None,
                 second_approver: User | None = None, purpose_category: str = "户籍核查",
                 allow_lookup: bool = False, subject_id: str = "") -> Grant:
    """Request and approve in one step, for demo data and test factories only (never the CLI:
    an approval is the approver's own authenticated action). Same rules and audit records as
    the UI, including the second approver for 秘密/机密 and the puppet rule."""
    req = Request(purpose_category=purpose_category, purpose=purpose, scope=scope, hours=hours,
                  unmask_fields=tuple(unmask_fields or ()), allow_lookup=allow_lookup,
                  subject_id=subject_id)
    if approver.id == user.id:  # refuse before anything is written
        raise GrantError("授权不能由申请人本人批准")
    for someone in (approver, second_approver):
        if someone is not None:
            _refuse_puppet(None, user, someone, actor_of(someone))
    grant = request_grant(session, user=user, req=req, actor=actor_of(user))
    approve(session, grant, approver=approver, actor=actor_of(approver))
    if grant.status == "pending_second":
        if second_approver is None:
            raise GrantError("秘密及以上密级的授权需要第二审批人")
        approve(session, grant, approver=second_approver, actor=actor_of(second_approver))
    return grant


def grants_of(session: Session, user: User) -> list[Grant]:
    """All of the user's grants and requests, newest first; history stays visible."""
    return list(session.execute(select(Grant).where(Grant.user_id == user.id)
                                .order_by(Grant.created_at.desc(), Grant.id.desc())).scalars())


def active_grants(session: Session, user: User, now: datetime | None = None) -> list[Grant]:
    now = now or utcnow()
    return [g for g in grants_of(session, user) if g.inactive_reason(now) is None]


def resolve_grant(session: Session, user: User, grant_id: int | None,
                  now: datetime | None = None) -> Grant:
    """The grant a read runs under, checked now (expiry is enforced here, not only by a task)."""
    if grant_id is None:
        raise GrantDenied("未选择查询授权：每次查询必须在一项有效授权下进行")
    grant = session.get(Grant, grant_id)
    if grant is None or grant.user_id != user.id:
        raise GrantDenied(f"授权 #{grant_id} 不存在或不属于您")
    session.refresh(grant)  # a revocation committed by another request takes effect now
    reason = grant.inactive_reason(now or utcnow())
    if reason:
        raise GrantDenied(reason, grant)
    return grant


STATUS_LABELS = {"pending": "待审批", "pending_second": "待第二审批人复核", "active": "已批准",
                 "denied": "已驳回", "lapsed": "逾期未审批", "withdrawn": "已撤回",
                 "revoked": "已撤销"}
