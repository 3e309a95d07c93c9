"""How many distinct values one auditor may turn into log hashes in a day (按值查找).

The match form hashes whatever the auditor types, so without a limit it is an oracle: an auditor
who knows a region and a birth date can hash every candidate ID number and see which one the log
names (docs/privacy.md, residual risk). Each match is therefore an audit record of its own
(`audit.match`, holding only the hashes), and above AUDIT_MATCH_MAX_PER_DAY distinct values per
auditor and local day (AUDIT_TIMEZONE) the match is refused, recorded with a Chinese reason and
flagged. Matching a value already matched today is free. As the look-up budget does, the count
is read again under the audit chain's write lock in the session that writes the allowed record,
so parallel requests cannot share the last slot. A refused record carries no hashes (the
auditor could otherwise read them back from the log and search by them anyway).
"""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app.audit.actions import Action
from search_app.audit.anomalies import MATCH_LIMIT_REASON
from search_app.audit.models import AuditRecord
from search_app.audit.redaction import candidate_hmacs
from search_app.audit.service import Actor, Event, lock_chain, record_event
from search_app.db import fresh_session


class MatchRefused(Exception):
    """A match above the daily limit; the message is the Chinese reason (already audited)."""


def _matched_today(session: Session, user_id: int | None) -> set[tuple[str, ...]]:
    local = datetime.now(ZoneInfo(current_app.config["AUDIT_TIMEZONE"]))
    since = (local.replace(hour=0, minute=0, second=0, microsecond=0)
             .astimezone(UTC).replace(tzinfo=None))  # audit ts are naive UTC
    rows = session.execute(select(AuditRecord.filters).where(
        AuditRecord.action == Action.AUDIT_MATCH, AuditRecord.outcome == "allowed",
        AuditRecord.user_id == user_id, AuditRecord.ts >= since)).scalars().all()
    return {tuple((f or {}).get("pii") or ()) for f in rows} - {()}


def match_value(typed: str, *, actor: Actor) -> list[str]:
    """The hashes `typed` may have been recorded under, or MatchRefused above the daily limit."""
    hashes = candidate_hmacs(typed)
    if not hashes:
        return []
    limit = current_app.config["AUDIT_MATCH_MAX_PER_DAY"]
    with fresh_session() as locked:
        lock_chain(locked)
        seen = _matched_today(locked, actor.user_id)
        if tuple(hashes) not in seen and len(seen) >= limit:
            locked.rollback()  # the lock goes before the refusal is recorded
            reason = (f"{MATCH_LIMIT_REASON}：今日已按值查找 {len(seen)} 个不同的值（上限 {limit}），"
                      "请明日再查；如确有需要，请联系安全管理员调整上限")
            record_event(actor, Event(action=Action.AUDIT_MATCH, outcome="denied", reason=reason,
                                      filters={"limit": limit}))
            raise MatchRefused(reason)
        record_event(actor, Event(action=Action.AUDIT_MATCH, outcome="allowed",
                                  result_count=len(hashes), filters={"pii": hashes}),
                     session=locked)
        locked.commit()
    return hashes
