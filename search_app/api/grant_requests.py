"""Grant requests over the API: staff request, list and withdraw their own; approvers read their
inbox and decide. Every rule (self-exclusion, two approvers for 秘密/机密, the puppet-account
rule, lapsing) lives in search_app.grants.services, which the web views call too; this module only
maps bodies to those calls and their errors to statuses: 400 a value that does not fit, 403 a
refusal by the rules, 404 a request that does not exist (or is someone else's), 409 a request no
longer in a state that allows the change.
"""
from __future__ import annotations

from flask_login import current_user
from sqlalchemy import select

from indexer.vocab import LEVEL_NAMES
from search_app.api import bp, grant_json, iso
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.audit.service import client_addr
from search_app.db import get_session
from search_app.errors import render_error
from search_app.catalogue.services import lists as catalogue_lists
from search_app.grants.catalogue_check import check_scope_exists
from search_app.grants.models import Grant
from search_app.grants.services import (PENDING, STATUS_LABELS, GrantError, GrantRefused,
                                        GrantStateError, Request, Scope, actor_of, approve, deny,
                                        expire_pending, grants_of, inbox, request_grant, revoke,
                                        withdraw)
from search_app.permissions import Permission, requires
from search_app.search import SearchUnavailable, catalogue
from search_app.timeutil import utcnow


def request_json(grant: Grant, now=None) -> dict:
    now = now or utcnow()
    return {**grant_json(grant), "request_no": grant.request_no, "status": grant.status,
            "status_label": STATUS_LABELS[grant.status],
            "inactive_reason": grant.inactive_reason(now),
            "classification_label": catalogue_lists().level_names.get(
                grant.classification_ceiling,
                LEVEL_NAMES.get(grant.classification_ceiling, str(grant.classification_ceiling))),
            "subject": grant.subject_label or "", "requested_hours": grant.requested_hours,
            "needs_second_approval": grant.needs_second_approval,
            "requester": grant.user.username if grant.user else "",
            "requester_unit": grant.user.unit if grant.user else "",
            "approved_by": grant.approved_by.username if grant.approved_by else None,
            "second_approved_by": (grant.second_approved_by.username
                                   if grant.second_approved_by else None),
            "decision_reason": grant.decision_reason or "", "created_at": iso(grant.created_at),
            "purpose_limits": _limits(grant.purpose_category)}


def _limits(category: str) -> dict | None:
    p = catalogue_lists().purposes.get(category)
    if p is None:
        return None
    return {"name": p.name, "default_fields": list(p.default_fields),
            "max_fields": list(p.max_fields) if p.max_fields is not None else None,
            "max_days": p.max_hours / 24 if p.max_hours else None}


def _refused(exc: GrantError):
    """Status by kind of GrantError (see the module docstring)."""
    if isinstance(exc, GrantRefused):
        return render_error(403, f"不允许：{exc}")
    if isinstance(exc, GrantStateError):
        return render_error(409, str(exc))
    return render_error(400, str(exc))


def _load(grant_id: int, *, own: bool) -> Grant | None:
    grant = get_session().get(Grant, grant_id)
    if grant is None or (own and grant.user_id != current_user.id):
        return None
    return grant


def _expire() -> None:
    session = get_session()
    if expire_pending(session):
        session.commit()


@bp.get("/grant-requests")
@requires(Permission.GRANT_READ_OWN)
@documented("本人的全部授权与申请（含历史）", ok=s.GrantRequestList, tag="授权")
def my_requests():
    _expire()
    now = utcnow()
    return {"requests": [request_json(g, now) for g in grants_of(get_session(), current_user)]}


@bp.get("/grant-requests/catalogue")
@requires(Permission.GRANT_REQUEST)
@documented("申请时可选的单位与档号（档案目录中已有的）", ok=s.Catalogue, tag="授权")
def request_catalogue():
    try:
        known = catalogue()
    except SearchUnavailable as exc:
        return render_error(503, str(exc))
    cat = catalogue_lists()
    return {"units": cat.units, "archive_nos": known.archive_nos,
            "categories": list(cat.categories), "classifications": list(cat.levels),
            "purposes": [_limits(name) for name in cat.purposes]}


@bp.post("/grant-requests")
@requires(Permission.GRANT_REQUEST)
@documented("申请查询授权", body=s.GrantRequestBody, ok=s.GrantRequestOut, status=201, tag="授权",
            description="单位和档号必须是档案目录中已有的（见 GET /grant-requests/catalogue）；"
                        "秘密及以上密级需两名审批人。")
