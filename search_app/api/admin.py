"""The security admin's account screens over the API: users (list, create, change, unlock, end
sessions, reset, clear identity), the dual-control queue (a second security admin confirms or
rejects) and the login delays. search_app.admin.desk checks, audits and changes for the screens
and these routes alike; here: 400 bad input, 403 a refusal by the rules (separation of duties,
dual control, one's own account), 404 no such user or change, 409 a state that does not allow
it (name taken, a change already pending or decided)."""
from __future__ import annotations

from flask import current_app
from flask_login import current_user
from sqlalchemy import select

from search_app.accounts import dual_control, throttle
from search_app.accounts.models import PendingAccountChange, User
from search_app.accounts.services import AccountConflict, AccountError, AccountRefused
from search_app.admin import desk
from search_app.api import bp
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.api._rows import row_json, value
from search_app.audit.service import request_actor
from search_app.db import get_session
from search_app.errors import render_error
from search_app.permissions import Permission, requires, role_labels

_USER = ("id", "username", "display_name", "role", "unit", "is_enabled", "created_at",
         "last_login_at", "created_by", "last_reset_by")
_CHANGE = ("id", "kind", "user_id", "summary", "proposed_by", "proposed_at", "status",
           "decided_by", "decided_at", "decision_reason")
_THROTTLE = ("key", "scope", "username", "client_addr", "failures", "next_at", "last_failure_at")
_NEEDS_SECOND = "须另一名安全管理员确认的变更答 201/200，并在 pending 中列出（变更编号）。"


def user_json(user: User, listing: desk.UserRows | None = None) -> dict:
    listing = listing or desk.user_rows(get_session(), current_app.config)
    return row_json(user, _USER, role_label=role_labels(user.role),
                    identity_registered=bool(user.id_number_hmac),
                    relatives=len(user.relative_hmacs or []),
                    pending=listing.waiting.get(user.id, []),
                    login_delayed_until=value(listing.limited.get(user.username)))


def change_json(change: PendingAccountChange) -> dict:
    return row_json(change, _CHANGE, username=change.user.username,
                    kind_label=dual_control.KIND_LABELS.get(change.kind, change.kind),
                    status_label=dual_control.STATUS_LABELS.get(change.status, change.status))


def outcome_json(out: desk.Outcome) -> dict:
    return {"message": out.message, "changes": out.changes,
            "pending": [change_json(p) for p in out.pending], "user": user_json(out.user)}


def _refused(exc: AccountError):
    """The refusal is already audited (desk); the status says which kind it was."""
    status = (403 if isinstance(exc, AccountRefused) else
              409 if isinstance(exc, AccountConflict) else 400)
    return render_error(status, f"不允许：{exc}" if status == 403 else str(exc))


def _user(user_id: int) -> User | None:
    return get_session().get(User, user_id)


def _no_user(user_id: int):
    return render_error(404, f"用户 #{user_id} 不存在")


@bp.get("/admin/users")
@requires(Permission.USER_MANAGE)
@documented("全部用户（角色、单位、启用状态、待确认变更、登录限速）", ok=s.AdminUserList, tag="用户管理")
def accounts_users():
    listing = desk.user_rows(get_session(), current_app.config)
    return {"now": value(listing.now), "users": [user_json(u, listing) for u in listing.rows]}


@bp.post("/admin/users")
@requires(Permission.USER_MANAGE)
@documented("创建用户（可读档案或可批准的账号须另一名安全管理员确认后才启用）",
            body=s.UserCreateBody, ok=s.AccountOutcome, status=201, errors=(409,),
            tag="用户管理", description=_NEEDS_SECOND + "违反职责分离的角色组合：403；用户名已存在：409。")
def accounts_create(body: s.UserCreateBody):
    fields = desk.Fields(username=body.username, password=body.password, roles=list(body.roles),
                         display_name=body.display_name, unit=body.unit, id_number=body.id_number,
                         relatives=body.relatives)
    try:
        out = desk.create_account(get_session(), fields, by=current_user, actor=request_actor())
    except AccountError as exc:
        return _refused(exc)
    return outcome_json(out), 201


