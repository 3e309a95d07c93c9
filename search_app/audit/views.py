"""The auditor's view of the log (read-only: no route changes a record). Looking at the log,
exporting it and checking the chain are themselves audited."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import re

from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from sqlalchemy import Select, Text, cast, func, or_, select

from search_app.accounts.models import User
from search_app.audit.actions import ACTION_LABELS, OUTCOME_LABELS, action_label
from search_app.audit.anomalies import KIND_LABELS, find_anomalies
from search_app.audit.models import AuditRecord
from search_app.audit.match_budget import MatchRefused, match_value
from search_app.audit.redaction import HMAC_CHARS, hashes_of
from search_app.audit.service import Event, record_event, request_actor, verify_chain
from search_app.csvsafe import csv_text
from search_app.db import get_session
from search_app.permissions import Permission, requires, role_labels
from search_app.timeutil import local_day_start, local_time, utcnow
from search_app.audit.actions import Action

bp = Blueprint("audit", __name__, url_prefix="/audit")
bp.add_app_template_filter(action_label, "action_label")
bp.add_app_template_filter(lambda outcome: OUTCOME_LABELS.get(outcome, outcome), "outcome_label")
bp.add_app_template_filter(lambda role: role_labels(role) if role else "—", "role_label")
PAGE = 50
EXACT = ("username", "action", "outcome", "approval_ref")
CSV_COLUMNS = ("seq", "ts", "username", "role", "action", "outcome", "reason", "purpose",
               "approval_ref", "grant_id", "query", "filters", "pii_hmacs", "result_count",
               "returned_ids", "client_addr", "hash")
_HMAC = re.compile(rf"^[0-9a-f]{{{HMAC_CHARS}}}$")
_ARGS = (*EXACT, "purpose", "unit", "since", "until", "pii")


class FilterError(ValueError):
    pass


def _day(value: str, name: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise FilterError(f"{name} 的日期格式应为 YYYY-MM-DD，收到 {value!r}") from None


def filtered_records(args: dict[str, str]) -> Select:
    """The records matching the auditor's filters (the web view, its CSV and the API use this)."""
    stmt = select(AuditRecord)
    for name in EXACT:
        if args.get(name, "").strip():
            stmt = stmt.where(getattr(AuditRecord, name) == args[name].strip())
    if args.get("purpose", "").strip():
        stmt = stmt.where(AuditRecord.purpose.contains(args["purpose"].strip()))
    if args.get("unit", "").strip():  # the unit the user belongs to now
        ids = select(User.id).where(User.unit == args["unit"].strip())
        stmt = stmt.where(AuditRecord.user_id.in_(ids))
    if args.get("pii", "").strip():  # value hashes (from /audit/match): records naming that value
        hashes = [h for h in args["pii"].split(",") if h]
        if not all(_HMAC.match(h) for h in hashes):
            raise FilterError("值哈希的格式不正确：请在“按值查找”中输入要查找的号码或姓名")
        as_text = cast(AuditRecord.filters, Text)
        stmt = stmt.where(or_(*[as_text.contains(f'"{h}"') for h in hashes]))
    if args.get("since", "").strip():
        stmt = stmt.where(AuditRecord.ts >= local_day_start(_day(args["since"].strip(), "起始日期")))
    if args.get("until", "").strip():
        stmt = stmt.where(AuditRecord.ts < local_day_start(_day(args["until"].strip(), "截止日期")
                                                           + timedelta(days=1)))
    return stmt


def _args() -> dict[str, str]:
    return {k: v for k, v in request.args.items() if k in _ARGS}


def _render(template: str, *, args: dict[str, str], action: str, **extra: Any):
    session = get_session()
    try:
        stmt = filtered_records(args)
    except FilterError as exc:
        record_event(request_actor(), Event(action=action, outcome="denied", reason=str(exc), filters=args))
        return render_template(template, rows=[], total=0, page=1, args=args, report=None,
                               next_query="", flags=[], error=str(exc), pii_of=hashes_of,
                               **extra), 400
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = max(1, request.args.get("page", 1, type=int))
    rows = session.execute(stmt.order_by(AuditRecord.seq.desc())
                           .offset((page - 1) * PAGE).limit(PAGE)).scalars().all()
    report = verify_chain(session) if request.args.get("verify") else None
    next_query = urlencode({**request.args.to_dict(), "page": page + 1}) if total > page * PAGE else ""
    record_event(request_actor(), Event(action=action, outcome="allowed", result_count=total,
                                        filters={**args, "page": page,
                                                 **({"verify": True} if report else {})}))
    return render_template(template, rows=rows, total=total, page=page, args=args, report=report,
                           next_query=next_query, error=None, pii_of=hashes_of, **extra)


