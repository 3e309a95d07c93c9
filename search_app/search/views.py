"""Search pages for staff: pick a grant, state a purpose, query; every result set is audited."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from search_app.audit.service import AuditWriteError, client_addr
from search_app.db import get_session
from search_app.grants.services import active_grants
from search_app.permissions import Permission, has_permission, public, requires
from search_app.search import SORTS, QuerySyntaxError, ReadDenied, SearchUnavailable, search_pages

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
    grants = active_grants(get_session(), current_user)
    form = {"grant_id": int_arg(request.form.get("grant_id")),
            "purpose": request.form.get("purpose", ""), "q": request.form.get("q", ""),
            "sort": request.form.get("sort", "relevance"),
            "group": request.form.get("group", "page")}
    if request.method == "GET":
        if grants:  # a convenience for the form only; a POST must name its grant
            # the grant only: the purpose of this reading is typed by the reader, never taken
            # from the grant (DESIGN rule 3), or reads would go through with nobody stating one
            form["grant_id"] = grants[0].id
        return render_template("search.html", grants=grants, form=form, outcome=None, error=None,
                               sorts=SORTS)
    page = int_arg(request.form.get("page")) or 1
    try:
        outcome = search_pages(user=current_user, grant_id=form["grant_id"],
                               purpose=form["purpose"], query=form["q"], page=page,
                               sort=form["sort"], group=form["group"],
                               client_addr=client_addr())
    except QuerySyntaxError as exc:  # bad input, not a refusal: nothing was read
        return render_template("search.html", grants=grants, form=form, outcome=None,
                               sorts=SORTS, error=f"检索式有误：{exc}"), 400
    except ReadDenied as exc:
        return render_template("search.html", grants=grants, form=form, outcome=None,
                               sorts=SORTS, error=f"查询被拒绝：{exc.reason}（已记录审计）"), 403
    except (SearchUnavailable, AuditWriteError) as exc:
        message = ("审计记录无法写入，查询已拒绝" if isinstance(exc, AuditWriteError) else str(exc))
        return render_template("search.html", grants=grants, form=form, outcome=None,
                               sorts=SORTS, error=message), 503
    return render_template("search.html", grants=grants, form=form, outcome=outcome, error=None,
                           sorts=SORTS)
