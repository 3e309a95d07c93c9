"""The use-register entry (利用登记, CJJ/T 177 §8.0.4: a registered, traceable record of each use).

Why copied columns and not a view over grants and sessions: an entry must read the same after
the grant expires, the user changes unit or the file is destroyed, so who, unit, purpose,
approval and what was used are frozen into the row. It holds no page content: 档号 and page ids
only, and the purpose as the audit log keeps it (masked)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from search_app.db import Base
from search_app.masked_text import MaskedText
from search_app.timeutil import utcnow


class UseEntry(Base):
    __tablename__ = "use_register"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    username: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(128), default="")
    unit: Mapped[str] = mapped_column(String(128), default="")
    grant_id: Mapped[int] = mapped_column(Integer)
    approval_ref: Mapped[str] = mapped_column(String(32), default="")
    purpose_category: Mapped[str] = mapped_column(String(32), default="")
    purpose: Mapped[str] = mapped_column(MaskedText, default="")  # as masked in the audit log
    categories: Mapped[list] = mapped_column(JSON, default=list)  # the grant's 门类
    opened_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    final: Mapped[bool] = mapped_column(Boolean, default=False)  # the session has ended
    files: Mapped[list] = mapped_column(JSON, default=list)  # 档号 used
    pages_viewed: Mapped[list] = mapped_column(JSON, default=list)
    pages_exported: Mapped[list] = mapped_column(JSON, default=list)
    searches: Mapped[int] = mapped_column(Integer, default=0)
    copies: Mapped[int] = mapped_column(Integer, default=0)  # export files made (PDF, CSV)
    audit_seqs: Mapped[list] = mapped_column(JSON, default=list)  # the records it was built from
    outcome: Mapped[str] = mapped_column(MaskedText, default="")  # 利用效果
    outcome_by: Mapped[str] = mapped_column(String(64), default="")
    outcome_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
