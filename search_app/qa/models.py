"""What the digitisation checks found, per file and per page, and the QA reviewers' scopes.

Rows are keyed by ingest file and page (and carry the 档号): a file's destruction removes them
with its pages. Text versions are not kept here: a QA correction replaces the PageSecret and the
replaced text goes to ingest.models.PageVersion (keyed by 档号 and page), like a re-OCR.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, DateTime, Float, ForeignKey, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from search_app.db import Base
from search_app.masked_text import MaskedText
from search_app.timeutil import utcnow

# A page's review state; "pending" until a QA reviewer decides.
STATUSES = {"pending": "待质检", "accepted": "合格", "corrected": "已更正", "rescan": "退回重扫"}


class QaFile(Base):
    """The page-count check of one ingest file: manifest 页数 against the scan's pages."""

    __tablename__ = "qa_files"

    file_id: Mapped[int] = mapped_column(ForeignKey("ingest_files.id"), primary_key=True)
    job_id: Mapped[int] = mapped_column(Integer, index=True)
    archive_no: Mapped[str] = mapped_column(String(128), index=True)
    declared_pages: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pages_total: Mapped[int] = mapped_column(Integer, default=0)
    mismatch: Mapped[str] = mapped_column(MaskedText, default="")  # the reason, "" when the count agrees
    checked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class QaPage(Base):
    """The checks of one ingested page and its QA review."""

    __tablename__ = "qa_pages"
    __table_args__ = (UniqueConstraint("file_id", "page_no", name="uq_qa_pages_file_page"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("ingest_files.id"), index=True)
    job_id: Mapped[int] = mapped_column(Integer, index=True)
    archive_no: Mapped[str] = mapped_column(String(128), index=True)
    page_no: Mapped[int] = mapped_column(Integer)
    doc_id: Mapped[str] = mapped_column(String(300), index=True)
    text_source: Mapped[str] = mapped_column(String(16), default="")
    ocr_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    dpi: Mapped[float | None] = mapped_column(Float, nullable=True)
    low_dpi: Mapped[bool] = mapped_column(Boolean, default=False)
    blank: Mapped[bool] = mapped_column(Boolean, default=False)
    ink_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    rotation: Mapped[int] = mapped_column(Integer, default=0)
    osd_ran: Mapped[bool] = mapped_column(Boolean, default=False)
    osd_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    skew: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    text_version: Mapped[int] = mapped_column(Integer, default=1)  # 1 = as ingested
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    rescan_reason: Mapped[str] = mapped_column(MaskedText, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class QaScope(Base):
    """Which batches (ingest jobs) one QA reviewer may review, up to which 密级, and which PII
    kinds (normally none) the review screen may show unmasked. Given and revoked by a security
    admin, both audited; checked on every read like a grant."""

    __tablename__ = "qa_scopes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    job_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    classification_ceiling: Mapped[int] = mapped_column(Integer, default=1)
    unmask_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    purpose: Mapped[str] = mapped_column(MaskedText)  # the task, e.g. "2026 年第 3 批户籍档案数字化验收"
    granted_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    @property
    def ref(self) -> str:
        return f"QA-{self.id}"

    def inactive_reason(self, now: datetime) -> str | None:
        if self.revoked_at is not None:
            return f"质检范围 {self.ref} 已被撤销"
        if now >= self.expires_at:
            return f"质检范围 {self.ref} 已过期"
        return None
