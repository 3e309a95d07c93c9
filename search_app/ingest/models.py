from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from search_app.db import Base
from search_app.timeutil import utcnow


class IngestJob(Base):
    __tablename__ = "ingest_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_by: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    files: Mapped[list[IngestFile]] = relationship(back_populates="job", order_by="IngestFile.id")


class IngestFile(Base):
    """One input file of a job. Its manifest row holds the subject's name and ID number, so it is
    stored encrypted (`meta_ciphertext`, AES-GCM); only the 档号 is kept in clear for listings."""

    __tablename__ = "ingest_files"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("ingest_jobs.id"), index=True)
    path: Mapped[str] = mapped_column(Text)
    archive_no: Mapped[str] = mapped_column(String(128), default="")
    meta_ciphertext: Mapped[bytes] = mapped_column(LargeBinary, default=b"")
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    error: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    pages_total: Mapped[int] = mapped_column(Integer, default=0)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    job: Mapped[IngestJob] = relationship(back_populates="files")


class PageSecret(Base):
    """The unredacted page text, AES-GCM encrypted; never sent to the index (DESIGN rule 1)."""

    __tablename__ = "page_secrets"

    doc_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    archive_no: Mapped[str] = mapped_column(String(128), index=True)
    page_no: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    ocr_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    pii_kinds: Mapped[list] = mapped_column(JSON, default=list)
    source_sha256: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # A records manager checked a low-confidence OCR page (migration 0003; /ingest/review).
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
