"""What a search returns per hit, cut to the result whitelist, and the grouped (by file) read.

Both levels run through the choke point's ScopedIndex (the permission filter on the file-level
documents and on the pages), inside one guarded read: one audit record names the pages shown.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search_app.search._choke import Found, ScopedIndex
from search_app.search._parse import Query
from search_app.search._query import (FILE_FIELDS, RESULT_FIELDS, build_file_pages_query,
                                      build_file_query, build_query, build_slip_query, has_slip,
                                      relaxed)


@dataclass
class SearchHit:
    doc_id: str
    fields: dict[str, Any]
    snippets: list[str]  # HTML-escaped by OpenSearch, with <mark> around matches
    score: float | None
    slip: bool = False  # matched only with one character misread (the second pass)


@dataclass
class FileHit:
    """One file (档号) of a grouped search: its best pages (each with snippets) underneath."""

    archive_no: str
    fields: dict[str, Any]
    pages: list[SearchHit]
    matched_pages: int  # pages of the file the grant covers that match some word
    score: float | None = None
    doc_ids: list[str] = field(default_factory=list)


def redact_hit(hit: dict[str, Any]) -> SearchHit:
    """The index holds masked text already; fields outside the result whitelist are dropped
    here too, so a mapping change cannot widen what a hit shows."""
    source = {k: v for k, v in hit.get("_source", {}).items() if k in RESULT_FIELDS}
    hl = hit.get("highlight", {})
    exact = hl.get("text.uni", [])
    marked = [s for s in exact if "<mark>" in s]
    snippets = [s.replace("</mark><mark>", "") for s in (marked or exact)]
    return SearchHit(doc_id=hit["_id"], fields=source, snippets=snippets, score=hit.get("_score"),
                     slip=bool(hit.get(SLIP_MARK)))


def facets_of(resp: dict[str, Any]) -> dict[str, list[tuple[Any, int]]]:
    return {name: [(b["key"], b["doc_count"]) for b in agg["buckets"]]
            for name, agg in resp.get("aggregations", {}).items() if "buckets" in agg}


def grouped_run(q: Query, *, offset: int, size: int, sort: str, per_file: int):
    """The `run` of a grouped search: files first (file-level documents), then their pages.
    A file whose covered pages no longer hold every word is dropped (never shown from the file
    document alone); Found.payload is (files, facets, total files)."""
    def run(grant, index: ScopedIndex) -> Found:
        resp = index.search_files(build_file_query(q, offset=offset, size=size, sort=sort))
        total = int(resp.get("aggregations", {}).get("files", {}).get("value", 0))
        file_hits = resp["hits"]["hits"]
        files: list[FileHit] = []
        if file_hits:
            nos = [h["_source"]["archive_no"] for h in file_hits]
            pages = index.search(build_file_pages_query(q, nos, per_file=per_file))
            best = {h["fields"]["archive_no"][0]: h for h in pages["hits"]["hits"]}
            counts = {b["key"]: b for b in pages["aggregations"]["per_file"]["buckets"]}
            for h in file_hits:
                no = h["_source"]["archive_no"]
                bucket = counts.get(no)
                if no not in best or bucket is None or any(
                        v["doc_count"] == 0 for k, v in bucket.items()
                        if isinstance(v, dict) and k.startswith("g")):
                    total -= 1  # its covered pages do not hold every word: not a match
                    continue
                inner = [redact_hit(p) for p in best[no]["inner_hits"]["best"]["hits"]["hits"]]
                files.append(FileHit(
                    archive_no=no, score=h.get("_score"), pages=inner,
                    fields={k: v for k, v in h["_source"].items() if k in FILE_FIELDS},
                    matched_pages=bucket["doc_count"], doc_ids=[p.doc_id for p in inner]))
        shown = [d for f in files for d in f.doc_ids]
        found = Found((files, facets_of(resp), max(total, len(files))), shown, max(total, len(files)))
        found.extra = {"group": "file", "files": [f.archive_no for f in files]}
        return found
    return run


SLIP_MARK = "_slip"  # set on a raw hit of the second pass (never an engine field: leading _)


def flat_run(parsed: Query, offset: int, size: int, sort: str, *, slip_below: int = 0):
    """The `run` of a page-by-page search, in two passes when the query has OCR-slip clauses.

    The list a reader pages through is every exact match (in `sort` order), then every page
    matched only with one character misread (in `sort` order): the first pass is the exact
    query; the second (build_slip_query) runs only if the exact matches end before this page
    does, or number fewer than `slip_below`. With a bounded exact count (relation "gte", at
    least TOTAL_HITS_CAP) it never runs: no page a reader can reach lies beyond the exact
    matches. Because the exact count decides where the slip-only list starts, page N+1 starts
    where page N ended whichever pass filled it. `total` counts both lists when the second pass
    ran and the exact matches only when it did not (Found.extra "slip_pass" says which, and the
    facets count what `total` counts)."""
    two = has_slip(parsed)

    def run(grant, index: ScopedIndex) -> Found:
        resp = index.search(build_query(parsed, offset=offset, size=size, sort=sort, slip=not two))
        hits, count = list(resp["hits"]["hits"]), resp["hits"]["total"]
        exact, at_least = count["value"], count.get("relation") == "gte"
        ran = two and not at_least and exact < max(offset + size, slip_below)
        total, aggs = exact, resp.get("aggregations", {})
        if ran:
            start = max(0, offset - exact)
            near = index.search(build_slip_query(parsed, offset=start, size=size - len(hits),
                                                 sort=sort))
            hits += [{**h, SLIP_MARK: True} for h in near["hits"]["hits"]]
            total += near["hits"]["total"]["value"]
            at_least = near["hits"]["total"].get("relation") == "gte"
            aggs = near.get("aggregations", {})
        payload = {"hits": {"hits": hits, "total": {"value": total,
                                                    "relation": "gte" if at_least else "eq"}},
                   "aggregations": aggs}
        found = Found(payload, [h["_id"] for h in hits], total)
        found.extra = {"slip_pass": ran, **({"exact_total": exact} if ran else {}),
                       **({"total_at_least": True} if at_least else {})}  # >= TOTAL_HITS_CAP
        return found
    return run


def or_relaxed(parsed: Query, make):
    """Run the query; if it found nothing and has long quoted phrases, run it again with one
    OCR slip allowed in them (within the same read: one audit record, which says so)."""
    exact, loose = make(parsed), relaxed(parsed)

    def run(grant, index: ScopedIndex) -> Found:
        found = exact(grant, index)
        if found.total == 0 and loose is not None:
            near = make(loose)(grant, index)
            if near.total:
                found, near.extra = near, {**near.extra, "relaxed": True}
        return found
    return run
