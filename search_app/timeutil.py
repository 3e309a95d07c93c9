from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Naive UTC: what SQLite and PostgreSQL `timestamp without time zone` both round-trip."""
    return datetime.now(UTC).replace(tzinfo=None)


def display_zone() -> ZoneInfo:
    """Where the people reading the times are (DISPLAY_TIMEZONE); stored times stay UTC."""
    from flask import current_app

    return ZoneInfo(current_app.config["DISPLAY_TIMEZONE"])


def zone_label(zone: ZoneInfo | None = None, at: datetime | None = None) -> str:
    """"UTC+8" for Asia/Shanghai: unambiguous, unlike the abbreviation CST."""
    zone = zone or display_zone()
    offset = (at or datetime.now(UTC)).astimezone(zone).utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset else 0
    sign, minutes = ("+" if minutes >= 0 else "-"), abs(minutes)
    return f"UTC{sign}{minutes // 60}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def local_time(ts: datetime | None, fmt: str = "%Y-%m-%d %H:%M", *, zone: bool = True) -> str:
    """A stored (naive UTC) time as the reader's local time, with the zone shown."""
    if ts is None:
        return "—"
    aware = (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).astimezone(display_zone())
    return aware.strftime(fmt) + (f"（{zone_label(at=aware)}）" if zone else "")


def local_day_start(day: datetime) -> datetime:
    """Naive UTC of local midnight at the start of `day` (a date typed by a reader)."""
    return day.replace(tzinfo=display_zone()).astimezone(UTC).replace(tzinfo=None)
