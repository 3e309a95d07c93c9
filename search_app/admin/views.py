"""User management for the security admin: the screens. What they list and change, with the
audit records, is search_app.admin.desk (shared with /api/v1/admin). ID numbers typed here are
turned into blind-index hashes at once and never stored or logged. Changes that could bring
about a read (creating, re-roling, re-enabling or resetting staff, approver and security admin
accounts) are proposals until a second security admin confirms them in the queue at
/admin/pending (accounts.dual_control)."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from search_app.accounts import dual_control, throttle
from search_app.accounts.models import PendingAccountChange, User
from search_app.accounts.services import AccountError
from search_app.admin import desk
from search_app.audit.service import request_actor
from search_app.db import get_session
from search_app.permissions import ROLE_LABELS, Permission, Role, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _target(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        abort(404, description=f"用户 #{user_id} 不存在")
    return user


def _fields(form, *, editing: bool) -> desk.Fields:
    return desk.Fields(username=form.get("username", ""), password=form.get("password", ""),
                       roles=form.getlist("roles"), display_name=form.get("display_name", ""),
                       unit=form.get("unit"), enabled=form.get("enabled") == "on" if editing else None,
                       id_number=form.get("id_number", ""), relatives=form.get("relatives", ""))


@bp.route("/users")
@requires(Permission.USER_MANAGE)
def users():
    listing = desk.user_rows(get_session(), current_app.config)
    return render_template("admin_users.html", rows=listing.rows, now=listing.now,
                           role_labels=ROLE_LABELS, waiting=listing.waiting, limited=listing.limited)


@bp.route("/users/new", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def new_user():
    form = request.form
    if request.method == "POST":
        try:
            out = desk.create_account(get_session(), _fields(form, editing=False), by=current_user,
                                      actor=request_actor())
        except AccountError as exc:
            flash(f"未创建：{exc}", "error")
            return render_template("admin_user_form.html", user=None, form=form, roles=list(Role),
                                   role_labels=ROLE_LABELS), 400
        flash(out.message, "info")
        return redirect(url_for("admin.edit_user", user_id=out.user.id))
    return render_template("admin_user_form.html", user=None, form=form, roles=list(Role),
                           role_labels=ROLE_LABELS)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires(Permission.USER_MANAGE)
def edit_user(user_id: int):
    user = _target(user_id)
    if request.method == "POST":
        form = request.form
        try:
            out = desk.update_account(get_session(), user, _fields(form, editing=True),
                                      by=current_user, actor=request_actor())
        except AccountError as exc:
            flash(f"未保存：{exc}", "error")
            return render_template("admin_user_form.html", user=user, form=form, roles=list(Role),
                                   role_labels=ROLE_LABELS), 400
        flash(out.message, "info")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    return render_template("admin_user_form.html", user=user, form={}, roles=list(Role),
                           role_labels=ROLE_LABELS,
                           waiting=dual_control.pending_of(get_session(), user))


@bp.route("/users/<int:user_id>/action", methods=["POST"])
@requires(Permission.USER_MANAGE)
def user_action(user_id: int):
    """unlock | end_sessions | reset_password | clear_identity"""
    user = _target(user_id)
    action = request.form.get("action", "")
    if action not in desk.ACTIONS:
        abort(400, description=f"未知操作 {action!r}")
    try:
        out = desk.account_action(get_session(), user, action, by=current_user,
                                  actor=request_actor(), password=request.form.get("password", ""),
                                  confirm=request.form.get("confirm") == "yes")
    except AccountError as exc:
        flash(f"未执行：{exc}", "error")
        return redirect(url_for("admin.edit_user", user_id=user_id))
    flash(out.message, "info")
    return redirect(url_for("admin.edit_user", user_id=user_id))


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
    change = get_session().get(PendingAccountChange, change_id)
    if change is None:
        abort(404, description=f"账号变更 #{change_id} 不存在")
    try:
        done = desk.decide(get_session(), change, decision, by=current_user, actor=request_actor(),
                           reason=request.form.get("reason", ""))
    except AccountError as exc:
        flash(f"未执行：{exc}", "error")
        return redirect(url_for("admin.pending_changes")), 303
    flash(f"变更 #{change_id}：{done}", "info")
    return redirect(url_for("admin.pending_changes")), 303


@bp.route("/throttles")
@requires(Permission.USER_MANAGE)
def throttles():
    """Names and addresses whose login attempts are being delayed."""
    rows, known, now = desk.throttle_rows(get_session(), current_app.config)
    return render_template("admin_throttles.html", rows=rows, now=now, known=known,
                           labels=throttle.SCOPE_LABELS)


@bp.route("/throttles/lift", methods=["POST"])
@requires(Permission.USER_MANAGE)
def lift_throttle():
    row = desk.lift_throttle(get_session(), request.form.get("key", ""), actor=request_actor())
    if row is None:
        flash("该限速已不存在（已到期或已解除）", "info")
        return redirect(url_for("admin.throttles"))
    flash(f"已解除登录限速：{desk.throttle_label(row)}", "info")
    return redirect(url_for("admin.throttles"))
