"""How many distinct values one grant may look up in a day (issue 8, requirement 3).

Counted from the audit log itself (the allowed pii.lookup records of the grant since local
midnight in AUDIT_TIMEZONE), so there is no second counter to drift or to reset. A value looked
up before today is free to look up again; only new values use the budget. Two look-ups racing
on separate connections are decided one after the other: the check runs again, as guarded_read's
`admit`, in the session that writes the allowed record after it has taken the audit chain's write
lock, so the count it reads includes every look-up committed before it.
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app.audit.anomalies import LOOKUP_LIMIT_REASON
from search_app.audit.models import AuditRecord
from search_app.db import fresh_session
from search_app.grants.models import Grant
from search_app.audit.actions import Action


def _day_start_utc(tz: ZoneInfo) -> datetime:
    local = datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    return local.astimezone(UTC).replace(tzinfo=None)  # audit ts are naive UTC


def values_looked_up_today(grant: Grant, session: Session | None = None) -> set[str]:
    since = _day_start_utc(ZoneInfo(current_app.config["AUDIT_TIMEZONE"]))
    stmt = select(AuditRecord.filters).where(AuditRecord.action == Action.PII_LOOKUP,
                                             AuditRecord.outcome == "allowed",
                                             AuditRecord.grant_id == grant.id,
                                             AuditRecord.ts >= since)
    if session is not None:  # the locked session that will write the record (admit)
        rows = session.execute(stmt).scalars().all()
    else:
        # A session of its own: the request's session may hold a snapshot older than the
        # look-ups this reader committed since, which would undercount the budget.
        with fresh_session() as own:
            rows = own.execute(stmt).scalars().all()
    return {(f or {}).get("value_hmac", "") for f in rows} - {""}


def lookup_budget_refusal(grant: Grant, value_hmac: str,
                          session: Session | None = None) -> str | None:
    """A refusal reason (Chinese) when this look-up would exceed the grant's daily budget."""
    limit = current_app.config["LOOKUP_MAX_DISTINCT_PER_DAY"]
    seen = values_looked_up_today(grant, session)
    if value_hmac in seen or len(seen) < limit:
        return None
    return (f"{LOOKUP_LIMIT_REASON}：授权 {grant.ref} 今日已精确查找 {len(seen)} 个不同的值"
            f"（上限 {limit}），请明日再查或申请新的授权")
