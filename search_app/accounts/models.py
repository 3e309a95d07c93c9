from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from search_app.db import Base
from search_app.masked_text import MaskedString, MaskedText
from search_app.timeutil import utcnow


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(255))
    # One role, or several joined by commas ("staff,approver"); permissions.role_conflict decides
    # which combinations separation of duties allows.
    role: Mapped[str] = mapped_column(String(64))
    unit: Mapped[str] = mapped_column(String(128), default="")
    # HMAC of the user's own ID number (blind index), never the number: drives self-exclusion.
    id_number_hmac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Blind-index term of (folded name, birth date from the ID number), taken when the ID number
    # is registered: files naming the user without their ID number (or under another one with
    # the same birth date) are excluded too. Neither the name-date pair nor the date is stored.
    person_hmac: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # Blind-index hashes of relatives' ID numbers (配偶、父母、子女…): their files are excluded too.
    relative_hmacs: Mapped[list] = mapped_column(JSON, default=list)
    # sha256 of an API bearer token; the token itself is shown once at creation.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    # A token expires after API_TOKEN_DAYS and only works under the session epoch it was issued
    # in: "logout everywhere", a role change, a reset or disabling the account end it too.
    api_token_expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    api_token_epoch: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # Legacy lockout columns (before 0006); login throttling now lives in LoginThrottle.
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Bumped by "logout everywhere", a password reset or disabling the account: every session
    # cookie carries the epoch it was issued under and stops working once it differs.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Who proposed this account and who proposed its last password reset (a security admin's
    # user name, or "cli:<os user>"): an approval by an account with the same creator or
    # resetter as the requester's is refused (accounts.dual_control, the puppet rule).
    created_by: Mapped[str | None] = mapped_column(String(96), nullable=True)
    last_reset_by: Mapped[str | None] = mapped_column(String(96), nullable=True)

    @property
    def principals(self) -> set[str]:
        """The security admins (or CLI operators) who made this account or last set its password."""
        return {p for p in (self.created_by, self.last_reset_by) if p}

    @property
    def is_active(self) -> bool:  # flask-login: disabled accounts cannot log in
        return self.is_enabled


class PendingAccountChange(Base):
    """A change to an account that could bring about a read (creating, re-roling, re-enabling or
    resetting the password of a staff, approver or security admin account): it takes effect only
    when a second security admin confirms it (accounts.dual_control). Rows are kept after the
    decision, so the queue's history stays visible."""

    __tablename__ = "pending_account_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # create | role | enable | reset_password
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    user: Mapped[User] = relationship(User)
    # e.g. {"role": "staff,approver"}, {"password_hash": "<argon2id>"} (never a password)
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    summary: Mapped[str] = mapped_column(String(255), default="")
    proposed_by: Mapped[str] = mapped_column(String(96))
    proposed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(96), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decision_reason: Mapped[str] = mapped_column(MaskedString(255), default="")


class UserSession(Base):
    """One signed-in browser. The cookie carries a random session id; only its sha256 is kept
    here, and a session whose row is ended (logout, logout everywhere, reset) is refused even
    if its cookie was copied beforehand."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sid_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    client_addr: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    end_reason: Mapped[str] = mapped_column(String(32), default="")


class LoginThrottle(Base):
    """Failed-login counters keyed by the *typed* user name, the client address, or both.

    Keyed by the typed name rather than the account, so an unknown name is throttled exactly
    like a real one and the answers do not tell which names exist. `next_at` is when the next
    attempt will be checked (None: no delay yet)."""

    __tablename__ = "login_throttles"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)  # scope:sha256
    scope: Mapped[str] = mapped_column(String(16))  # account | address | pair
    # The account's name when the typed name is one, else "": a typed ID number or phone is
    # kept only inside `key` (its keyed hash, search_app.accounts.throttle.name_hmac).
    username: Mapped[str] = mapped_column(String(64), default="")
    client_addr: Mapped[str] = mapped_column(String(64), default="")
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
