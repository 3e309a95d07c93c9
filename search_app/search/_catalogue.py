"""What exists in the archive, for naming a grant's scope: the units and the 档号 (with each
file's unit and 门类), never a page's text, title or subject.

A requester must name units and 档号 that exist (a free-text unit that matches nothing gave a
grant that reads nothing, and a typo went unnoticed until the first search), and an approver
decides on the same list. It is an aggregation over keyword fields only (size 0: no document
is returned), run as the web identity through the alias; the values are catalogue metadata,
the same for every user, so it carries no grant and writes no audit record. Cached briefly:
the form is opened far more often than files are ingested.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from flask import current_app
from opensearchpy import TransportError

from search_app.search._backend import alias, reader
from search_app.search._choke import SearchUnavailable

TTL_SECONDS = 30.0
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
    body = {"size": 0, "aggs": {
        "units": {"terms": {"field": "unit", "size": 1000, "order": {"_key": "asc"}}},
        "files": {"terms": {"field": "archive_no", "size": MAX_FILES, "order": {"_key": "asc"}},
                  "aggs": {"unit": {"terms": {"field": "unit", "size": 1}},
                           "category": {"terms": {"field": "category", "size": 1}}}}}}
    try:
        aggs = reader().search(index=alias(), body=body)["aggregations"]
    except TransportError as exc:
        raise SearchUnavailable("检索服务暂时不可用，无法读取档案目录，请稍后再试") from exc

    def first(bucket: dict, name: str) -> str:
        inner = bucket[name]["buckets"]
        return inner[0]["key"] if inner else ""

    return Catalogue(units=[b["key"] for b in aggs["units"]["buckets"]],
                     files=[FileEntry(b["key"], first(b, "unit"), first(b, "category"))
                            for b in aggs["files"]["buckets"]])


def catalogue(*, fresh: bool = False) -> Catalogue:
    cache = current_app.extensions.setdefault("catalogue_cache", {})
    hit = cache.get("value")
    if fresh or hit is None or time.monotonic() - hit[0] > TTL_SECONDS:
        hit = cache["value"] = (time.monotonic(), _query())
    return hit[1]
