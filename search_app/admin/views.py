"""User management for the security admin. Every change is audited before it is committed; ID
numbers typed here are turned into blind-index hashes at once and never stored or logged.
Changes that could bring about a read (creating, re-roling, re-enabling or resetting staff,
approver and security admin accounts) are proposals until a second security admin confirms them
in the queue at /admin/pending (accounts.dual_control)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from search_app import limits
from search_app.accounts import dual_control, throttle
from search_app.accounts.models import PendingAccountChange, User
from search_app.accounts.services import (AccountError, create_user, end_all_sessions,
                                          normalise_roles, reset_password, set_identity, unlock,
                                          update_user)
from search_app.admin.identity import id_hmacs, own_identity
from search_app.audit.service import Event, record_event, request_actor
from search_app.db import get_session
from search_app.permissions import ROLE_LABELS, Permission, Role, requires
from search_app.timeutil import utcnow
from search_app.audit.actions import Action

bp = Blueprint("admin", __name__, url_prefix="/admin")



def _audit_refusal(action: str, target: str, exc: AccountError) -> None:
    """A refused change is accountable too (a security admin trying to break separation of
    duties); written after the rollback, in its own transaction."""
    record_event(request_actor(), Event(action=action, outcome="denied", reason=str(exc),
                                        filters={"target": limits.clip(target, limits.USERNAME)}))


def _audit_change(action: str, target: User, changes: list[str],
                  pending: list[PendingAccountChange] = ()) -> None:
    extra = {"pending_changes": [p.id for p in pending]} if pending else {}
    reason = ("待另一名安全管理员确认后生效：" + "；".join(f"#{p.id} {p.summary}" for p in pending)
              if pending else "")
    record_event(request_actor(), Event(action=action, outcome="allowed", reason=reason,
                                        filters={"target": target.username, "changes": changes,
                                                 **extra}),
                 session=get_session())  # commits with the change itself


def _awaiting(p: PendingAccountChange) -> str:
    return f"{p.summary}：待另一名安全管理员确认后生效（变更 #{p.id}）"


def _target(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404, description=f"用户 #{user_id} 不存在")
    return user


@bp.route("/users")
@requires(Permission.USER_MANAGE)
def users():
    session = get_session()
    rows = session.execute(select(User).order_by(User.username)).scalars().all()
    waiting: dict[int, list[str]] = {}
    for change in session.execute(select(PendingAccountChange)
                                  .where(PendingAccountChange.status == "pending")).scalars():
        waiting.setdefault(change.user_id, []).append(f"#{change.id} {change.summary}")
    now = utcnow()
    limited: dict = {}
    for row in throttle.throttled(session, throttle.ThrottlePolicy.from_config(current_app.config), now):
        if row.scope in ("account", "pair"):
            limited[row.username] = max(limited.get(row.username, row.next_at), row.next_at)
    return render_template("admin_users.html", rows=rows, now=now, role_labels=ROLE_LABELS,
                           waiting=waiting, limited=limited)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def new_user():
    form = request.form
    if request.method == "POST":
        session = get_session()
        try:
            display_name = form.get("display_name", "").strip()
            own, person = own_identity(form.get("id_number", ""), display_name)
            user = create_user(session, username=form.get("username", ""),
                               password=form.get("password", ""), role=form.getlist("roles"),
                               display_name=display_name,
                               unit=form.get("unit", "").strip(), id_number_hmac=own)
            set_identity(user, own_hmac=own, person_hmac=person,
                         relative_hmacs=id_hmacs(form.get("relatives", ""), "亲属身份证号"))
            user.created_by = current_user.username
            pending = ([dual_control.propose_create(session, user, proposer=current_user.username)]
                       if dual_control.needs_second_admin(user.role) else [])
            _audit_change(Action.USER_CREATE, user, [f"角色 {user.role}", f"单位 {user.unit}",
                                                f"本人身份 {'已登记' if own else '未登记'}"
                                                f"{'（含姓名+出生日期）' if person else ''}",
                                                f"亲属 {len(user.relative_hmacs)} 人"], pending)
            session.commit()
        except AccountError as exc:
            session.rollback()
            _audit_refusal(Action.USER_CREATE, form.get("username", "").strip(), exc)
            flash(f"未创建：{exc}", "error")
            return render_template("admin_user_form.html", user=None, form=form, roles=list(Role),
                                   role_labels=ROLE_LABELS), 400
        flash(_awaiting(pending[0]) if pending else f"已创建用户 {user.username}", "info")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin_user_form.html", user=None, form=form, roles=list(Role),
                           role_labels=ROLE_LABELS)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def edit_user(user_id: int):
    user = _target(user_id)
    if request.method == "POST":
        session = get_session()
        form = request.form
        try:
            role, enabled = normalise_roles(form.getlist("roles")), form.get("enabled") == "on"
            renamed = form.get("display_name", "").strip() not in ("", user.display_name)
            pending = []
            if role != user.role and dual_control.needs_second_admin(user.role, role):
                pending.append(dual_control.propose_role(session, user, role=role,
                                                         proposer=current_user.username,
                                                         proposer_id=current_user.id))
                role = None
            if enabled and not user.is_enabled and dual_control.needs_second_admin(user.role):
                pending.append(dual_control.propose_enable(session, user,
                                                           proposer=current_user.username))
                enabled = None
            changes = update_user(session, user, by=current_user, role=role,
                                  unit=form.get("unit"), display_name=form.get("display_name"),
                                  enabled=enabled)
            changes += [_awaiting(p) for p in pending]
            if renamed and user.id_number_hmac and not form.get("id_number", "").strip():
                # the (name, birth date) term needs the birth date, which only the number holds
                raise AccountError("修改已登记身份用户的姓名时，须同时重新填写本人身份证号"
                                   "（用于按姓名和出生日期自我回避）")
            if form.get("id_number", "").strip() or form.get("relatives", "").strip():
                own, person = own_identity(form.get("id_number", ""), user.display_name)
                relatives = id_hmacs(form.get("relatives", ""), "亲属身份证号")
                set_identity(user, own_hmac=own or user.id_number_hmac,
                             person_hmac=person if own else None,
                             relative_hmacs=[*user.relative_hmacs, *relatives])
                changes.append(f"自我回避身份更新（亲属共 {len(user.relative_hmacs)} 人）")
            if changes:
                _audit_change(Action.USER_UPDATE, user, changes, pending)
            session.commit()
        except AccountError as exc:
            session.rollback()
            _audit_refusal(Action.USER_UPDATE, user.username, exc)
            flash(f"未保存：{exc}", "error")
            return render_template("admin_user_form.html", user=user, form=form, roles=list(Role),
                                   role_labels=ROLE_LABELS), 400
        flash("已保存：" + ("；".join(changes) if changes else "没有变化"), "info")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin_user_form.html", user=user, form={}, roles=list(Role),
                           role_labels=ROLE_LABELS,
                           waiting=dual_control.pending_of(get_session(), user))


@bp.route("/users/<int:user_id>/action", methods=["POST"])
@requires(Permission.USER_MANAGE)
def user_action(user_id: int):
    """unlock | end_sessions | reset_password | clear_identity"""
    user = _target(user_id)
    session = get_session()
    action = request.form.get("action", "")
    pending: list[PendingAccountChange] = []
    try:
        if action == "unlock":
            lifted = unlock(user)
            message = f"已解除登录限速（{lifted} 项）"
        elif action == "end_sessions":
            end_all_sessions(user, "admin")
            message = "已结束该用户的全部会话（含 API 令牌）"
        elif action == "reset_password" and dual_control.needs_second_admin(user.role):
            pending = [dual_control.propose_reset(session, user,
                                                  password=request.form.get("password", ""),
                                                  proposer=current_user.username)]
            message = _awaiting(pending[0]) + "；在此之前原密码仍然有效"
        elif action == "reset_password":
            reset_password(user, request.form.get("password", ""))
            user.last_reset_by = current_user.username
            message = "已重置密码并结束其全部会话"
        elif action == "clear_identity":
            if request.form.get("confirm") != "yes":  # irreversible: the numbers are not kept
                raise AccountError("清除身份登记不可撤回（身份证号只以哈希保存，须重新录入）：请勾选“确认”后再提交")
            set_identity(user, own_hmac=None, relative_hmacs=[], person_hmac=None)
            message = "已清除本人及亲属身份登记"
        else:
            abort(400, description=f"未知操作 {action!r}")
        _audit_change(f"user.{action}", user, [message], pending)
        session.commit()
    except AccountError as exc:
        session.rollback()
        _audit_refusal(f"user.{action}", user.username, exc)
        flash(f"未执行：{exc}", "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    flash(message, "info")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/pending")
@requires(Permission.USER_MANAGE)
def pending_changes():
    """The second security admin's queue: account changes waiting for confirmation."""
    rows = dual_control.queue(get_session())
    return render_template("admin_pending.html", rows=rows, kinds=dual_control.KIND_LABELS,
                           statuses=dual_control.STATUS_LABELS)


