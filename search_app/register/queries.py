"""What the register screens and /api/v1/register share: the filters (a bad month is refused
and audited), the entries they select, the outcome note and the exports. Each read or change is
audited here, so the web page and the API leave the same records."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app import limits
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.audit.redaction import PII_HMACS, mask_text, value_hmac
from search_app.audit.service import Actor, Event, record_event
from search_app.register.build import sync_entries
from search_app.register.models import UseEntry
from search_app.register.stats import Stats, month_of, monthly, register_csv, register_xlsx
from search_app.timeutil import utcnow

_MONTH = re.compile(r"\d{4}-\d{2}")
OUTCOME_MAX = 2000
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class RegisterError(ValueError):
    """Bad input (400) or, with `missing`, an entry that does not exist (404); said in Chinese."""

    def __init__(self, message: str, *, missing: bool = False) -> None:
        super().__init__(message)
        self.missing = missing


def checked_filters(actor: Actor, month: str, unit: str) -> tuple[str, str]:
    """(month, unit) stripped; a month not in YYYY-MM form is refused (and the refusal audited)."""
    month, unit = (month or "").strip(), (unit or "").strip()
    if month and not _MONTH.fullmatch(month):
        record_event(actor, Event(action=Action.REGISTER_VIEW, outcome="denied",
                                  reason="月份格式错误", filters={"month": month[:20]}))
        raise RegisterError(f"月份的格式应为 YYYY-MM，收到 {month!r}")
    return month, unit


def _select(session: Session, month: str, unit: str) -> list[UseEntry]:
    sync_entries(session)
    rows = session.execute(select(UseEntry).order_by(UseEntry.opened_at.desc())).scalars().all()
    return [e for e in rows if (not month or month_of(e) == month) and (not unit or e.unit == unit)]


def read_entries(session: Session, actor: Actor, month: str, unit: str) -> list[UseEntry]:
    month, unit = checked_filters(actor, month, unit)
    rows = _select(session, month, unit)
    record_event(actor, Event(action=Action.REGISTER_VIEW, outcome="allowed", result_count=len(rows),
                              filters={"month": month, "unit": unit, "view": "entries"}))
    return rows


def read_stats(session: Session, actor: Actor, month: str, unit: str) -> Stats:
    month, unit = checked_filters(actor, month, unit)
    data = monthly(_select(session, month, unit))
    record_event(actor, Event(action=Action.REGISTER_VIEW, outcome="allowed",
                              result_count=sum(data.entries.values()),
                              filters={"month": month, "unit": unit, "view": "stats"}))
    return data


def export(session: Session, actor: Actor, month: str, unit: str, fmt: str
           ) -> tuple[str, str, str | bytes]:
    """(file name, media type, body) of the CSV or XLSX export; audited as an export."""
    month, unit = checked_filters(actor, month, unit)
    rows = _select(session, month, unit)
    record_event(actor, Event(action=Action.REGISTER_EXPORT, outcome="allowed", result_count=len(rows),
                              filters={"month": month, "unit": unit, "format": fmt}))
    name = f"use-register-{month or 'all'}.{fmt}"
    if fmt == "csv":
        return name, "text/csv", register_csv(rows)
    return name, XLSX, register_xlsx(rows, monthly(rows))


def annotate(session: Session, actor: Actor, user: User, entry_id: int | None, text: str
             ) -> UseEntry:
    """Write the 利用效果 of one entry (audited with the entry's grant and session); commits."""
    text = (text or "").strip()
    entry = session.get(UseEntry, entry_id) if entry_id is not None else None
    why = ("登记条目不存在" if entry is None else "利用效果不能为空" if not text
           else limits.too_long("利用效果", text, OUTCOME_MAX))
    if why:
        record_event(actor, Event(action=Action.REGISTER_ANNOTATE, outcome="denied", reason=why,
                                  filters={"entry": str(entry_id)[:20]}))
        raise RegisterError(why, missing=entry is None)
    # The note is free text ("向王建国出具证明"): it is kept, shown and exported as the log keeps
    # it (masked, each value's hash in the record), never as typed.
    found: set[tuple[str, str]] = set()
    text = mask_text(text, found)
    entry.outcome, entry.outcome_by, entry.outcome_at = text, user.username, utcnow()
    record_event(actor, Event(action=Action.REGISTER_ANNOTATE, outcome="allowed",
                              approval_ref=entry.approval_ref, grant_id=entry.grant_id, query=text,
                              filters={"entry": entry.id, "session": entry.session_id,
                                       PII_HMACS: sorted(value_hmac(k, v) for k, v in found)}),
                 session=session)
    session.commit()
    return entry