@bp.get("/admin/users/<int:user_id>")
@requires(Permission.USER_MANAGE)
@documented("一个用户", ok=s.AdminUserOut, errors=(404,), tag="用户管理")
def accounts_user(user_id: int):
    user = _user(user_id)
    return user_json(user) if user is not None else _no_user(user_id)


@bp.post("/admin/users/<int:user_id>")
@requires(Permission.USER_MANAGE)
@documented("修改用户（角色、单位、姓名、启用/停用、自我回避身份；未给出的字段不变）",
            body=s.UserUpdateBody, ok=s.AccountOutcome, errors=(404, 409), tag="用户管理",
            description=_NEEDS_SECOND + "修改自己的角色或停用自己：403。")
def accounts_update(user_id: int, body: s.UserUpdateBody):
    user = _user(user_id)
    if user is None:
        return _no_user(user_id)
    fields = desk.Fields(roles=list(body.roles) if body.roles is not None else None,
                         display_name=body.display_name, unit=body.unit, enabled=body.enabled,
                         id_number=body.id_number, relatives=body.relatives)
    try:
        out = desk.update_account(get_session(), user, fields, by=current_user, actor=request_actor())
    except AccountError as exc:
        return _refused(exc)
    return outcome_json(out)


@bp.post("/admin/users/<int:user_id>/action")
@requires(Permission.USER_MANAGE)
@documented("对用户执行操作：解除登录限速、结束全部会话、重置密码、清除身份登记",
            body=s.UserActionBody, ok=s.AccountOutcome, errors=(404, 409), tag="用户管理",
            description="重置可读档案账号的密码须另一名安全管理员确认，在此之前原密码仍然有效。")
def accounts_action(user_id: int, body: s.UserActionBody):
    user = _user(user_id)
    if user is None:
        return _no_user(user_id)
    try:
        out = desk.account_action(get_session(), user, body.action, by=current_user,
                                  actor=request_actor(), password=body.password,
                                  confirm=body.confirm)
    except AccountError as exc:
        return _refused(exc)
    return outcome_json(out)


@bp.get("/admin/pending")
@requires(Permission.USER_MANAGE)
@documented("双人复核队列：待确认的账号变更与最近的处理结果", ok=s.AccountChangeList, tag="用户管理")
def accounts_pending():
    return {"changes": [change_json(c) for c in dual_control.queue(get_session())]}


@bp.post("/admin/pending/<int:change_id>")
@requires(Permission.USER_MANAGE)
@documented("确认或驳回一项账号变更（不能是本人提出的、针对本人的，或由提出人创建/重置的账号）",
            body=s.AccountDecisionBody, ok=s.DecisionOutcome, errors=(404, 409), tag="用户管理",
            description="违反双人复核规则：403（已审计）；已处理的变更：409。")
def accounts_decide(change_id: int, body: s.AccountDecisionBody):
    change = get_session().get(PendingAccountChange, change_id)
    if change is None:
        return render_error(404, f"账号变更 #{change_id} 不存在")
    try:
        done = desk.decide(get_session(), change, body.decision, by=current_user,
                           actor=request_actor(), reason=body.reason)
    except AccountError as exc:
        return _refused(exc)
    return {"message": done, "change": change_json(change)}


@bp.get("/admin/throttles")
@requires(Permission.USER_MANAGE)
@documented("正在限速的登录（按输入的用户名、地址或二者）", ok=s.ThrottleList, tag="用户管理")
def accounts_throttles():
    rows, known, now = desk.throttle_rows(get_session(), current_app.config)
    return {"now": value(now), "throttles": [
        row_json(r, _THROTTLE, scope_label=throttle.SCOPE_LABELS[r.scope],
                 is_account=r.username in known) for r in rows]}


@bp.post("/admin/throttles/lift")
@requires(Permission.USER_MANAGE)
@documented("解除一项登录限速", body=s.ThrottleLiftBody, ok=s.ThrottleOut, errors=(404,),
            tag="用户管理")
def accounts_lift_throttle(body: s.ThrottleLiftBody):
    row = desk.lift_throttle(get_session(), body.key, actor=request_actor())
    if row is None:
        return render_error(404, "该限速已不存在（已到期或已解除）")
    known = get_session().execute(select(User.id).where(User.username == row.username)).first()
    return row_json(row, _THROTTLE, scope_label=throttle.SCOPE_LABELS[row.scope], is_account=known is not None)
