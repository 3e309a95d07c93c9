"""The grant workflow: request → approve (a second approver for 秘密/机密) or deny → active until
expiry → revoked or withdrawn; unanswered requests lapse. Every change writes an audit record
before it is committed (so a change the log cannot hold does not happen).
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from indexer.redact import mask_typed
from search_app import limits
from search_app.accounts.dual_control import puppet_refusal
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.catalogue.services import lists as catalogue_lists
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.grants.models import PENDING, STATUS_LABELS, Grant
from search_app.permissions import Permission, has_permission
from search_app.timeutil import utcnow
# Callers import the whole grant API from here; the reading side and the request rules live in
# their own modules.
from search_app.grants.queries import (active_grants, decided_by_me, grants_of,  # noqa: F401
                                       inbox, resolve_grant)
from search_app.grants.scope import (GrantDenied, GrantError, Request, Scope,  # noqa: F401
                                     purpose_limit_problem, validate_request)


class GrantRefused(GrantError):
    """The rules forbid this person this change (self-approval, the same approver twice, a
    puppet account, someone else's request): a refusal (API 403), not a typing mistake (400)."""


class GrantStateError(GrantError):
    """The request or grant is no longer in a state that allows this change (API 409)."""


def actor_of(user: User, client_addr: str = "") -> Actor:
    return Actor(user.id, user.username, user.role, client_addr)


def _ref(prefix: str, now: datetime) -> str:
    return f"{prefix}-{now:%Y%m%d}-{secrets.token_hex(3).upper()}"


def _audit(session: Session, actor: Actor, action: Action, grant: Grant, *,
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
    validate_request(user, req)
    now = utcnow()
    subject_hmac = subject_label = None
    if req.subject_id:
        subject_hmac = vault_from_config(current_app.config).blind_index("id_number", req.subject_id)
        subject_label = mask_typed("id_number", req.subject_id)
    grant = Grant(user_id=user.id, user=user, request_no=_ref("SQ", now),
                  purpose_category=req.purpose_category, purpose=req.purpose.strip(),
                  categories=list(req.scope.categories), units=list(req.scope.units),
                  classification_ceiling=catalogue_lists().levels[req.scope.classification],
                  archive_nos=list(req.scope.archive_nos), subject_hmac=subject_hmac,
                  subject_label=subject_label or "", unmask_fields=list(req.unmask_fields),
                  allow_lookup=req.allow_lookup, requested_hours=req.hours, status="pending",
                  created_at=now)
    session.add(grant)
    session.flush()
    _audit(session, actor, Action.GRANT_REQUEST, grant)
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
    record_event(actor, Event(action=Action.GRANT_APPROVE, outcome="denied", reason=reason,
                              purpose=grant.purpose if grant else "",
                              approval_ref=grant.ref if grant else "",
                              grant_id=grant.id if grant else None,
                              filters={"holder": requester.username, "approver": approver.username,
                                       "rule": "puppet"}))
    raise GrantRefused(reason)


def _check_approver(grant: Grant, approver: User) -> None:
    puppet = _puppet_refusal(grant.user, approver) if grant.user is not None else None
    if puppet:
        raise GrantRefused(puppet)
    if approver.id == grant.user_id:
        raise GrantRefused("授权不能由申请人本人批准")
    if not has_permission(approver.role, Permission.GRANT_APPROVE):
        raise GrantRefused(f"{approver.username} 不是审批人，不能审批授权")
    if grant.status == "pending_second" and grant.approved_by_id == approver.id:
        raise GrantRefused("秘密及以上密级须由另一名审批人复核，不能由同一人两次批准")
    if grant.status not in PENDING:
        raise GrantStateError(f"授权申请 {grant.request_no} 当前状态为 {STATUS_LABELS[grant.status]}，不能审批")


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
    purpose = catalogue_lists().purposes.get(grant.purpose_category)
    problem = (purpose_limit_problem(purpose, grant.unmask_fields, grant.requested_hours)
               if purpose else None)
    if problem:  # the category's limits may have been tightened since the request
        raise GrantError(f"{problem}（请缩短批准时长或驳回）")
    now = utcnow()
    if grant.status == "pending" and grant.needs_second_approval:
        grant.status, grant.approved_by_id, grant.approved_at = "pending_second", approver.id, now
        session.flush()
        _audit(session, actor, Action.GRANT_APPROVE, grant, reason="第一审批人已批准，待第二审批人复核")
        return grant
    if grant.status == "pending":
        grant.approved_by_id, grant.approved_at = approver.id, now
    else:
        grant.second_approved_by_id, grant.second_approved_at = approver.id, now
    grant.status, grant.approval_ref = "active", _ref("SP", now)
    grant.valid_from, grant.valid_until = now, now + timedelta(hours=grant.requested_hours)
    session.flush()
    _audit(session, actor, Action.GRANT_APPROVE, grant, reason=f"批准，有效 {grant.requested_hours:g} 小时")
    return grant


def deny(session: Session, grant: Grant, *, approver: User, reason: str, actor: Actor) -> Grant:
    _check_approver(grant, approver)
    if not reason.strip():
        raise GrantError("驳回必须填写理由")
    if too_long := limits.too_long("驳回理由", reason.strip(), limits.REASON):
        raise GrantError(too_long)
    grant.status, grant.decided_by_id, grant.decision_reason = "denied", approver.id, reason.strip()
    session.flush()
    _audit(session, actor, Action.GRANT_DENY, grant, reason=grant.decision_reason)
    return grant


def revoke(session: Session, grant: Grant, *, by: User, reason: str, actor: Actor) -> Grant:
    """Takes effect on the next read: resolve_grant checks the status every time."""
    if grant.status != "active":
        raise GrantStateError(f"授权 {grant.ref} 当前状态为 {STATUS_LABELS[grant.status]}，不能撤销")
    if not (has_permission(by.role, Permission.GRANT_APPROVE) or by.id == grant.user_id):
        raise GrantRefused("只有审批人或授权持有人可以撤销授权")
    if by.id != grant.user_id and not reason.strip():
        raise GrantError("撤销他人的授权必须填写理由")
    if too_long := limits.too_long("撤销理由", reason.strip(), limits.REASON):
        raise GrantError(too_long)
    grant.status, grant.revoked_at, grant.decided_by_id = "revoked", utcnow(), by.id
    grant.decision_reason = reason.strip() or ("持有人主动放弃" if by.id == grant.user_id else "")
    session.flush()
    _audit(session, actor, Action.GRANT_REVOKE, grant, reason=grant.decision_reason)
    return grant


def withdraw(session: Session, grant: Grant, *, by: User, actor: Actor) -> Grant:
    if by.id != grant.user_id:
        raise GrantRefused("只能撤回本人尚未审批的申请")
    if grant.status not in PENDING:
        raise GrantStateError(f"申请 {grant.request_no} 当前状态为 {STATUS_LABELS[grant.status]}，"
                              "只能撤回尚未审批的申请")
    grant.status, grant.decided_by_id = "withdrawn", by.id
    session.flush()
    _audit(session, actor, Action.GRANT_WITHDRAW, grant)
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
        _audit(session, SYSTEM_ACTOR, Action.GRANT_LAPSE, grant, reason=grant.decision_reason)
    return len(stale)


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
        raise GrantRefused("授权不能由申请人本人批准")
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
