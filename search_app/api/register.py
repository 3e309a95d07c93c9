"""The use register (利用登记) over the API: its entries, the monthly statistics, CSV/XLSX
export and the head's outcome note (利用效果). Auditors and the records office head read; only
the head annotates. search_app.register.queries filters, audits and writes for the web screens
and for these routes alike."""
from __future__ import annotations

from flask import Response
from flask_login import current_user

from search_app.api import bp
from search_app.api import schemas as s
from search_app.api._doc import documented
from search_app.api._rows import row_json
from search_app.audit.service import request_actor
from search_app.db import get_session
from search_app.errors import render_error
from search_app.permissions import Permission, requires
from search_app.register import queries
from search_app.register.stats import DIMENSIONS

_ENTRY = ("id", "session_id", "username", "display_name", "unit", "grant_id", "approval_ref",
          "purpose_category", "purpose", "categories", "opened_at", "ended_at", "final", "files",
          "pages_viewed", "pages_exported", "searches", "copies", "audit_seqs", "outcome",
          "outcome_by", "outcome_at")


def entry_json(entry) -> dict:
    return row_json(entry, _ENTRY)


def _read(fn, query: s.RegisterQuery, *args):
    try:
        return fn(get_session(), request_actor(), query.month, query.unit, *args), None
    except queries.RegisterError as exc:  # already audited as a denied register view
        return None, render_error(400, str(exc))


@bp.get("/register/entries")
@requires(Permission.REGISTER_READ)
@documented("利用登记条目（每个阅读会话一条：谁、何时、依何授权、利用了哪些档号和页面）",
            query=s.RegisterQuery, ok=s.RegisterEntries, tag="利用登记",
            description="本次查阅写入一条 register.view 审计记录。")
def register_entries(query: s.RegisterQuery):
    rows, error = _read(queries.read_entries, query)
    return error or {"month": query.month, "unit": query.unit, "total": len(rows),
                     "entries": [entry_json(e) for e in rows]}


@bp.get("/register/stats")
@requires(Permission.REGISTER_READ)
@documented("利用登记的月度统计（按单位、门类、查询事由类别）", query=s.RegisterQuery,
            ok=s.RegisterStats, tag="利用登记")
def register_stats(query: s.RegisterQuery):
    data, error = _read(queries.read_stats, query)
    return error or {
        "months": data.months, "entries": dict(data.entries), "pages": dict(data.pages),
        "dimensions": DIMENSIONS,
        "by": {dim: [{"month": m, "key": k, "count": n} for (m, k), n in sorted(data.by[dim].items())]
               for dim in DIMENSIONS}}


def _export(query: s.RegisterQuery, fmt: str):
    out, error = _read(queries.export, query, fmt)
    if error:
        return error
    name, media, body = out
    return Response(body, mimetype=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.get("/register/export.csv")
@requires(Permission.REGISTER_READ)
@documented("导出利用登记（CSV）", query=s.RegisterQuery, ok=None, media="text/csv", tag="利用登记")
def register_export_csv(query: s.RegisterQuery):
    return _export(query, "csv")


@bp.get("/register/export.xlsx")
@requires(Permission.REGISTER_READ)
@documented("导出利用登记与月度统计（XLSX）", query=s.RegisterQuery, ok=None, media=queries.XLSX,
            tag="利用登记")
def register_export_xlsx(query: s.RegisterQuery):
    return _export(query, "xlsx")


@bp.post("/register/entries/<int:entry_id>/outcome")
@requires(Permission.REGISTER_ANNOTATE)
@documented("填写一条登记的利用效果（档案室负责人；已审计）", body=s.OutcomeBody, ok=s.RegisterEntryOut,
            errors=(404,), tag="利用登记")
def register_outcome(entry_id: int, body: s.OutcomeBody):
    try:
        entry = queries.annotate(get_session(), request_actor(), current_user, entry_id, body.outcome)
    except queries.RegisterError as exc:
        return render_error(404 if exc.missing else 400, str(exc))
    return entry_json(entry)
