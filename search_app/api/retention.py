"""Appraisal and destruction (鉴定/销毁) over the API: the records office head's 到期鉴定 list and
proposal, the two approvals by two people other than the requester, the system admin's
execution (queued to the worker, which holds the index-write identity) and the 销毁清册.
search_app.retention (services, desk) checks, audits and changes for the screens and these
routes alike; here: 400 bad input, 403 a refusal by the rules (separation of duties), 404 no such
request, 409 a request whose status does not allow the step."""
from __future__ import annotations

from flask_login import current_user

from search_app.api import bp
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.api._rows import row_json
from search_app.audit.service import request_actor
from search_app.db import get_session
from search_app.errors import render_error
from search_app.permissions import Permission, requires
from search_app.retention import desk, services

_REQUEST = ("id", "status", "requested_by", "reasons", "archive_nos", "created_at",
            "first_approver", "first_approved_at", "second_approver", "second_approved_at",
            "decided_by", "decision_reason", "executed_by", "executed_at", "error")
_DESTROYED = ("archive_no", "title", "page_count", "retention", "year", "request_id",
              "requested_by", "approvers", "reasons", "executed_by", "destroyed_at")


def request_json(req) -> dict:
    return row_json(req, _REQUEST, status_label=req.label)


def _refused(exc: services.DestructionError):
    status = (403 if isinstance(exc, services.DestructionRefused) else
              409 if isinstance(exc, services.DestructionStateError) else 400)
    return render_error(status, f"不允许：{exc}" if status == 403 else str(exc))


def _step(request_id: int, fn):
    """Load the request and take one step on it; its refusal is already audited."""
    session = get_session()
    req = desk.load(session, request_id)
    if req is None:
        return render_error(404, f"销毁申请 #{request_id} 不存在")
    try:
        fn(session, req)
    except services.DestructionError as exc:
        session.rollback()
        return _refused(exc)
    return request_json(req)


@bp.get("/retention/appraisal")
@requires(Permission.RETENTION_APPRAISE)
@documented("到期鉴定清单：保管期限已满、尚未在销毁申请中的文件（题名已遮蔽，不含内容）",
            ok=s.AppraisalList, tag="鉴定销毁", description="本次查看写入一条审计记录。")
def retention_appraisal():
    rows = desk.appraisal(get_session(), request_actor())
    return {"today": desk.today().isoformat(), "files": [
        {"archive_no": r.archive_no, "title": r.title, "page_count": r.page_count,
         "retention": r.retention.code, "retention_label": r.retention.label,
         "year": r.retention.year, "due": r.retention.due.isoformat() if r.retention.due else None}
        for r in rows]}


@bp.post("/retention/requests")
@requires(Permission.RETENTION_APPRAISE)
@documented("提出销毁申请（只能选到期鉴定清单中的文件，须写明理由）", body=s.DestructionBody,
            ok=s.DestructionRequestOut, status=201, tag="鉴定销毁")
def retention_propose(body: s.DestructionBody):
    try:
        req = services.request_destruction(get_session(), user=current_user,
                                           archive_nos=list(body.archive_nos), reasons=body.reasons,
                                           actor=request_actor(), today=desk.today())
    except services.DestructionError as exc:
        return _refused(exc)
    return request_json(req), 201


@bp.get("/retention/requests")
@requires(Permission.DESTRUCTION_APPROVE)
@documented("销毁申请（最新的在前，最多 200 条）", ok=s.DestructionRequestList, tag="鉴定销毁")
def retention_requests():
    return {"requests": [request_json(r) for r in desk.request_list(get_session())]}


@bp.post("/retention/requests/<int:request_id>/approve")
@requires(Permission.DESTRUCTION_APPROVE)
@documented("批准销毁申请（须申请人以外的两人先后批准）", ok=s.DestructionRequestOut,
            errors=(404, 409), tag="鉴定销毁",
            description="申请人本人或已批准过的同一人再次批准：403（已审计）。")
def retention_approve(request_id: int):
    return _step(request_id, lambda session, req: services.approve(
        session, req, user=current_user, actor=request_actor()))


@bp.post("/retention/requests/<int:request_id>/deny")
@requires(Permission.DESTRUCTION_APPROVE)
@documented("驳回销毁申请（须填写理由）", body=s.DenyBody, ok=s.DestructionRequestOut,
            errors=(404, 409), tag="鉴定销毁")
def retention_deny(request_id: int, body: s.DenyBody):
    return _step(request_id, lambda session, req: services.deny(
        session, req, user=current_user, reason=body.reason, actor=request_actor()))


@bp.get("/retention/execution")
@requires(Permission.DESTRUCTION_EXECUTE)
@documented("待执行与已执行的销毁申请（系统管理员）", ok=s.DestructionRequestList, tag="鉴定销毁")
def retention_execution():
    rows = desk.request_list(get_session(), (*desk.EXECUTABLE, "executed"))
    return {"requests": [request_json(r) for r in rows]}


@bp.post("/retention/requests/<int:request_id>/execute")
@requires(Permission.DESTRUCTION_EXECUTE)
@documented("执行已经两人批准的销毁申请（交给后台任务执行）", ok=s.DestructionRequestOut,
            status=202, errors=(404, 409), tag="鉴定销毁",
            description="202：已排入后台任务；执行结果见 GET /retention/execution 与 /retention/destroyed。")
def retention_execute(request_id: int):
    out = _step(request_id, lambda session, req: desk.queue_execution(
        session, req, user=current_user, actor=request_actor()))
    return (out, 202) if isinstance(out, dict) else out


@bp.get("/retention/destroyed")
@requires(Permission.REGISTER_READ)
@documented("销毁清册（档号、题名、页数、谁申请、谁批准、何时销毁；不含内容）",
            ok=s.DestroyedList, tag="鉴定销毁")
def retention_destroyed():
    rows = desk.destroyed(get_session(), request_actor())
    return {"files": [row_json(r, _DESTROYED) for r in rows]}
