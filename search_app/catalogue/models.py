"""Catalogue tables. Every vocabulary entry has an immutable code, a name the admin may change
(the names it had are kept in `former_names`, so pages indexed under an old name stay readable
by a grant under the new one) and an `enabled` flag: entries are disabled, never deleted, so
grants and audit records that name them keep their meaning."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Float, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from search_app.db import Base
from search_app.timeutil import utcnow


class _Entry:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    former_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Fonds(_Entry, Base):
    """全宗: `code` is the 全宗号 (DA/T 13-2022 §6.1)."""

    __tablename__ = "catalogue_fonds"


class Category(_Entry, Base):
    """门类 with its 门类代码 (the code part of a 档号)."""

    __tablename__ = "catalogue_categories"


class Unit(_Entry, Base):
    """立档单位 / 形成单位."""

    __tablename__ = "catalogue_units"


class Classification(_Entry, Base):
    """密级; `level` orders them (a grant's ceiling is compared numerically)."""

    __tablename__ = "catalogue_classifications"
    level: Mapped[int] = mapped_column(Integer, unique=True)


class Retention(_Entry, Base):
    """保管期限 (Y / D30 / D10); `years` None means permanent."""

    __tablename__ = "catalogue_retentions"
    years: Mapped[int | None] = mapped_column(Integer, nullable=True)


class PurposeCategory(_Entry, Base):
    """查阅目的类别 with its limits: the field kinds offered by default and allowed at most
    (None: any kind), and the longest duration (None: the GRANT_MAX_HOURS setting)."""

    __tablename__ = "catalogue_purposes"
    default_fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_fields: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    max_hours: Mapped[float | None] = mapped_column(Float, nullable=True)


class ArchiveNoRule(Base):
    """The 档号 pattern of one 全宗/门类 (fonds_code "" = every 全宗), e.g.
    `{全宗号}-{门类代码}·{年度}-{保管期限}-{件号}`. A 门类 with an enabled rule refuses a manifest
    row whose 档号 does not follow it."""

    __tablename__ = "catalogue_archive_no_rules"
    __table_args__ = (UniqueConstraint("fonds_code", "category_code", name="uq_archive_no_rule"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    fonds_code: Mapped[str] = mapped_column(String(32), default="")
    category_code: Mapped[str] = mapped_column(String(32))
    pattern: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ArchiveNoCorrection(Base):
    """A 档号 never changes once ingested: a correction ingests the file under a new 档号 and
    this row links the two (DA/T 13-2022 §5: 档号 unique and stable)."""

    __tablename__ = "catalogue_archive_no_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    new_no: Mapped[str] = mapped_column(String(128), unique=True)
    old_no: Mapped[str] = mapped_column(String(128), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


KINDS: dict[str, type] = {"fonds": Fonds, "category": Category, "unit": Unit,
                          "classification": Classification, "retention": Retention,
                          "purpose": PurposeCategory}
KIND_LABELS = {"fonds": "全宗", "category": "门类", "unit": "单位", "classification": "密级",
               "retention": "保管期限", "purpose": "查阅目的类别"}
