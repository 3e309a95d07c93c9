"""User management for the security admin. Every change is audited before it is committed; ID
numbers typed here are turned into blind-index hashes at once and never stored or logged."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from indexer.pii import valid_id15, valid_id18
from search_app import limits
from search_app.accounts.models import User
from search_app.accounts.services import (AccountError, create_user, end_all_sessions,
                                          reset_password, set_identity, unlock, update_user)
from search_app.audit.service import Event, record_event, request_actor
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.permissions import ROLE_LABELS, Permission, Role, requires
from search_app.timeutil import utcnow

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _id_hmacs(raw: str, label: str) -> list[str]:
    """Blind-index hashes of the ID numbers in `raw` (one per line or comma separated). A bad
    number is named by its position, not its digits: the message is also the audit reason."""
    vault = vault_from_config(current_app.config)
    out = []
    parts = ["".join(p.split()).upper() for p in raw.replace("，", ",").replace(",", "\n").splitlines()]
    for n, value in enumerate((p for p in parts if p), start=1):
        if not (valid_id18(value) or valid_id15(value)):
            raise AccountError(f"{label}第 {n} 个无效（应为 18 位或 15 位，校验位和出生日期须正确）")
        out.append(vault.blind_index("id_number", value))
    return out


def _audit_refusal(action: str, target: str, exc: AccountError) -> None:
    """A refused change is accountable too (a security admin trying to break separation of
    duties); written after the rollback, in its own transaction."""
    record_event(request_actor(), Event(action=action, outcome="denied", reason=str(exc),
                                        filters={"target": limits.clip(target, limits.USERNAME)}))


def _audit_change(action: str, target: User, changes: list[str]) -> None:
    record_event(request_actor(), Event(action=action, outcome="allowed",
                                        filters={"target": target.username, "changes": changes}),
                 session=get_session())  # commits with the change itself


def _target(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404, description=f"用户 #{user_id} 不存在")
    return user


@bp.route("/users")
@requires(Permission.USER_MANAGE)
def users():
    rows = get_session().execute(select(User).order_by(User.username)).scalars().all()
    return render_template("admin_users.html", rows=rows, now=utcnow(), role_labels=ROLE_LABELS)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def new_user():
    form = request.form
    if request.method == "POST":
        session = get_session()
        try:
            own = _id_hmacs(form.get("id_number", ""), "本人身份证号")
            if len(own) > 1:
                raise AccountError("本人身份证号只能填写一个")
            user = create_user(session, username=form.get("username", ""),
                               password=form.get("password", ""), role=form.getlist("roles"),
                               display_name=form.get("display_name", "").strip(),
                               unit=form.get("unit", "").strip(),
                               id_number_hmac=own[0] if own else None)
            set_identity(user, own_hmac=user.id_number_hmac,
                         relative_hmacs=_id_hmacs(form.get("relatives", ""), "亲属身份证号"))
            _audit_change("user.create", user, [f"角色 {user.role}", f"单位 {user.unit}",
                                                f"本人身份 {'已登记' if own else '未登记'}",
                                                f"亲属 {len(user.relative_hmacs)} 人"])
            session.commit()
        except AccountError as exc:
            session.rollback()
            _audit_refusal("user.create", form.get("username", "").strip(), exc)
            flash(f"未创建：{exc}", "error")
            return render_template("admin_user_form.html", user=None, form=form, roles=list(Role),
                                   role_labels=ROLE_LABELS), 400
        flash(f"已创建用户 {user.username}", "info")
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
            changes = update_user(session, user, by=current_user, role=form.getlist("roles"),
                                  unit=form.get("unit"), display_name=form.get("display_name"),
                                  enabled=form.get("enabled") == "on")
            if form.get("id_number", "").strip() or form.get("relatives", "").strip():
                own = _id_hmacs(form.get("id_number", ""), "本人身份证号")
                if len(own) > 1:
                    raise AccountError("本人身份证号只能填写一个")
                relatives = _id_hmacs(form.get("relatives", ""), "亲属身份证号")
                set_identity(user, own_hmac=own[0] if own else user.id_number_hmac,
                             relative_hmacs=[*user.relative_hmacs, *relatives])
                changes.append(f"自我回避身份更新（亲属共 {len(user.relative_hmacs)} 人）")
            if changes:
                _audit_change("user.update", user, changes)
            session.commit()
        except AccountError as exc:
            session.rollback()
            _audit_refusal("user.update", user.username, exc)
            flash(f"未保存：{exc}", "error")
            return render_template("admin_user_form.html", user=user, form=form, roles=list(Role),
                                   role_labels=ROLE_LABELS), 400
        flash("已保存：" + ("；".join(changes) if changes else "没有变化"), "info")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin_user_form.html", user=user, form={}, roles=list(Role),
                           role_labels=ROLE_LABELS)


@bp.route("/users/<int:user_id>/action", methods=["POST"])
@requires(Permission.USER_MANAGE)
def user_action(user_id: int):
    """unlock | end_sessions | reset_password | clear_identity"""
    user = _target(user_id)
    session = get_session()
    action = request.form.get("action", "")
    try:
        if action == "unlock":
            unlock(user)
            message = "已解除锁定"
        elif action == "end_sessions":
            end_all_sessions(user)
            message = "已结束该用户的全部会话"
        elif action == "reset_password":
            reset_password(user, request.form.get("password", ""))
            message = "已重置密码并结束其全部会话"
        elif action == "clear_identity":
            set_identity(user, own_hmac=None, relative_hmacs=[])
            message = "已清除本人及亲属身份登记"
        else:
            abort(400, description=f"未知操作 {action!r}")
        _audit_change(f"user.{action}", user, [message])
        session.commit()
    except AccountError as exc:
        session.rollback()
        _audit_refusal(f"user.{action}", user.username, exc)
        flash(f"未执行：{exc}", "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    flash(message, "info")
    return redirect(url_for("admin.edit_user", user_id=user.id))