@bp.route("/match", methods=["POST"])
@requires(Permission.AUDIT_READ)
def match():
    """Find the records that name a value (an ID number, phone, card, name) typed by the auditor.

    The value arrives by POST, is hashed here and forgotten: only its keyed hashes go into the
    redirect URL (and so into the access log, the browser history and the audit.view record).
    Each match is an `audit.match` record, limited per auditor and day (audit.match_budget).
    """
    keep = {k: v for k, v in request.form.items() if k in _ARGS and k != "pii" and v}
    try:
        hashes = match_value(request.form.get("value", ""), actor=request_actor())
    except MatchRefused as exc:
        units = sorted({u for (u,) in get_session().execute(select(User.unit)) if u})
        return render_template("audit.html", rows=[], total=0, page=1, args=keep, report=None,
                               next_query="", flags=[], error=str(exc), pii_of=hashes_of,
                               units=units, action_labels=ACTION_LABELS,
                               outcome_labels=OUTCOME_LABELS), 429
    return redirect(url_for("audit.log", **keep, **({"pii": ",".join(hashes)} if hashes else {})))


@bp.route("/")
@requires(Permission.AUDIT_READ)
def log():
    units = sorted({u for (u,) in get_session().execute(select(User.unit)) if u})
    return _render("audit.html", args=_args(), action=Action.AUDIT_VIEW, units=units,
                   action_labels=ACTION_LABELS, outcome_labels=OUTCOME_LABELS)


def user_summary(session, username: str) -> tuple[User | None, list, list]:
    """(the account or None, [(action, outcome, count)], its anomaly flags of the last 30 days)
    for one person's activity page (web and API)."""
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    summary = session.execute(select(AuditRecord.action, AuditRecord.outcome, func.count())
                              .where(AuditRecord.username == username)
                              .group_by(AuditRecord.action, AuditRecord.outcome)).all()
    recent = session.execute(select(AuditRecord).where(AuditRecord.username == username)
                             .where(AuditRecord.ts >= utcnow() - timedelta(days=30))).scalars()
    return user, list(summary), find_anomalies(recent, current_app.config)


@bp.route("/users/<username>")
@requires(Permission.AUDIT_READ)
def user_activity(username: str):
    """One person's activity: their records, a summary by action and outcome, and their flags."""
    user, summary, flags = user_summary(get_session(), username)
    return _render("audit_user.html", args={**_args(), "username": username},
                   action=Action.AUDIT_USER_VIEW, person=user, summary=summary, user_flags=flags,
                   kind_labels=KIND_LABELS)


@bp.route("/anomalies")
@requires(Permission.AUDIT_READ)
def anomalies():
    days = max(1, min(request.args.get("days", 7, type=int), 90))
    recs = get_session().execute(select(AuditRecord)
                                 .where(AuditRecord.ts >= utcnow() - timedelta(days=days))).scalars()
    flags = find_anomalies(recs, current_app.config)
    record_event(request_actor(), Event(action=Action.AUDIT_ANOMALIES, outcome="allowed",
                                        result_count=len(flags), filters={"days": days}))
    return render_template("audit_anomalies.html", flags=flags, days=days, cfg=current_app.config)


@bp.route("/export.csv")
@requires(Permission.AUDIT_READ)
def export():
    try:
        name, body = export_csv(_args())
    except FilterError as exc:
        return Response(f"{exc}\n", status=400, mimetype="text/plain")
    return Response(body, mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def export_csv(args: dict[str, str]) -> tuple[str, str]:
    """(file name, CSV) of the records the filters select, oldest first; audited as an export
    (a bad filter raises FilterError after its refusal is audited)."""
    try:
        stmt = filtered_records(args)
    except FilterError as exc:
        record_event(request_actor(), Event(action=Action.AUDIT_EXPORT, outcome="denied",
                                            reason=str(exc), filters=args))
        raise
    rows = get_session().execute(stmt.order_by(AuditRecord.seq)).scalars().all()
    rec = record_event(request_actor(), Event(action=Action.AUDIT_EXPORT, outcome="allowed",
                                              result_count=len(rows), filters=args))
    body = csv_text([CSV_COLUMNS, *([local_time(r.ts, "%Y-%m-%d %H:%M:%S") if c == "ts" else
                                     ",".join(r.returned_ids) if c == "returned_ids" else
                                     ",".join(hashes_of(r.filters)) if c == "pii_hmacs" else
                                     getattr(r, c) for c in CSV_COLUMNS] for r in rows)])
    return f"audit-{rec.seq}.csv", body
