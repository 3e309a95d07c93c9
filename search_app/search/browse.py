"""Browsing the archive by its hierarchy, 全宗 → 门类 → 年度 → 件 → 页 (DA/T 13-2022's 档号
order), under the reader's grant. Each level is one aggregation run through the choke point
(`guarded_read`), so it counts only what the grant covers, and is audited like a search."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.search._choke import Found, ReadDenied, ScopedIndex, guarded_read

NO_FONDS = "-"  # files catalogued before a 全宗 was named (free-form 档号)
LEVELS = ("fonds_no", "category", "year", "archive_no", "page_no")
LEVEL_LABELS = {"fonds_no": "全宗", "category": "门类", "year": "年度", "archive_no": "件",
                "page_no": "页"}
MAX_BUCKETS = 500
MAX_PAGES = 2000


@dataclass(frozen=True)
class BrowsePath:
    fonds_no: str | None = None
    category: str | None = None
    year: int | None = None
    archive_no: str | None = None

    @property
    def level(self) -> str:
        """The level listed next: the first part of the path not yet chosen."""
        for name in LEVELS[:4]:
            if getattr(self, name) is None:
                return name
        return "page_no"

    def chosen(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in LEVELS[:4] if getattr(self, k) is not None}


@dataclass
class BrowseOutcome:
    path: BrowsePath
    level: str
    entries: list[dict[str, Any]] = field(default_factory=list)  # {key, files?, pages?, title?…}
    approval_ref: str = ""
    audit_seq: int = 0


def _narrowing(path: BrowsePath) -> list[dict[str, Any]]:
    clauses: list[dict[str, Any]] = []
    for name, value in path.chosen().items():
        if name == "fonds_no" and value == NO_FONDS:
            clauses.append({"bool": {"should": [
                {"bool": {"must_not": [{"exists": {"field": "fonds_no"}}]}},
                {"term": {"fonds_no": ""}}], "minimum_should_match": 1}})
        else:
            clauses.append({"term": {name: value}})
    return clauses


def _body(path: BrowsePath) -> dict[str, Any]:
    query = {"bool": {"filter": _narrowing(path)}}
    level = path.level
    if level == "page_no":
        return {"query": query, "size": MAX_PAGES, "sort": [{"page_no": "asc"}],
                "_source": ["doc_id", "page_no", "title"], "track_total_hits": True}
    terms: dict[str, Any] = {"field": level, "size": MAX_BUCKETS, "order": {"_key": "asc"}}
    if level == "fonds_no":
        terms["missing"] = NO_FONDS
    aggs: dict[str, Any] = {"files": {"cardinality": {"field": "archive_no"}}}
    if level == "archive_no":
        aggs["first"] = {"top_hits": {"size": 1, "sort": [{"page_no": "asc"}],
                                      "_source": ["title", "page_count", "item_no",
                                                  "retention", "corrects"]}}
    return {"query": query, "size": 0, "track_total_hits": True,
            "aggs": {"level": {"terms": terms, "aggs": aggs}}}


def _entries(path: BrowsePath, res: dict[str, Any]) -> list[dict[str, Any]]:
    level = path.level
    if level == "page_no":
        return [{"key": h["_source"]["page_no"], "doc_id": h["_source"]["doc_id"]}
                for h in res["hits"]["hits"]]
    out: list[dict[str, Any]] = []
    for b in res["aggregations"]["level"]["buckets"]:
        entry = {"key": b.get("key_as_string", b["key"]) if level != "year" else int(b["key"]),
                 "pages": b["doc_count"], "files": b["files"]["value"]}
        if level == "fonds_no" and entry["key"] in ("", NO_FONDS):
            entry["key"] = NO_FONDS
            prev = next((e for e in out if e["key"] == NO_FONDS), None)
            if prev is not None:  # "" and missing: one entry
                prev["pages"] += entry["pages"]
                prev["files"] += entry["files"]
                continue
        if level == "archive_no":
            first = b["first"]["hits"]["hits"][0]["_source"]
            entry.update(title=first.get("title", ""), page_count=first.get("page_count"),
                         retention=first.get("retention", ""), corrects=first.get("corrects", ""))
        out.append(entry)
    return out


def browse(*, user: User, grant_id: int | None, purpose: str, path: BrowsePath,
           client_addr: str = "") -> BrowseOutcome:
    """One level of the hierarchy under `path`, counted and listed only within the grant (the
    choke point adds the permission filter to the query and to its aggregations)."""
    def run(_grant, index: ScopedIndex) -> Found:
        res = index.search(_body(path))
        entries = _entries(path, res)
        if path.level == "page_no" and not entries:  # a 档号 outside the grant reads as absent
            raise ReadDenied(f"档号 {path.archive_no} 不存在或不在本授权范围内")
        ids = [e["doc_id"] for e in entries] if path.level == "page_no" else []
        return Found(payload=entries, returned_ids=ids, total=len(entries),
                     extra={"browse_level": path.level, "browse_path": path.chosen()})

    grant, found, rec = guarded_read(
        user=user, grant_id=grant_id, purpose=purpose, action=Action.BROWSE,
        client_addr=client_addr, query=" / ".join(str(v) for v in path.chosen().values()), run=run)
    return BrowseOutcome(path=path, level=path.level, entries=found.payload,
                         approval_ref=grant.ref, audit_seq=rec.seq)
