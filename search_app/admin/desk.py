"""What the security admin's account screens (/admin/users, /admin/pending, /admin/throttles)
and /api/v1/admin share: the lists they show, and every change with its audit record. A change
is audited in the transaction that commits it; a refused one (AccountError, or its subclasses
AccountRefused for a rule and AccountConflict for a state) is rolled back, audited as denied in
its own transaction, and raised again, so the caller only words the answer. ID numbers typed
here become blind-index hashes at once (admin.identity) and are never stored or logged.

Changes that could bring about a read are only proposed here (accounts.dual_control) and take
effect when a second security admin confirms them in the queue."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app import limits
from search_app.accounts import dual_control, throttle
from search_app.accounts.models import LoginThrottle, PendingAccountChange, User
from search_app.accounts.services import (AccountError, create_user, end_all_sessions,
                                          normalise_roles, reset_password, set_identity, unlock,
                                          update_user)
from search_app.admin.identity import id_hmacs, own_identity
from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.timeutil import utcnow

ACTIONS = ("unlock", "end_sessions", "reset_password", "clear_identity")


@dataclass(frozen=True)
class Fields:
    """What a security admin typed. None: leave unchanged (the API's omitted fields)."""
    username: str = ""
    password: str = ""
    roles: list[str] | None = None
    display_name: str | None = None
    unit: str | None = None
    enabled: bool | None = None
    id_number: str = ""
    relatives: str = ""


@dataclass
class Outcome:
    user: User
    message: str
    changes: list[str] = field(default_factory=list)
    pending: list[PendingAccountChange] = field(default_factory=list)


def awaiting(p: PendingAccountChange) -> str:
    return f"{p.summary}：待另一名安全管理员确认后生效（变更 #{p.id}）"


def _refused(session: Session, actor: Actor, action: str, target: str, exc: AccountError) -> None:
    """A refused change is accountable too (a security admin trying to break separation of
    duties); written after the rollback, in its own transaction."""
    session.rollback()
    record_event(actor, Event(action=action, outcome="denied", reason=str(exc),
                              filters={"target": limits.clip(target, limits.USERNAME)}))


def _changed(session: Session, actor: Actor, action: str, target: User, changes: list[str],
             pending: list[PendingAccountChange] = ()) -> None:
    extra = {"pending_changes": [p.id for p in pending]} if pending else {}
    reason = ("待另一名安全管理员确认后生效：" + "；".join(f"#{p.id} {p.summary}" for p in pending)
              if pending else "")
    record_event(actor, Event(action=action, outcome="allowed", reason=reason,
                              filters={"target": target.username, "changes": changes, **extra}),
                 session=session)  # commits with the change itself


# --- lists ---

@dataclass(frozen=True)
class UserRows:
    rows: list[User]
    waiting: dict[int, list[str]]  # user id -> "#id summary" of its pending changes
    limited: dict[str, datetime]  # user name -> when its login delay ends
    now: datetime


def user_rows(session: Session, config: Mapping[str, Any]) -> UserRows:
    rows = list(session.execute(select(User).order_by(User.username)).scalars())
    waiting: dict[int, list[str]] = {}
    for change in session.execute(select(PendingAccountChange)
                                  .where(PendingAccountChange.status == "pending")).scalars():
        waiting.setdefault(change.user_id, []).append(f"#{change.id} {change.summary}")
    now = utcnow()
    limited: dict[str, datetime] = {}
    for row in throttle.throttled(session, throttle.ThrottlePolicy.from_config(config), now):
        if row.scope in ("account", "pair"):
            limited[row.username] = max(limited.get(row.username, row.next_at), row.next_at)
    return UserRows(rows, waiting, limited, now)


def throttle_rows(session: Session, config: Mapping[str, Any]) -> tuple[list[LoginThrottle], set[str], datetime]:
    """Names and addresses whose login attempts are being delayed (typed names, existing or
    not: the list is for the security admin, the login form never tells), and which are accounts."""
    now = utcnow()
    rows = throttle.throttled(session, throttle.ThrottlePolicy.from_config(config), now)
    known = set(session.execute(select(User.username).where(
        User.username.in_([r.username for r in rows if r.username]))).scalars())
    return rows, known, now


# --- changes ---

def create_account(session: Session, fields: Fields, *, by: User, actor: Actor) -> Outcome:
    try:
        display_name = (fields.display_name or "").strip()
        own, person = own_identity(fields.id_number, display_name)
        user = create_user(session, username=fields.username, password=fields.password,
                           role=fields.roles or [], display_name=display_name,
                           unit=(fields.unit or "").strip(), id_number_hmac=own)
        set_identity(user, own_hmac=own, person_hmac=person,
                     relative_hmacs=id_hmacs(fields.relatives, "亲属身份证号"))
        user.created_by = by.username
        pending = ([dual_control.propose_create(session, user, proposer=by.username)]
                   if dual_control.needs_second_admin(user.role) else [])
        changes = [f"角色 {user.role}", f"单位 {user.unit}",
                   f"本人身份 {'已登记' if own else '未登记'}{'（含姓名+出生日期）' if person else ''}",
                   f"亲属 {len(user.relative_hmacs)} 人"]
        _changed(session, actor, Action.USER_CREATE, user, changes, pending)
        session.commit()
    except AccountError as exc:
        _refused(session, actor, Action.USER_CREATE, fields.username.strip(), exc)
        raise
    return Outcome(user, awaiting(pending[0]) if pending else f"已创建用户 {user.username}",
                   changes, pending)


def update_account(session: Session, user: User, fields: Fields, *, by: User,
                   actor: Actor) -> Outcome:
    username = user.username
    try:
        role = normalise_roles(fields.roles) if fields.roles is not None else None
        enabled = fields.enabled
        renamed = (fields.display_name or "").strip() not in ("", user.display_name)
        pending = []
        if role is not None and role != user.role and dual_control.needs_second_admin(user.role, role):
            pending.append(dual_control.propose_role(session, user, role=role, proposer=by.username,
                                                     proposer_id=by.id))
            role = None
        if enabled and not user.is_enabled and dual_control.needs_second_admin(user.role):
            pending.append(dual_control.propose_enable(session, user, proposer=by.username))
            enabled = None
        changes = update_user(session, user, by=by, role=role, unit=fields.unit,
                              display_name=fields.display_name, enabled=enabled)
        changes += [awaiting(p) for p in pending]
        if renamed and user.id_number_hmac and not fields.id_number.strip():
            # the (name, birth date) term needs the birth date, which only the number holds
            raise AccountError("修改已登记身份用户的姓名时，须同时重新填写本人身份证号"
                               "（用于按姓名和出生日期自我回避）")
        if fields.id_number.strip() or fields.relatives.strip():
            own, person = own_identity(fields.id_number, user.display_name)
            relatives = id_hmacs(fields.relatives, "亲属身份证号")
            set_identity(user, own_hmac=own or user.id_number_hmac,
                         person_hmac=person if own else None,
                         relative_hmacs=[*user.relative_hmacs, *relatives])
            changes.append(f"自我回避身份更新（亲属共 {len(user.relative_hmacs)} 人）")
        if changes:
            _changed(session, actor, Action.USER_UPDATE, user, changes, pending)
        session.commit()
    except AccountError as exc:
        _refused(session, actor, Action.USER_UPDATE, username, exc)
        raise
    return Outcome(user, "已保存：" + ("；".join(changes) if changes else "没有变化"), changes, pending)


def account_action(session: Session, user: User, action: str, *, by: User, actor: Actor,
                   password: str = "", confirm: bool = False) -> Outcome:
    """One of ACTIONS (the caller refuses any other as bad input, unaudited)."""
    if action not in ACTIONS:
        raise ValueError(action)
    username = user.username
    pending: list[PendingAccountChange] = []
    try:
        if action == "unlock":
            message = f"已解除登录限速（{unlock(user)} 项）"
        elif action == "end_sessions":
            end_all_sessions(user, "admin")
            message = "已结束该用户的全部会话（含 API 令牌）"
        elif action == "reset_password" and dual_control.needs_second_admin(user.role):
            pending = [dual_control.propose_reset(session, user, password=password,
                                                  proposer=by.username)]
            message = awaiting(pending[0]) + "；在此之前原密码仍然有效"
        elif action == "reset_password":
            reset_password(user, password)
            user.last_reset_by = by.username
            message = "已重置密码并结束其全部会话"
        else:  # clear_identity
            if not confirm:  # irreversible: the numbers are not kept
                raise AccountError("清除身份登记不可撤回（身份证号只以哈希保存，须重新录入）：请勾选“确认”后再提交")
            set_identity(user, own_hmac=None, relative_hmacs=[], person_hmac=None)
            message = "已清除本人及亲属身份登记"
        _changed(session, actor, f"user.{action}", user, [message], pending)
        session.commit()
    except AccountError as exc:
        _refused(session, actor, f"user.{action}", username, exc)
        raise
    return Outcome(user, message, [message], pending)


def decide(session: Session, change: PendingAccountChange, decision: str, *, by: User,
           actor: Actor, reason: str = "") -> str:
    """confirm | reject a proposed account change (never one's own proposal); what took effect."""
    target, action = change.user.username, f"user.{decision}_change"
    filters = {"target": target, "change": change.id, "kind": change.kind,
               "proposed_by": change.proposed_by}
    try:
        if decision == "confirm":
            done = dual_control.confirm(session, change, by=by)
        else:
            done = dual_control.reject(session, change, by=by, reason=reason)
        record_event(actor, Event(action=action, outcome="allowed", reason=done, filters=filters),
                     session=session)
        session.commit()
    except AccountError as exc:
        session.rollback()
        record_event(actor, Event(action=action, outcome="denied", reason=str(exc), filters=filters))
        raise
    return done


def throttle_label(row: LoginThrottle) -> str:
    return f"{throttle.SCOPE_LABELS[row.scope]} {row.username or ''} {row.client_addr or ''}".strip()


def lift_throttle(session: Session, key: str, *, actor: Actor) -> LoginThrottle | None:
    """None: the delay has already ended or been lifted (nothing to audit)."""
    row = throttle.lift(session, key)
    if row is None:
        return None
    record_event(actor, Event(
        action=Action.THROTTLE_LIFT, outcome="allowed",
        filters={"target": row.username, "scope": row.scope, "client_addr": row.client_addr,
                 "failures": row.failures}), session=session)
    session.commit()
    return row
