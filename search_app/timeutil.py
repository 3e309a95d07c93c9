from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Naive UTC: what SQLite and PostgreSQL `timestamp without time zone` both round-trip."""
    return datetime.now(UTC).replace(tzinfo=None)
