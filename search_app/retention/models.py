"""Destruction requests and the destruction register (销毁清册).

The register row is the permanent trace of a destroyed file: 档号, 题名 (as the index shows it,
masked), page count, who asked, who approved, when — never content. Requests keep their files
as a list of 档号; a request's state moves pending → approved (two approvers) → executed, or
denied; nothing is deleted."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from search_app.db import Base
from search_app.masked_text import MaskedText
from search_app.timeutil import utcnow

STATUS_LABELS = {"pending": "待审批", "pending_second": "待第二人审批", "approved": "已批准，待执行",
                 "denied": "已驳回", "executed": "已销毁", "failed": "执行未完成"}


class DestructionRequest(Base):
    __tablename__ = "destruction_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_by_id: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(64))
    reasons: Mapped[str] = mapped_column(MaskedText)
    archive_nos: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    first_approver: Mapped[str] = mapped_column(String(64), default="")
    first_approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    second_approver: Mapped[str] = mapped_column(String(64), default="")
    second_approved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    decision_reason: Mapped[str] = mapped_column(MaskedText, default="")
    executed_by: Mapped[str] = mapped_column(String(64), default="")
    executed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    error: Mapped[str] = mapped_column(MaskedText, default="")

    @property
    def label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)


class DestroyedFile(Base):
    __tablename__ = "destruction_register"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    archive_no: Mapped[str] = mapped_column(String(128), unique=True)
    title: Mapped[str] = mapped_column(MaskedText, default="")
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    retention: Mapped[str] = mapped_column(String(16), default="")
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    request_id: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(64))
    approvers: Mapped[list] = mapped_column(JSON, default=list)
    reasons: Mapped[str] = mapped_column(MaskedText, default="")
    executed_by: Mapped[str] = mapped_column(String(64))
    destroyed_at: Mapped[datetime] = mapped_column(DateTime)
