"""The QA screens: the reviewer's queue and review page (/qa), acceptance statistics, and the
security admin's scope management. Views parse the form and call qa.review / search.qa_reads;
every page read and action is audited there, refusals say why."""
from __future__ import annotations

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from sqlalchemy import select

from indexer.vocab import LEVEL_NAMES, PII_KINDS
from search_app.accounts.models import User
from search_app.audit.service import AuditWriteError, client_addr, request_actor
from search_app.db import get_session
from search_app.ingest.models import IngestJob
from search_app.permissions import Permission, Role, requires
from search_app.qa import desk, review
from search_app.qa.desk import FLAG_FILTERS
from search_app.qa.models import STATUSES, QaScope
from search_app.qa.scope import ScopeError, active_scopes, revoke_scope
from search_app.qa.stats import batch_stats
from search_app.search import ReadDenied, SearchUnavailable
from search_app.search.page_views import plain_refusal, viewer_label
from search_app.search.qa_reads import qa_page_image, qa_version_text, qa_view_page
from search_app.search.views import int_arg

bp = Blueprint("qa", __name__, url_prefix="/qa")


def _scope_id() -> int | None:
    return int_arg(request.values.get("scope"))


def _chosen_scope() -> QaScope | None:
    return desk.chosen_scope(get_session(), current_user, _scope_id())


@bp.route("/")
@requires(Permission.QA_REVIEW)
def queue():
    """The pages of the chosen scope's batches with their findings (no page content here)."""
    session = get_session()
    scopes = active_scopes(session, current_user)
    scope = _chosen_scope()
    status = request.args.get("status", "pending")
    flag = request.args.get("flag", "")
    rows, mismatches = desk.queue(session, scope, status, flag) if scope else ([], [])
    return render_template("qa_queue.html", scopes=scopes, scope=scope, rows=rows,
                           statuses=STATUSES, status=status, flag=flag, flags=FLAG_FILTERS,
                           mismatches=mismatches, error=None if scopes else
                           "您还没有有效的质检范围：请安全管理员授予要质检的导入批次")


def _refused(exc: Exception):
    if isinstance(exc, ReadDenied):
        return render_template("qa_page.html", page=None, error=f"读取被拒绝：{exc.reason}（已记录审计）"), 403
    message = "审计记录无法写入，读取已拒绝" if isinstance(exc, AuditWriteError) else str(exc)
    return render_template("qa_page.html", page=None, error=message), 503


@bp.route("/pages/<doc_id>")
@requires(Permission.QA_REVIEW)
def page(doc_id: str):
    """The review screen: the redacted image beside the OCR text, the findings, the earlier
    versions and the actions. `v` shows an earlier text version instead of the current one."""
    scope_id, version = _scope_id(), int_arg(request.args.get("v"))
    try:
        read = (qa_version_text(user=current_user, scope_id=scope_id, doc_id=doc_id,
                                version_id=version, client_addr=client_addr())
                if version else qa_view_page(user=current_user, scope_id=scope_id, doc_id=doc_id,
                                             client_addr=client_addr()))
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        return _refused(exc)
    versions = desk.versions(get_session(), doc_id)
    return render_template("qa_page.html", page=read, row=review.qa_row(doc_id), version=version,
                           versions=versions, statuses=STATUSES, error=None,
                           unmask_labels=PII_KINDS,
                           image_url=url_for("qa.image", doc_id=doc_id, scope=read.scope_id))


@bp.route("/pages/<doc_id>/image")
@requires(Permission.QA_REVIEW)
def image(doc_id: str):
    try:
        png = qa_page_image(user=current_user, scope_id=_scope_id(), doc_id=doc_id,
                            viewer=viewer_label(), client_addr=client_addr())
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        return plain_refusal("图像读取", exc)
    return Response(png, mimetype="image/png")


@bp.route("/pages/<doc_id>/action", methods=["POST"])
@requires(Permission.QA_REVIEW)
def action(doc_id: str):
    """accept | rescan | correct | reocr, under the scope posted with the form."""
    what = request.form.get("do", "")
    if what not in desk.ACTIONS:
        abort(400, description="未知的质检操作")
    args = dict(user=current_user, scope_id=_scope_id(), doc_id=doc_id, client_addr=client_addr())
    try:
        flash(desk.act(what, reason=request.form.get("reason", ""),
                       text=request.form.get("text", ""), **args), "info")
    except review.ReviewRefused as exc:
        flash(f"操作未执行：{exc}", "error")
    except (ReadDenied, SearchUnavailable, AuditWriteError) as exc:
        return _refused(exc)
    return redirect(url_for("qa.page", doc_id=doc_id, scope=args["scope_id"]), code=303)


@bp.route("/stats")
@requires(Permission.QA_REVIEW)
def stats():
    """Acceptance statistics of the batches in the reviewer's active scopes."""
    jobs = {j for s in active_scopes(get_session(), current_user) for j in s.job_ids}
    rows = batch_stats(get_session(), jobs)
    if request.args.get("format") == "json":
        return {"batches": [r.as_dict() for r in rows]}
    return render_template("qa_stats.html", rows=rows)


@bp.route("/scopes", methods=["GET", "POST"])
@requires(Permission.QA_SCOPE_MANAGE)
def scopes():
    """The security admin gives a QA reviewer batches to review (audited) and sees every scope."""
    session = get_session()
    if request.method == "POST":
        try:
            jobs = [int(j) for j in request.form.get("jobs", "").replace("，", ",").split(",")
                    if j.strip().isdigit()]
            row = desk.give_scope(session, request_actor(), reviewer=request.form.get("reviewer", ""),
                                  job_ids=jobs, ceiling=int_arg(request.form.get("ceiling")) or 1,
                                  purpose=request.form.get("purpose", ""),
                                  days=int_arg(request.form.get("days")) or 0,
                                  unmask_fields=request.form.getlist("unmask"))
            session.commit()
            flash(f"已授予质检范围 {row.ref}", "info")
        except ScopeError as exc:
            session.rollback()
            flash(f"未授予：{exc}", "error")
        return redirect(url_for("qa.scopes"), code=303)
    rows = desk.scope_list(session)
    reviewers = list(session.execute(select(User.username).where(
        User.role.contains(Role.QA_REVIEWER.value))).scalars())
    jobs = list(session.execute(select(IngestJob.id, IngestJob.created_at)
                                .order_by(IngestJob.id.desc()).limit(50)).all())
    return render_template("qa_scopes.html", rows=rows, reviewers=reviewers, jobs=jobs,
                           levels=LEVEL_NAMES, kinds=PII_KINDS)


@bp.route("/scopes/revoke", methods=["POST"])
@requires(Permission.QA_SCOPE_MANAGE)
def revoke():
    session = get_session()
    try:
        row = revoke_scope(session, request_actor(), int_arg(request.form.get("id")) or 0)
        session.commit()
        flash(f"已撤销质检范围 {row.ref}", "info")
    except ScopeError as exc:
        session.rollback()
        flash(f"未撤销：{exc}", "error")
    return redirect(url_for("qa.scopes"), code=303)
