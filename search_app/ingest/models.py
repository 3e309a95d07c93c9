from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, DateTime, Float, ForeignKey, Integer, LargeBinary, String, Text,
                        UniqueConstraint)
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
    # queued|running|done|failed, or held: committed, its task not sent yet (ingest.held)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    error: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64), default="")
    pages_total: Mapped[int] = mapped_column(Integer, default=0)
    pages_done: Mapped[int] = mapped_column(Integer, default=0)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    # 0002: when the file phase began (seconds = finish - started_at across all page tasks), and
    # a note for outcomes that are not errors, e.g. "内容未变，跳过" for an idempotent re-ingest.
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    job: Mapped[IngestJob] = relationship(back_populates="files")
    pages: Mapped[list[IngestPage]] = relationship(back_populates="file",
                                                   order_by="IngestPage.page_no")


class IngestPage(Base):
    """One page of an ingest file: the unit of work of a Celery page task.

    Progress is counted from these rows (never a shared counter), and a row left 'running' by a
    killed worker is claimed again by the redelivered task.
    """

    __tablename__ = "ingest_pages"
    __table_args__ = (UniqueConstraint("file_id", "page_no", name="uq_ingest_pages_file_page"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("ingest_files.id"), index=True)
    page_no: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="queued")  # queued|running|done|failed
    error: Mapped[str] = mapped_column(Text, default="")
    ocr_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    text_source: Mapped[str] = mapped_column(String(16), default="")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    file: Mapped[IngestFile] = relationship(back_populates="pages")


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
    text_source: Mapped[str] = mapped_column(String(16), default="")  # 0002: ocr|text_layer
    # The page image with PII burned out (black boxes), encrypted in the blob store under the
    # sha256 of its PNG (0005). Only this redacted image is ever served; watermarked per view.
    image_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)


class PageVersion(Base):
    """A replaced PageSecret, kept when a page is re-OCRed or its file re-ingested with new content.

    The ciphertext is copied as is: it stays bound (AES-GCM associated data) to `doc_id`, so it
    decrypts exactly like the current version and cannot be swapped onto another page.
    """

    __tablename__ = "page_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(300), index=True)
    archive_no: Mapped[str] = mapped_column(String(128), index=True)
    page_no: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(32))
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    ocr_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    text_source: Mapped[str] = mapped_column(String(16), default="")
    pii_kinds: Mapped[list] = mapped_column(JSON, default=list)
    source_sha256: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(DateTime)  # when this version was made current
    replaced_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    replaced_by: Mapped[str] = mapped_column(String(16))  # reocr|reingest|removed
