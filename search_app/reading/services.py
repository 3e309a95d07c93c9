"""Opening, resolving and closing reading sessions.

A session is opened by its owner choosing a grant and typing the purpose (never pre-filled);
from then on a read names only the session id, and the purpose comes from the row. `live()` is
asked on every request that reads inside a session: the owner, closed/expired/idle, and the
grant (revoked or expired since) are checked each time, so a link outside its owner's live
session reads nothing and only asks to open one.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, g
from sqlalchemy import select
from sqlalchemy.orm import Session

from search_app import limits
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.audit.service import Actor, Event, record_event
from search_app.crypto import vault_from_config
from search_app.grants.services import GrantDenied, resolve_grant
from search_app.reading import cache
from search_app.reading.models import ReadingSession
from search_app.search._parse import InvalidInput
from search_app.timeutil import local_time, utcnow

SID = re.compile(r"[A-Za-z0-9_-]{16,32}")
_TOUCH_EVERY = timedelta(seconds=20)  # last_used_at is written at most this often
ASK_TO_OPEN = "请选择授权并填写查询事由，开启阅读会话后再打开此链接"


class SessionRefused(PermissionError):
    """This request may not read in the session it names; `reason` says why, in Chinese."""

    def __init__(self, reason: str, *, grant_id: int | None = None, approval_ref: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.grant_id = grant_id  # only set for the owner's own session
        self.approval_ref = approval_ref


@dataclass(frozen=True)
class Live:
    """A session checked for this request: what a read under it needs."""

    id: str
    grant_id: int
    approval_ref: str
    purpose: str
    expires_at: datetime  # the earlier of the hard end and the idle end, as of now
    row: ReadingSession


def _aad(sid: str) -> bytes:
    return f"reading-session:{sid}".encode()


def _purpose(row: ReadingSession) -> str:
    return vault_from_config(current_app.config).decrypt(row.purpose_ciphertext,
                                                         aad=_aad(row.id)).decode()


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["READING_IDLE_MINUTES"])


def ends_at(row: ReadingSession) -> datetime:
    return min(row.expires_at, row.last_used_at + _idle())


def open_session(db: Session, *, user: User, grant_id: int | None, purpose: str,
                 actor: Actor, audited: bool = True) -> ReadingSession:
    """A new session under `grant_id` for the typed `purpose`. InvalidInput (400) for a missing or
    over-long purpose; GrantDenied (403, audited) for a grant that is not the user's or not
    active. The opening is audited with the purpose, like every read; `audited=False` is for the
    one-step form, whose read follows at once and names the session with the same purpose (so
    that a form post stays one record, and a refused grant is recorded by the read itself)."""
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidInput("必须填写本次查询事由（每次开启阅读会话时自行填写）")
    reason = limits.too_long("查询事由", purpose, limits.PURPOSE)
    if reason:
        raise InvalidInput(reason)
    try:
        grant = resolve_grant(db, user, grant_id)
    except GrantDenied as exc:
        if not audited:
            raise
        record_event(actor, Event(action=Action.READING_OPEN, outcome="denied", reason=exc.reason,
                                  purpose=purpose, grant_id=grant_id,
                                  approval_ref=exc.grant.ref if exc.grant else ""))
        raise
    now = utcnow()
    sid = secrets.token_urlsafe(16)
    hard_end = min(grant.valid_until, now + timedelta(hours=current_app.config["READING_MAX_HOURS"]))
    row = ReadingSession(id=sid, user_id=user.id, grant_id=grant.id, opened_at=now,
                         last_used_at=now, expires_at=hard_end, reads=0, close_reason="",
                         purpose_ciphertext=vault_from_config(current_app.config).encrypt(
                             purpose.encode(), aad=_aad(sid)))
    db.add(row)
    if audited:
        record_event(actor, Event(action=Action.READING_OPEN, outcome="allowed", purpose=purpose,
                                  grant_id=grant.id, approval_ref=grant.ref,
                                  filters={"reading_session": sid,
                                           "expires_at": hard_end.isoformat(timespec="seconds")}),
                     session=db)
    db.commit()
    return row


def _end(db: Session, row: ReadingSession, reason: str, now: datetime) -> None:
    row.closed_at, row.close_reason = now, reason
    db.commit()
    cache.drop(row.id)


def live(db: Session, user: User, sid: str | None, *, now: datetime | None = None) -> Live:
    """The user's live session `sid`, checked now, or SessionRefused with the reason. A session
    found idle, past its end or under a grant no longer active is closed on the way."""
    now = now or utcnow()
    if not sid:
        raise SessionRefused(f"没有阅读会话：{ASK_TO_OPEN}")
    row = db.get(ReadingSession, sid) if SID.fullmatch(sid) else None
    if row is None or row.user_id != user.id:  # another user's session: say nothing about it
        raise SessionRefused(f"阅读会话不存在或不属于您：{ASK_TO_OPEN}")
    db.refresh(row)
    refs = {"grant_id": row.grant_id, "approval_ref": row.grant.ref}
    if row.closed_at is not None:
        why = {"idle": "（无操作超时）", "expired": "（已到期）",
               "grant": f"（{row.grant.inactive_reason(now) or '授权已失效'}）"}.get(row.close_reason, "")
        raise SessionRefused(f"阅读会话已于 {local_time(row.closed_at)} 结束{why}：{ASK_TO_OPEN}",
                             **refs)
    if now >= row.expires_at:
        _end(db, row, "expired", now)
        raise SessionRefused(f"阅读会话已于 {local_time(row.expires_at)} 到期：{ASK_TO_OPEN}", **refs)
    if now >= row.last_used_at + _idle():
        _end(db, row, "idle", now)
        raise SessionRefused(f"阅读会话已因 {current_app.config['READING_IDLE_MINUTES']} 分钟无操作"
                             f"而结束：{ASK_TO_OPEN}", **refs)
    try:
        grant = resolve_grant(db, user, row.grant_id, now=now)
    except GrantDenied as exc:
        _end(db, row, "grant", now)
        raise SessionRefused(f"{exc.reason}，阅读会话已结束：{ASK_TO_OPEN}", **refs) from None
    if now - row.last_used_at >= _TOUCH_EVERY:
        row.last_used_at = now
        db.commit()
    g.reading_session = row.id  # the choke point names it in every audit record of this request
    return Live(row.id, grant.id, grant.ref, _purpose(row), ends_at(row), row)


def close_session(db: Session, *, user: User, sid: str, actor: Actor) -> ReadingSession | None:
    """Close the user's session (None if it is not theirs); its cached pages are dropped."""
    row = db.get(ReadingSession, sid) if SID.fullmatch(sid or "") else None
    if row is None or row.user_id != user.id:
        return None
    if row.closed_at is None:
        row.closed_at, row.close_reason = utcnow(), "closed"
        record_event(actor, Event(action=Action.READING_CLOSE, outcome="allowed",
                                  grant_id=row.grant_id, approval_ref=row.grant.ref,
                                  filters={"reading_session": row.id}), session=db)
        db.commit()
    cache.drop(row.id)
    return row


def open_sessions(db: Session, user: User, now: datetime | None = None) -> list[ReadingSession]:
    """The user's sessions that have not ended (for the 继续 list on the search page)."""
    now = now or utcnow()
    rows = db.execute(select(ReadingSession).where(
        ReadingSession.user_id == user.id, ReadingSession.closed_at.is_(None),
        ReadingSession.expires_at > now).order_by(ReadingSession.opened_at.desc())).scalars()
    return [r for r in rows if ends_at(r) > now and r.grant.inactive_reason(now) is None]


def count_read(db: Session, row: ReadingSession) -> None:
    """One more new (audited) read in the session, shown to its owner."""
    row.reads = (row.reads or 0) + 1
    db.commit()
