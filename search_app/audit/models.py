from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from search_app.db import Base


class AuditRecord(Base):
    """One accountable event. Rows are only ever inserted; `hash` chains each to its predecessor."""

    __tablename__ = "audit_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    ts: Mapped[datetime] = mapped_column(DateTime, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    role: Mapped[str] = mapped_column(String(32), default="")
    action: Mapped[str] = mapped_column(String(48), index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # allowed | denied | error
    reason: Mapped[str] = mapped_column(Text, default="")
    purpose: Mapped[str] = mapped_column(Text, default="")
    approval_ref: Mapped[str] = mapped_column(String(32), default="")
    grant_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    query: Mapped[str] = mapped_column(Text, default="")
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    result_count: Mapped[int | None] = mapped_column(Integer, nullable=True)
    returned_ids: Mapped[list] = mapped_column(JSON, default=list)
    client_addr: Mapped[str] = mapped_column(String(64), default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's head (last seq and hash), updated in the same transaction as each record.

    Updating it first serialises writers (a row lock in PostgreSQL, the write lock in SQLite), and
    comparing it with the last row detects truncation of the tail. `mac` (keyed with the chain
    key, over seq and hash) stops a database writer from pointing the head at an earlier record
    after deleting the tail; replaying a head row saved earlier is caught by the checkpoints
    kept outside the database (audit.checkpoints).
    """

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))
    # NULL only before the first record written under migration 0006.
    mac: Mapped[str | None] = mapped_column(String(64), nullable=True)
