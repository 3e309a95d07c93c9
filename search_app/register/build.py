"""Build register entries from reading sessions and the audit records that name them.

Why from the audit log: it is the one record of what was read, committed before any result was
returned, so an entry cannot claim less (or more) than the log holds; each entry lists the
sequence numbers it was built from, so an auditor can trace it back. An entry is refreshed while
its session runs and frozen (`final`) once the session has ended (closed, idle, expired).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.vocab import archive_of
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.audit.models import AuditRecord
from search_app.reading.models import ReadingSession
from search_app.reading.services import ends_at
from search_app.register.models import UseEntry
from search_app.timeutil import utcnow

VIEWS = frozenset({Action.PAGE_VIEW, Action.PAGE_UNMASK, Action.PAGE_IMAGE})
COPIES = frozenset({Action.EXPORT_PDF, Action.EXPORT})
_SLACK = timedelta(seconds=5)


def _records(db: Session, row: ReadingSession, until: datetime) -> list[AuditRecord]:
    stmt = (select(AuditRecord).where(AuditRecord.user_id == row.user_id,
                                      AuditRecord.ts >= row.opened_at - _SLACK,
                                      AuditRecord.ts <= until + _SLACK)
            .order_by(AuditRecord.seq))
    return [r for r in db.execute(stmt).scalars()
            if (r.filters or {}).get("reading_session") == row.id]


def _fill(entry: UseEntry, row: ReadingSession, user: User | None,
          records: list[AuditRecord]) -> None:
    grant = row.grant
    entry.user_id, entry.grant_id = row.user_id, row.grant_id
    if user is not None and not entry.username:  # frozen at the first build
        entry.username, entry.display_name, entry.unit = user.username, user.display_name, user.unit
    entry.approval_ref, entry.purpose_category = grant.ref, grant.purpose_category or ""
    entry.categories, entry.opened_at = list(grant.categories or []), row.opened_at
    viewed: list[str] = []
    exported: list[str] = []
    searches = copies = 0
    for r in records:
        if not entry.purpose and r.purpose:
            entry.purpose = r.purpose
        if r.outcome != "allowed":
            continue
        ids = [i for i in (r.returned_ids or []) if isinstance(i, str)]
        if r.action in VIEWS:
            viewed.extend(i for i in ids if i not in viewed)
        elif r.action in COPIES:
            copies += 1
            exported.extend(i for i in ids if i not in exported)
        elif r.action == Action.SEARCH:
            searches += 1
    entry.pages_viewed, entry.pages_exported = viewed, exported
    entry.files = sorted({archive_of(i) for i in viewed + exported})
    entry.searches, entry.copies = searches, copies
    entry.audit_seqs = [r.seq for r in records]


def sync_entries(db: Session, *, now: datetime | None = None) -> int:
    """Create or refresh the entry of every session not yet frozen; returns how many changed.
    Idempotent: a frozen entry is never rebuilt (only its outcome note changes later)."""
    now = now or utcnow()
    frozen = select(UseEntry.session_id).where(UseEntry.final.is_(True))
    rows = db.execute(select(ReadingSession).where(ReadingSession.id.not_in(frozen))).scalars().all()
    changed = 0
    for row in rows:
        end = row.closed_at or (ends_at(row) if ends_at(row) <= now else None)
        entry = db.execute(select(UseEntry).where(UseEntry.session_id == row.id)
                           ).scalar_one_or_none()
        records = _records(db, row, end or now)
        fresh = entry is None
        if fresh:
            entry = UseEntry(session_id=row.id, username="", outcome="", outcome_by="")
        _fill(entry, row, db.get(User, row.user_id), records)
        entry.ended_at, entry.final = end, end is not None
        if fresh:
            db.add(entry)
        changed += 1
    db.commit()
    return changed
