"""The auditor's view of the log (read-only: there is no route that changes a record)."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, render_template, request
from sqlalchemy import func, select

from search_app.audit.models import AuditRecord
from search_app.audit.service import Event, record_event, request_actor, verify_chain
from search_app.db import get_session
from search_app.permissions import Permission, requires

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE = 50


@bp.route("/")
@requires(Permission.AUDIT_READ)
def log():
    session = get_session()
    stmt = select(AuditRecord)
    for field in ("username", "action", "outcome", "approval_ref"):
        value = request.args.get(field, "").strip()
        if value:
            stmt = stmt.where(getattr(AuditRecord, field) == value)
    total = session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    page = max(1, request.args.get("page", 1, type=int))
    rows = session.execute(stmt.order_by(AuditRecord.seq.desc())
                           .offset((page - 1) * PAGE).limit(PAGE)).scalars().all()
    report = verify_chain(session) if request.args.get("verify") else None
    next_query = (urlencode({**request.args.to_dict(), "page": page + 1})
                  if total > page * PAGE else "")
    record_event(request_actor(),
                 Event(action="audit.view", outcome="allowed", result_count=total,
                       filters={k: v for k, v in request.args.items()}))
    return render_template("audit.html", rows=rows, total=total, page=page,
                           args=request.args, report=report, next_query=next_query)
