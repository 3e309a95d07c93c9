from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from search_app.accounts.models import User
from search_app.db import Base
from search_app.timeutil import utcnow


class Grant(Base):
    """A time-limited query scope approved by someone other than its holder."""

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    approval_ref: Mapped[str] = mapped_column(String(32), unique=True)
    purpose: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSON)
    units: Mapped[list[str]] = mapped_column(JSON)
    classification_ceiling: Mapped[int] = mapped_column(Integer)
    archive_nos: Mapped[list[str]] = mapped_column(JSON, default=list)
    unmask_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    valid_from: Mapped[datetime] = mapped_column(DateTime)
    valid_until: Mapped[datetime] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | revoked
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    approved_by: Mapped[User] = relationship(foreign_keys=[approved_by_id])

    def inactive_reason(self, now: datetime) -> str | None:
        """Why this grant cannot be used at `now`, or None if it can (checked on every read)."""
        if self.status == "revoked":
            return f"授权 {self.approval_ref} 已被撤销"
        if now < self.valid_from:
            return f"授权 {self.approval_ref} 尚未生效（{self.valid_from:%Y-%m-%d %H:%M} UTC 起）"
        if now >= self.valid_until:
            return f"授权 {self.approval_ref} 已于 {self.valid_until:%Y-%m-%d %H:%M} UTC 过期"
        return None
