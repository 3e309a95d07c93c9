"""The reading session row: who reads, under which grant, for what typed purpose, until when."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from search_app.accounts.models import User
from search_app.db import Base
from search_app.grants.models import Grant


class ReadingSession(Base):
    """`id` is a random token (the only thing a URL carries); the purpose is stored AES-GCM
    encrypted, bound to the session id, because it is free text a reader may put a name into.
    Rows are kept after closing, so the audit trail's session ids stay resolvable."""

    __tablename__ = "reading_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id"), index=True)
    purpose_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    opened_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime] = mapped_column(DateTime)
    # the hard end: the grant's expiry at opening, or READING_MAX_HOURS after it, earlier wins
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    close_reason: Mapped[str] = mapped_column(String(32), default="")
    reads: Mapped[int] = mapped_column(Integer, default=0)  # new (audited) reads in it

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    grant: Mapped[Grant] = relationship(foreign_keys=[grant_id])
