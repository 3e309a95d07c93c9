"""到期鉴定: which files' retention period (保管期限) has ended.

The period runs from 1 January of the year after the file's 年度 (DA/T 13 / the 鉴定 rules count
from the year after formation): D10 of 2010 is due on 2021-01-01, D30 of 2010 on 2041-01-01,
Y (永久) never. `retention_of` is the one place that says where a file's code and year come from:
today the manifest row (a `retention` field when the manifest has one) or the 保管期限 part of a
DA/T 13 档号 (…-2010-D10-0001, J001-WS·2010-D30-0002); the catalogue (branch catalogue, 0011)
will answer from its tables instead, by re-pointing this function.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from indexer.pipeline import redact_title
from indexer.types import ArchiveMeta
from search_app.ingest.models import IngestFile
from search_app.ingest.service import last_complete_file, trusted_file_meta

PERIODS = {"Y": None, "D30": 30, "D10": 10}
LABELS = {"Y": "永久", "D30": "定期30年", "D10": "定期10年"}
_CODE = re.compile(r"(?:^|[-·.\s])(Y|D30|D10)(?=[-·.\s]|$)")


@dataclass(frozen=True)
class Retention:
    code: str
    year: int

    @property
    def due(self) -> date | None:
        years = PERIODS[self.code]
        return None if years is None else date(self.year + years + 1, 1, 1)

    @property
    def label(self) -> str:
        return LABELS[self.code]


@dataclass(frozen=True)
class DueFile:
    archive_no: str
    title: str  # masked as the index shows it: the list and the register hold no PII
    page_count: int
    retention: Retention


def retention_of(archive_no: str, meta: dict) -> Retention | None:
    """The file's 保管期限 code and 年度, or None when neither the manifest nor the 档号 says."""
    code = str(meta.get("retention") or "").strip().upper()
    if code not in PERIODS:
        found = _CODE.search(archive_no.upper())
        code = found.group(1) if found else ""
    try:
        year = int(meta.get("year") or 0)
    except (TypeError, ValueError):
        year = 0
    return Retention(code, year) if code and year else None


def describe(session: Session, archive_no: str) -> DueFile | None:
    """The file as the appraisal list and the destruction register show it (None: not ingested)."""
    f = last_complete_file(session, archive_no)
    if f is None or not f.meta_ciphertext:
        return None
    raw = trusted_file_meta(f, "appraisal")
    if raw is None:  # says nothing trustworthy about retention: never guessed into a destruction
        return None
    ret = retention_of(archive_no, raw)
    if ret is None:
        return None
    meta = ArchiveMeta(**{k: raw[k] for k in ArchiveMeta.__dataclass_fields__ if k in raw})
    return DueFile(archive_no, redact_title(meta), f.pages_total, ret)


def due_files(session: Session, today: date, *, exclude: set[str] | frozenset[str] = frozenset()
              ) -> list[DueFile]:
    """Files whose retention ended on or before `today`, oldest due first."""
    names = session.execute(select(IngestFile.archive_no).where(
        IngestFile.archive_no != "", IngestFile.sha256 != "").distinct()).scalars().all()
    out = []
    for archive_no in sorted(set(names) - set(exclude)):
        item = describe(session, archive_no)
        if item is not None and item.retention.due is not None and item.retention.due <= today:
            out.append(item)
    return sorted(out, key=lambda d: (d.retention.due, d.archive_no))
