"""The register screens: entries (with the outcome note), monthly statistics with a chart, and
CSV / XLSX export. Auditors and the records office head read them; only the head annotates.
Looking, exporting and annotating are audited like every other access to accountable data
(search_app.register.queries, which /api/v1/register calls too)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user

from search_app.audit.service import request_actor
from search_app.db import get_session
from search_app.permissions import Permission, has_permission, requires
from search_app.register import queries
from search_app.register.stats import DIMENSIONS, chart_svg

bp = Blueprint("register", __name__, url_prefix="/register")


def _call(fn, *args):
    """A register read with this request's filters; bad input answers 400 (already audited)."""
    try:
        return fn(get_session(), request_actor(), request.args.get("month", ""),
                  request.args.get("unit", ""), *args)
    except queries.RegisterError as exc:
        abort(400, description=str(exc))


def _filters() -> tuple[str, str]:
    return request.args.get("month", "").strip(), request.args.get("unit", "").strip()


@bp.route("/", methods=["GET"])
@requires(Permission.REGISTER_READ)
def entries():
    rows = _call(queries.read_entries)
    month, unit = _filters()
    return render_template("register.html", rows=rows, month=month, unit=unit,
                           can_annotate=has_permission(current_user.role,
                                                       Permission.REGISTER_ANNOTATE))


@bp.route("/stats", methods=["GET"])
@requires(Permission.REGISTER_READ)
def stats():
    data = _call(queries.read_stats)
    month, unit = _filters()
    return render_template("register_stats.html", stats=data, chart=chart_svg(data),
                           dims=DIMENSIONS, month=month, unit=unit)


@bp.route("/export.csv", methods=["GET"])
@requires(Permission.REGISTER_READ)
def export_csv():
    return _export("csv")


@bp.route("/export.xlsx", methods=["GET"])
@requires(Permission.REGISTER_READ)
def export_xlsx():
    return _export("xlsx")


def _export(fmt: str) -> Response:
    name, media, body = _call(queries.export, fmt)
    return Response(body, mimetype=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/outcome", methods=["POST"])
@requires(Permission.REGISTER_ANNOTATE)
def outcome():
    raw_id = request.form.get("entry_id", "")
    try:
        queries.annotate(get_session(), request_actor(), current_user,
                         int(raw_id) if raw_id.isdigit() else None, request.form.get("outcome", ""))
    except queries.RegisterError as exc:
        abort(404 if exc.missing else 400, description=str(exc))
    return redirect(url_for("register.entries"), code=303)
