"""Search pages for staff: open a reading session (a grant and a typed purpose), then search in
it by GET links; every new result page is audited, one already shown comes from the cache."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from search_app.audit.service import AuditWriteError, client_addr, request_actor
from search_app.db import get_session
from search_app.grants.services import GrantDenied, active_grants
from search_app.reading.services import SessionRefused, open_session
from search_app.reading.web import ask_to_open, cached_read, resolve
from search_app.permissions import Permission, has_permission, public, requires
from search_app.search import (SORTS, InvalidInput, QuerySyntaxError, ReadDenied,
                               SearchUnavailable, search_pages)

bp = Blueprint("search", __name__)


@bp.route("/")
@public
def index():
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login"))
    if has_permission(current_user.role, Permission.ARCHIVE_SEARCH):
        return redirect(url_for("search.search"))
    if has_permission(current_user.role, Permission.GRANT_APPROVE):
        return redirect(url_for("grants.inbox_view"))
    if has_permission(current_user.role, Permission.AUDIT_READ):
        return redirect(url_for("audit.log"))
    if has_permission(current_user.role, Permission.USER_MANAGE):
        return redirect(url_for("admin.users"))
    from search_app.admin.overview import overview
    from search_app.timeutil import utcnow

    return render_template("home.html", now=utcnow(), overview=overview(
        get_session(), low_confidence=current_app.config["OCR_REVIEW_THRESHOLD"]))


@bp.route("/healthz")
@public
def healthz():
    return {"status": "ok"}


def int_arg(value: str | None) -> int | None:
    """A form or query value as an int, None when missing or malformed (the read refuses it)."""
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@bp.route("/search", methods=["GET", "POST"])
@requires(Permission.ARCHIVE_SEARCH)
def search():
    """GET /search asks to open a reading session; GET /search?s=<session>&q=… searches in it
    (a normal link: bookmarkable, reloadable, Back works). A page of results already read in the
    session comes from its cache, so Back and paging back read (and audit) nothing new."""
    if request.method == "POST":
        return _posted_search()
    sid = request.args.get("s")
    if not sid:
        return ask_to_open("", status=200)
    try:
        rs = resolve(sid, "search", request.args.get("q", ""))
    except SessionRefused as exc:
        return ask_to_open(exc.reason)
    form = {"q": request.args.get("q", ""), "sort": request.args.get("sort", "relevance"),
            "group": request.args.get("group", "page"), "page": int_arg(request.args.get("page")) or 1}
    if not form["q"].strip():
        return _render(rs, form, None)
    params = sorted((k, v) for k, v in request.args.items(multi=True) if k != "s")
    try:
        data, fresh = cached_read(rs, "results", params, lambda: search_pages(
            user=current_user, grant_id=rs.grant_id, purpose=rs.purpose, query=form["q"],
            page=form["page"], sort=form["sort"], group=form["group"], client_addr=client_addr()))
    except Exception as exc:  # noqa: BLE001 - _refused re-raises what it does not know
        return _refused(exc, rs=rs, form=form)
    return _render(rs, form, data, cached=not fresh)


def _render(rs, form: dict, outcome, *, cached: bool = False, status: int = 200):
    back = urlencode(sorted((k, v) for k, v in request.args.items(multi=True) if k != "s"))
    return render_template("search.html", rs=rs, form=form, outcome=outcome, error=None,
                           sorts=SORTS, cached=cached, back=back), status


def _refused(exc: Exception, *, rs, form: dict, grants=None):
    """The search page with the reason: 400 bad query, 403 refusal (audited), 503 unavailable."""
    context = dict(rs=rs, form=form, outcome=None, sorts=SORTS, cached=False, back="",
                   grants=grants or [])
    if isinstance(exc, QuerySyntaxError):  # bad input, not a refusal: nothing was read
        return render_template("search.html", error=f"检索式有误：{exc}", **context), 400
    if isinstance(exc, ReadDenied):
        return render_template("search.html", error=f"查询被拒绝：{exc.reason}（已记录审计）",
                               **context), 403
    if isinstance(exc, (SearchUnavailable, AuditWriteError)):
        message = "审计记录无法写入，查询已拒绝" if isinstance(exc, AuditWriteError) else str(exc)
        return render_template("search.html", error=message, **context), 503
    raise exc


def _posted_search():
    """The one-step form (grant, typed purpose and query posted together), kept for clients of
    that form: it opens a reading session for them and answers 303 to the session's GET results
    page, so Back and reload never re-post it (no "Confirm Form Resubmission", no 405) and the
    results link to the page viewer like any session's. The session's opening is not a record
    of its own: the search that follows names it, with the same purpose. A grant or purpose that
    cannot open a session is refused by the read itself, as before (audited there)."""
    form = {"grant_id": int_arg(request.form.get("grant_id")),
            "purpose": request.form.get("purpose", ""), "q": request.form.get("q", ""),
            "sort": request.form.get("sort", "relevance"), "group": request.form.get("group", "page"),
            "page": int_arg(request.form.get("page")) or 1}
    session = get_session()
    try:
        row = open_session(session, user=current_user, grant_id=form["grant_id"],
                           purpose=form["purpose"], actor=request_actor(), audited=False)
        session.commit()
    except (InvalidInput, GrantDenied):
        session.rollback()
    else:
        args = {k: form[k] for k in ("q", "sort", "group", "page")}
        return redirect(url_for("search.search", s=row.id, **args), code=303)
    try:
        outcome = search_pages(user=current_user, grant_id=form["grant_id"],
                               purpose=form["purpose"], query=form["q"], page=form["page"],
                               sort=form["sort"], group=form["group"], client_addr=client_addr())
    except Exception as exc:  # noqa: BLE001 - _refused re-raises what it does not know
        return _refused(exc, rs=None, form=form,
                        grants=active_grants(get_session(), current_user))
    return render_template("search.html", rs=None, form=form, outcome=outcome, error=None,
                           sorts=SORTS, cached=False, back="")