def create_request(body: s.GrantRequestBody):
    session = get_session()
    req = Request(purpose_category=body.purpose_category, purpose=body.purpose,
                  scope=Scope(list(body.categories), [u.strip() for u in body.units if u.strip()],
                              body.classification,
                              [n.strip() for n in body.archive_nos if n.strip()]),
                  hours=body.days * 24, unmask_fields=tuple(body.unmask_fields),
                  allow_lookup=body.allow_lookup, subject_id=body.subject_id.strip())
    try:
        check_scope_exists(req.scope)
        grant = request_grant(session, user=current_user, req=req,
                              actor=actor_of(current_user, client_addr()))
        session.commit()
    except SearchUnavailable as exc:
        return render_error(503, str(exc))
    except GrantError as exc:
        session.rollback()
        return _refused(exc)
    return request_json(grant), 201


@bp.post("/grant-requests/<int:grant_id>/withdraw")
@requires(Permission.GRANT_READ_OWN)
@documented("撤回本人的申请，或放弃本人的有效授权（不可撤回，须 confirm: true）", body=s.ConfirmBody,
            ok=s.GrantRequestOut, errors=(404, 409), tag="授权",
            description="同网页“撤回申请 / 放弃授权”：待审批的申请被撤回，有效授权被撤销，下一次读取即生效。")
def withdraw_request(grant_id: int, body: s.ConfirmBody):
    grant = _load(grant_id, own=True)
    if grant is None:
        return render_error(404, f"申请 #{grant_id} 不存在")
    session = get_session()
    actor = actor_of(current_user, client_addr())
    try:
        if grant.status in PENDING:
            withdraw(session, grant, by=current_user, actor=actor)
        else:
            revoke(session, grant, by=current_user, reason=body.reason, actor=actor)
        session.commit()
    except GrantError as exc:
        session.rollback()
        return _refused(exc)
    return request_json(grant)


@bp.get("/inbox")
@requires(Permission.GRANT_APPROVE)
@documented("审批待办：本人可以审批的申请（不含本人的申请和本人已批准的）",
            ok=s.GrantRequestList, tag="审批")
def approver_inbox():
    _expire()
    now = utcnow()
    return {"requests": [request_json(g, now) for g in inbox(get_session(), current_user)]}


@bp.post("/grant-requests/<int:grant_id>/decision")
@requires(Permission.GRANT_APPROVE)
@documented("批准或驳回一项申请", body=s.DecisionBody, ok=s.GrantRequestOut, errors=(404, 409),
            tag="审批", description="批准时可缩短时长（days），不能延长；驳回须填写理由。"
                                    "申请人本人、已批准过的同一审批人、同一安全管理员创建的账号对不能审批（403）。")
def decide(grant_id: int, body: s.DecisionBody):
    grant = _load(grant_id, own=False)
    if grant is None:
        return render_error(404, f"申请 #{grant_id} 不存在")
    session = get_session()
    actor = actor_of(current_user, client_addr())
    try:
        if body.decision == "approve":
            approve(session, grant, approver=current_user, actor=actor,
                    hours=body.days * 24 if body.days is not None else None)
        else:
            deny(session, grant, approver=current_user, reason=body.reason, actor=actor)
        session.commit()
    except GrantError as exc:
        session.rollback()
        return _refused(exc)
    return request_json(grant)


@bp.get("/grants/active")
@requires(Permission.GRANT_APPROVE)
@documented("全部有效授权（供审批人复查、撤销）", ok=s.GrantRequestList, tag="审批")
def active_grants_all():
    now = utcnow()
    rows = get_session().execute(select(Grant).where(Grant.status == "active")
                                 .order_by(Grant.valid_until)).scalars()
    return {"requests": [request_json(g, now) for g in rows if g.inactive_reason(now) is None]}


@bp.post("/grants/<int:grant_id>/revoke")
@requires(Permission.GRANT_APPROVE)
@documented("立即撤销一项有效授权（不可撤回，须 confirm: true；撤销他人的授权须填写理由）",
            body=s.RevokeBody, ok=s.GrantRequestOut, errors=(404, 409), tag="审批")
def revoke_grant(grant_id: int, body: s.RevokeBody):
    grant = _load(grant_id, own=False)
    if grant is None:
        return render_error(404, f"授权 #{grant_id} 不存在")
    session = get_session()
    try:
        revoke(session, grant, by=current_user, reason=body.reason,
               actor=actor_of(current_user, client_addr()))
        session.commit()
    except GrantError as exc:
        session.rollback()
        return _refused(exc)
    return request_json(grant)
