"""The register screens: entries (with the outcome note), monthly statistics with a chart, and
CSV / XLSX export. Auditors and the records office head read them; only the head annotates.
Looking, exporting and annotating are audited like every other access to accountable data."""
from __future__ import annotations

import re

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from search_app import limits
from search_app.audit.actions import Action
from search_app.audit.service import Event, record_event, request_actor
from search_app.db import get_session
from search_app.permissions import Permission, has_permission, requires
from search_app.register.build import sync_entries
from search_app.register.models import UseEntry
from search_app.register.stats import (DIMENSIONS, chart_svg, month_of, monthly, register_csv,
                                       register_xlsx)
from search_app.timeutil import utcnow

bp = Blueprint("register", __name__, url_prefix="/register")
_MONTH = re.compile(r"\d{4}-\d{2}")
OUTCOME_MAX = 2000


def _entries(month: str, unit: str) -> list[UseEntry]:
    session = get_session()
    sync_entries(session)
    rows = session.execute(select(UseEntry).order_by(UseEntry.opened_at.desc())).scalars().all()
    return [e for e in rows if (not month or month_of(e) == month) and (not unit or e.unit == unit)]


def _args() -> tuple[str, str]:
    month = request.args.get("month", "").strip()
    if month and not _MONTH.fullmatch(month):
        record_event(request_actor(), Event(action=Action.REGISTER_VIEW, outcome="denied",
                                            reason="月份格式错误", filters={"month": month}))
        abort(400, description=f"月份的格式应为 YYYY-MM，收到 {month!r}")
    return month, request.args.get("unit", "").strip()


@bp.route("/", methods=["GET"])
@requires(Permission.REGISTER_READ)
def entries():
    month, unit = _args()
    rows = _entries(month, unit)
    record_event(request_actor(), Event(action=Action.REGISTER_VIEW, outcome="allowed",
                                        result_count=len(rows),
                                        filters={"month": month, "unit": unit, "view": "entries"}))
    return render_template("register.html", rows=rows, month=month, unit=unit,
                           can_annotate=has_permission(current_user.role,
                                                       Permission.REGISTER_ANNOTATE))


@bp.route("/stats", methods=["GET"])
@requires(Permission.REGISTER_READ)
def stats():
    month, unit = _args()
    data = monthly(_entries(month, unit))
    record_event(request_actor(), Event(action=Action.REGISTER_VIEW, outcome="allowed",
                                        result_count=sum(data.entries.values()),
                                        filters={"month": month, "unit": unit, "view": "stats"}))
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
    month, unit = _args()
    rows = _entries(month, unit)
    record_event(request_actor(), Event(action=Action.REGISTER_EXPORT, outcome="allowed",
                                        result_count=len(rows),
                                        filters={"month": month, "unit": unit, "format": fmt}))
    name = f"use-register-{month or 'all'}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        return Response(register_csv(rows), mimetype="text/csv", headers=headers)
    return Response(register_xlsx(rows, monthly(rows)), headers=headers, mimetype=(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))


@bp.route("/outcome", methods=["POST"])
@requires(Permission.REGISTER_ANNOTATE)
def outcome():
    session = get_session()
    text = request.form.get("outcome", "").strip()
    raw_id = request.form.get("entry_id", "")
    entry = session.get(UseEntry, int(raw_id)) if raw_id.isdigit() else None
    why = ("登记条目不存在" if entry is None else "利用效果不能为空" if not text
           else limits.too_long("利用效果", text, OUTCOME_MAX))
    if why:
        record_event(request_actor(), Event(action=Action.REGISTER_ANNOTATE, outcome="denied",
                                            reason=why, filters={"entry": raw_id[:20]}))
        abort(404 if entry is None else 400, description=why)
    entry.outcome, entry.outcome_by, entry.outcome_at = text, current_user.username, utcnow()
    record_event(request_actor(), Event(action=Action.REGISTER_ANNOTATE, outcome="allowed",
                                        approval_ref=entry.approval_ref, grant_id=entry.grant_id,
                                        query=text, filters={"entry": entry.id,
                                                             "session": entry.session_id}),
                 session=session)
    session.commit()
    return redirect(url_for("register.entries"), code=303)