@bp.route("/pending/<int:change_id>", methods=["POST"])
@requires(Permission.USER_MANAGE)
def decide_pending(change_id: int):
    """confirm | reject a proposed account change (never one's own proposal)."""
    decision = request.form.get("decision", "")
    if decision not in ("confirm", "reject"):
        abort(400, description="请选择确认或驳回")
    session = get_session()
    change = session.get(PendingAccountChange, change_id)
    if change is None:
        abort(404, description=f"账号变更 #{change_id} 不存在")
    target, action = change.user, f"user.{decision}_change"
    try:
        if decision == "confirm":
            done = dual_control.confirm(session, change, by=current_user)
        else:
            done = dual_control.reject(session, change, by=current_user,
                                       reason=request.form.get("reason", ""))
        record_event(request_actor(), Event(
            action=action, outcome="allowed", reason=done,
            filters={"target": target.username, "change": change.id, "kind": change.kind,
                     "proposed_by": change.proposed_by}), session=session)
        session.commit()
    except AccountError as exc:
        session.rollback()
        record_event(request_actor(), Event(
            action=action, outcome="denied", reason=str(exc),
            filters={"target": target.username, "change": change_id, "kind": change.kind,
                     "proposed_by": change.proposed_by}))
        flash(f"未执行：{exc}", "error")
        return redirect(url_for("admin.pending_changes")), 303
    flash(f"变更 #{change.id}：{done}", "info")
    return redirect(url_for("admin.pending_changes")), 303


