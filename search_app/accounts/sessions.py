"""Server-side sessions: a signed cookie alone is not a session.

The cookie carries a random session id; the server keeps its sha256 in `user_sessions`.
Logging out ends the row, so a cookie copied before `POST /logout` is refused afterwards;
"logout everywhere", a password reset, a role change or disabling the account end every row
of the user (and bump the session epoch, which the cookie is checked against as well).
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from search_app.accounts.models import User, UserSession
from search_app.timeutil import utcnow

# last_seen_at is written at most this often: one UPDATE per request would serialise SQLite.
_TOUCH_EVERY = timedelta(seconds=60)


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


def start_session(session: Session, user: User, client_addr: str) -> str:
    """A new session id for the cookie; only its digest is stored."""
    sid = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(UserSession(sid_hash=_digest(sid), user_id=user.id, client_addr=client_addr[:64],
                            created_at=now, last_seen_at=now))
    session.flush()
    return sid


def live_session(session: Session, user: User, sid: str | None, *, idle_minutes: int,
                 now: datetime | None = None) -> UserSession | None:
    """The row behind this cookie if it is the user's, not ended and not idle too long; an
    idle row is ended here, so a replay after the idle time is refused too."""
    if not sid:
        return None
    now = now or utcnow()
    row = session.execute(select(UserSession).where(UserSession.sid_hash == _digest(sid))
                          ).scalar_one_or_none()
    if row is None or row.user_id != user.id or row.ended_at is not None:
        return None
    if now - row.last_seen_at > timedelta(minutes=idle_minutes) + _TOUCH_EVERY:  # touch lag
        row.ended_at, row.end_reason = now, "idle"
        session.commit()
        return None
    if now - row.last_seen_at > _TOUCH_EVERY:
        row.last_seen_at = now
        session.commit()
    return row


def end_session(session: Session, sid: str | None, reason: str) -> bool:
    if not sid:
        return False
    return bool(session.execute(
        update(UserSession).where(UserSession.sid_hash == _digest(sid),
                                  UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)).rowcount)


def end_user_sessions(session: Session, user_id: int, reason: str) -> int:
    return session.execute(
        update(UserSession).where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=utcnow(), end_reason=reason)
        .execution_options(synchronize_session=False)).rowcount
