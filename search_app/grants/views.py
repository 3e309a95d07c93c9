"""Grant requests (staff), the approver inbox, decisions and revocation. The services do the
checking and auditing; these views only parse forms and show the outcome."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from indexer.vocab import LEVEL_NAMES
from indexer.vocab import PII_KINDS as UNMASK_FIELDS
from search_app.catalogue.services import lists as catalogue_lists
from search_app.audit.service import client_addr
from search_app.db import get_session
from search_app.grants.catalogue_check import check_scope_exists
from search_app.grants.models import Grant
from search_app.grants.services import (STATUS_LABELS, GrantError, Request, Scope, actor_of,
                                        approve, decided_by_me, deny, expire_pending, grants_of,
                                        inbox, request_grant, revoke, withdraw)
from search_app.permissions import Permission, requires
from search_app.search import SearchUnavailable, catalogue
from search_app.timeutil import utcnow

bp = Blueprint("grants", __name__, url_prefix="/grants")


@bp.app_context_processor
def _labels() -> dict:
    return {"level_names": _LevelNames(), "status_labels": STATUS_LABELS,
            "unmask_labels": UNMASK_FIELDS}


class _LevelNames:
    """密级 names by level, read from the catalogue only when a template asks (most pages
    never show a grant), falling back to the seed names."""

    def get(self, level: int, default: str | None = None) -> str | None:
        return catalogue_lists().level_names.get(level, LEVEL_NAMES.get(level, default))


def _split(raw: str) -> list[str]:
    return [p.strip() for p in raw.replace("，", ",").replace("\n", ",").split(",") if p.strip()]


def _picked(form, name: str) -> list[str]:
    """The values chosen in a multiple select (a comma-separated value is split, for scripts)."""
    return [v for raw in form.getlist(name) for v in _split(raw)]


def _float(raw: str | None) -> float | None:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


@bp.route("/")
@requires(Permission.GRANT_READ_OWN)
def mine():
    session = get_session()
    if expire_pending(session):
        session.commit()
    now = utcnow()
    rows = [(g, g.inactive_reason(now)) for g in grants_of(session, current_user)]
    return render_template("grants.html", rows=rows)


@bp.route("/new", methods=["GET", "POST"])
@requires(Permission.GRANT_REQUEST)
def new():
    form = request.form
    if request.method == "POST":
        session = get_session()
        days = _float(form.get("days"))
        if days is None:
            flash(f"申请未提交：申请时长（天）必须是数字，收到 {form.get('days', '')!r}", "error")
            return _form(form), 400
        req = Request(purpose_category=form.get("purpose_category", ""),
                      purpose=form.get("purpose", ""),
                      scope=Scope(form.getlist("categories"), _picked(form, "units"),
                                  form.get("classification", ""), _picked(form, "archive_nos")),
                      hours=days * 24, unmask_fields=tuple(form.getlist("unmask_fields")),
                      allow_lookup=form.get("allow_lookup") == "on",
                      subject_id=form.get("subject_id", "").strip())
        try:
            check_scope_exists(req.scope)
            grant = request_grant(session, user=current_user, req=req,
                                  actor=actor_of(current_user, client_addr()))
            session.commit()
        except SearchUnavailable as exc:
            flash(f"申请未提交：{exc}", "error")
            return _form(form), 503
        except GrantError as exc:
            session.rollback()
            flash(f"申请未提交：{exc}", "error")
            return _form(form), 400
        flash(f"申请 {grant.request_no} 已提交，等待审批"
              + ("（秘密及以上密级需两名审批人）" if grant.needs_second_approval else ""), "info")
        return redirect(url_for("grants.mine"))
    return _form(None)


def _form(form):
    """The request form; units and 档号 are chosen from the catalogue (what exists), never typed."""
    try:
        known, unavailable = catalogue(), None
    except SearchUnavailable as exc:
        known, unavailable = None, str(exc)
    cat = catalogue_lists()
    if form is None:  # a new form: the requester's own unit, the purpose's default fields
        purpose = cat.purposes.get(request.args.get("purpose_category", ""))
        chosen = {"units": [current_user.unit] if current_user.unit else [], "archive_nos": [],
                  "categories": [],
                  "unmask_fields": list(purpose.default_fields) if purpose else []}
        form = {"days": "1", "purpose_category": purpose.name if purpose else ""}
    else:
        chosen = {"units": _picked(form, "units"), "archive_nos": _picked(form, "archive_nos"),
                  "categories": form.getlist("categories"),
                  "unmask_fields": form.getlist("unmask_fields")}
    files_by_unit: dict[str, list] = {}
    for entry in (known.files if known else []):
        files_by_unit.setdefault(entry.unit, []).append(entry)
    return render_template("grant_new.html", form=form, chosen=chosen,
                           categories=list(cat.categories), purposes=cat.purposes,
                           levels=list(cat.levels), unmask=UNMASK_FIELDS,
                           units=cat.units, files_by_unit=files_by_unit,
                           catalogue_error=unavailable)


@bp.route("/inbox")
@requires(Permission.GRANT_APPROVE)
def inbox_view():
    session = get_session()
    if expire_pending(session):
        session.commit()
    return render_template("grants_inbox.html", pending=inbox(session, current_user),
                           decided=decided_by_me(session, current_user), now=utcnow(),
                           purposes=catalogue_lists().purposes)


def _load(grant_id: int) -> Grant:
    grant = get_session().get(Grant, grant_id)
    if grant is None:
        abort(404, description=f"授权 #{grant_id} 不存在")
    return grant


@bp.route("/<int:grant_id>/decide", methods=["POST"])
@requires(Permission.GRANT_APPROVE)
def decide(grant_id: int):
    session = get_session()
    grant = _load(grant_id)
    actor = actor_of(current_user, client_addr())
    try:
        if request.form.get("decision") == "approve":
            raw_days = request.form.get("days", "").strip()
            days = _float(raw_days)
            if raw_days and days is None:  # never approve the full duration by mistake
                raise GrantError(f"批准天数 {raw_days!r} 不是数字；留空则按申请时长批准")
            approve(session, grant, approver=current_user, actor=actor,
                    hours=days * 24 if days is not None else None)
            message = (f"已批准 {grant.request_no}，审批编号 {grant.approval_ref}"
                       if grant.status == "active" else f"已批准 {grant.request_no}，待第二审批人复核")
        elif request.form.get("decision") == "deny":
            deny(session, grant, approver=current_user, reason=request.form.get("reason", ""),
                 actor=actor)
            message = f"已驳回 {grant.request_no}"
        else:
            raise GrantError("请选择批准或驳回")
        session.commit()
    except GrantError as exc:
        session.rollback()
        flash(f"未处理：{exc}", "error")
        return redirect(url_for("grants.inbox_view")), 303
    flash(message, "info")
    return redirect(url_for("grants.inbox_view")), 303


@bp.route("/<int:grant_id>/end", methods=["POST"])
@requires(Permission.GRANT_READ_OWN)
def end_own(grant_id: int):
    """The holder withdraws a pending request or gives up an active grant."""
    return _end(grant_id, back="grants.mine", holder_only=True)


@bp.route("/<int:grant_id>/revoke", methods=["POST"])
@requires(Permission.GRANT_APPROVE)
def revoke_view(grant_id: int):
    return _end(grant_id, back="grants.inbox_view", holder_only=False)


def _end(grant_id: int, *, back: str, holder_only: bool):
    session = get_session()
    grant = _load(grant_id)
    if holder_only and grant.user_id != current_user.id:
        abort(404, description=f"授权 #{grant_id} 不存在")
    actor = actor_of(current_user, client_addr())
    try:
        if request.form.get("confirm") != "yes":  # irreversible: never on one stray click
            raise GrantError("此操作不可撤回：请勾选“确认”后再提交")
        if grant.status in ("pending", "pending_second"):
            withdraw(session, grant, by=current_user, actor=actor)
        else:
            revoke(session, grant, by=current_user, reason=request.form.get("reason", ""),
                   actor=actor)
        session.commit()
    except GrantError as exc:
        session.rollback()
        flash(f"未处理：{exc}", "error")
        return redirect(url_for(back)), 303
    flash(f"{grant.ref} {STATUS_LABELS[grant.status]}，下一次读取即生效", "info")
    return redirect(url_for(back)), 303


@bp.route("/all")
@requires(Permission.GRANT_APPROVE)
def all_active():
    """Active grants, for approvers to review and revoke."""
    session = get_session()
    now = utcnow()
    rows = [g for g in session.execute(select(Grant).where(Grant.status == "active")
                                       .order_by(Grant.valid_until)).scalars()
            if g.inactive_reason(now) is None]
    return render_template("grants_active.html", rows=rows)