@bp.route("/throttles")
@requires(Permission.USER_MANAGE)
def throttles():
    """Names and addresses whose login attempts are being delayed (typed names, existing or
    not: the list is for the security admin, the login form never tells)."""
    session = get_session()
    now = utcnow()
    rows = throttle.throttled(session, throttle.ThrottlePolicy.from_config(current_app.config), now)
    known = set(session.execute(select(User.username).where(
        User.username.in_([r.username for r in rows if r.username]))).scalars())
    return render_template("admin_throttles.html", rows=rows, now=now, known=known,
                           labels=throttle.SCOPE_LABELS)


@bp.route("/throttles/lift", methods=["POST"])
@requires(Permission.USER_MANAGE)
def lift_throttle():
    session = get_session()
    row = throttle.lift(session, request.form.get("key", ""))
    if row is None:
        flash("该限速已不存在（已到期或已解除）", "info")
        return redirect(url_for("admin.throttles"))
    label = f"{throttle.SCOPE_LABELS[row.scope]} {row.username or ''} {row.client_addr or ''}".strip()
    record_event(request_actor(), Event(
        action=Action.THROTTLE_LIFT, outcome="allowed",
        filters={"target": row.username, "scope": row.scope, "client_addr": row.client_addr,
                 "failures": row.failures}), session=session)
    session.commit()
    flash(f"已解除登录限速：{label}", "info")
    return redirect(url_for("admin.throttles"))
