"""What exists in the archive, for naming a grant's scope: the units and the 档号 (with each
file's unit and 门类), never a page's text, title or subject.

A requester must name units and 档号 that exist (a free-text unit that matches nothing gave a
grant that reads nothing, and a typo went unnoticed until the first search), and an approver
decides on the same list. It is read from the ingest records in the database (each file's
encrypted manifest row, latest complete ingest per 档号), not from the index: nothing but the
choke point talks to OpenSearch on behalf of a user (DESIGN.md rule 2), and a request is made
before there is a grant to filter by. The values are catalogue metadata, the same for every
user. Cached until the ingest records change: the form is opened far more often than files are
ingested.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import func, or_, select

from search_app.db import get_session
from search_app.ingest.models import IngestFile

MAX_FILES = 10_000


@dataclass(frozen=True)
class FileEntry:
    archive_no: str
    unit: str
    category: str


@dataclass(frozen=True)
class Catalogue:
    units: list[str]
    files: list[FileEntry] = field(default_factory=list)

    @property
    def archive_nos(self) -> list[str]:
        return [f.archive_no for f in self.files]

    def file(self, archive_no: str) -> FileEntry | None:
        return next((f for f in self.files if f.archive_no == archive_no), None)


def _query() -> Catalogue:
    from search_app.ingest.service import trusted_file_meta  # ingest imports search at start-up

    rows = get_session().execute(
        select(IngestFile).where(IngestFile.archive_no != "", IngestFile.sha256 != "",
                                 or_(IngestFile.state == "done",
                                     (IngestFile.state == "failed") & (IngestFile.pages_done > 0)))
        .order_by(IngestFile.id)).scalars()
    latest = {f.archive_no: f for f in rows}  # the newest complete ingest of each 档号
    files = []
    for archive_no in sorted(latest)[:MAX_FILES]:
        meta = trusted_file_meta(latest[archive_no], "catalogue")
        if meta is None:  # names nothing a grant could be asked for
            continue
        files.append(FileEntry(archive_no, meta.get("unit", ""), meta.get("category", "")))
    return Catalogue(units=sorted({f.unit for f in files if f.unit}), files=files)


def _fingerprint() -> tuple:
    """One aggregate over the ingest records: it changes whenever a file is added or finishes, in
    whichever process (web, worker, CLI), so the cache is never stale and costs one query."""
    return tuple(get_session().execute(
        select(func.count(IngestFile.id), func.max(IngestFile.updated_at))).one())


def catalogue(*, fresh: bool = False) -> Catalogue:
    cache = current_app.extensions.setdefault("catalogue_cache", {})
    hit, mark = cache.get("value"), _fingerprint()
    if fresh or hit is None or hit[0] != mark:
        hit = cache["value"] = (mark, _query())
    return hit[1]
