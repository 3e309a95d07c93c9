"""The appraisal and destruction screens: 到期鉴定 (the records office head proposes), 销毁审批
(two approvers other than the requester), 执行 (the system admin queues the execution to the
worker, which holds the index-write identity), and the 销毁清册 (auditors and the head).
Every view and step is audited (services.py records the changes)."""
from __future__ import annotations

import click
from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user

from search_app.audit.service import Actor, request_actor
from search_app.db import get_session
from search_app.permissions import Permission, requires
from search_app.retention import desk, services
from search_app.retention.models import DestructionRequest

bp = Blueprint("retention", __name__, url_prefix="/retention")


def _request() -> DestructionRequest:
    raw = request.form.get("request_id", "")
    req = desk.load(get_session(), int(raw) if raw.isdigit() else None)
    if req is None:
        abort(404, description="销毁申请不存在")
    return req


@bp.route("/appraisal", methods=["GET"])
@requires(Permission.RETENTION_APPRAISE)
def appraisal(error: str = "", status: int = 200):
    rows = desk.appraisal(get_session(), request_actor())
    return render_template("retention_appraisal.html", rows=rows, error=error,
                           today=desk.today()), status


@bp.route("/requests/new", methods=["POST"])
@requires(Permission.RETENTION_APPRAISE)
def propose():
    try:
        services.request_destruction(get_session(), user=current_user,
                                     archive_nos=request.form.getlist("archive_no"),
                                     reasons=request.form.get("reasons", ""),
                                     actor=request_actor(), today=desk.today())
    except services.DestructionError as exc:
        return appraisal(error=str(exc), status=400)
    return redirect(url_for("retention.requests"), code=303)


def _list(template: str, statuses: tuple[str, ...] | None, error: str = "", status: int = 200):
    return render_template(template, rows=desk.request_list(get_session(), statuses),
                           error=error), status


@bp.route("/requests", methods=["GET"])
@requires(Permission.DESTRUCTION_APPROVE)
def requests(error: str = "", status: int = 200):
    return _list("retention_requests.html", None, error, status)


@bp.route("/approve", methods=["POST"])
@requires(Permission.DESTRUCTION_APPROVE)
def approve():
    try:
        services.approve(get_session(), _request(), user=current_user, actor=request_actor())
    except services.DestructionError as exc:
        return requests(error=str(exc), status=400)
    return redirect(url_for("retention.requests"), code=303)


@bp.route("/deny", methods=["POST"])
@requires(Permission.DESTRUCTION_APPROVE)
def deny():
    try:
        services.deny(get_session(), _request(), user=current_user,
                      reason=request.form.get("reason", ""), actor=request_actor())
    except services.DestructionError as exc:
        return requests(error=str(exc), status=400)
    return redirect(url_for("retention.requests"), code=303)


@bp.route("/execute", methods=["GET"])
@requires(Permission.DESTRUCTION_EXECUTE)
def pending_execution(error: str = "", status: int = 200):
    return _list("retention_execute.html", (*desk.EXECUTABLE, "executed"), error, status)


@bp.route("/execute", methods=["POST"])
@requires(Permission.DESTRUCTION_EXECUTE)
def execute():
    """Queued to the worker (index writes are its identity's, never the web's)."""
    try:
        desk.queue_execution(get_session(), _request(), user=current_user, actor=request_actor())
    except services.DestructionError as exc:
        return pending_execution(error=str(exc), status=400)
    return redirect(url_for("retention.pending_execution"), code=303)


@bp.route("/destroyed", methods=["GET"])
@requires(Permission.REGISTER_READ)
def destroyed():
    return render_template("retention_register.html",
                           rows=desk.destroyed(get_session(), request_actor()))


@bp.cli.command("execute")
@click.argument("request_id", type=int)
def execute_cmd(request_id: int) -> None:
    """Execute an approved destruction request now (what the worker task does)."""
    from search_app.cli import cli_principal

    session = get_session()
    req = session.get(DestructionRequest, request_id)
    if req is None:
        raise click.ClickException(f"销毁申请 #{request_id} 不存在")
    who = cli_principal()
    try:
        done = services.execute(session, req, executed_by=who, actor=Actor(None, who, "cli"))
    except services.DestructionError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"destroyed {len(done)} files: " + ", ".join(d.archive_no for d in done))
