from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from search_app.db import Base
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
    # Blind-index hashes of relatives' ID numbers (配偶、父母、子女…): their files are excluded too.
    relative_hmacs: Mapped[list] = mapped_column(JSON, default=list)
    # sha256 of an API bearer token; the token itself is shown once at creation.
    api_token_hash: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Bumped by "logout everywhere", a password reset or disabling the account: every session
    # cookie carries the epoch it was issued under and stops working once it differs.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    @property
    def is_active(self) -> bool:  # flask-login: disabled accounts cannot log in
        return self.is_enabled
