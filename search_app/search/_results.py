"""Search and export: pages (or files) matching the query language, through the choke point."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.catalogue.services import lists as catalogue_lists
from search_app.search._choke import guarded_read
from search_app.search._hits import (FileHit, SearchHit, facets_of, flat_run, grouped_run,
                                     or_relaxed, redact_hit)
from search_app.search._parse import QuerySyntaxError, parse
from search_app.search._query import GROUPS, SORTS
from search_app.search._refine import chips, refinements

FILE_PAGES_SHOWN = 3  # best pages shown under each file of a grouped search


@dataclass
class SearchOutcome:
    query: str
    total: int
    page: int
    page_size: int
    hits: list[SearchHit]
    facets: dict[str, list[tuple[Any, int]]]
    approval_ref: str
    grant_id: int
    audit_seq: int
    filters: dict[str, Any] = field(default_factory=dict)
    group: str = "page"  # "file": `files` holds the files, each with its best pages
    files: list[FileHit] = field(default_factory=list)
    chips: list[dict[str, Any]] = field(default_factory=list)  # {label, without}: removable
    refine: dict[str, dict[str, str]] = field(default_factory=dict)  # facet -> value -> query
    relaxed: bool = False  # nothing matched the quoted phrases exactly: one-slip matches shown
    total_exact: bool = True  # False: `total` is a lower bound (TOTAL_HITS_CAP or more)
    # The second pass ran (_hits.flat_run): `total` and `facets` count the pages matched only
    # with one character misread too, listed after every exact match (hits with `slip`). When
    # False, they count the exact matches only (slip-only pages, if any, come after the last).
    slip_pass: bool = False


def _parsed(query: str, sort: str, group: str = "page"):
    """The query tree, or QuerySyntaxError (a 400 with the reason: bad input, not a refusal)."""
    if sort not in SORTS:
        raise QuerySyntaxError(f"排序方式必须是 {'、'.join(SORTS)} 之一")
    if group not in GROUPS:
        raise QuerySyntaxError(f"结果分组必须是 {'、'.join(GROUPS)} 之一（page 按页，file 按案卷）")
    return parse(query, catalogue_lists().vocabulary())


def search_pages(*, user: User, grant_id: int | None, purpose: str, query: str, page: int = 1,
                 page_size: int | None = None, sort: str = "relevance", group: str = "page",
                 client_addr: str = "") -> SearchOutcome:
    """One page of hits for the query language of search_app.search._parse: pages, or with
    group="file" files (档号) matching every word across their pages, best pages underneath."""
    parsed = _parsed(query, sort, group)
    page_size = page_size or current_app.config["SEARCH_PAGE_SIZE"]
    page = max(1, min(page, 10_000 // max(page_size, 1)))
    offset = (page - 1) * page_size
    slip_below = current_app.config["SEARCH_SLIP_BELOW"]

    def make(q):
        return (grouped_run(q, offset=offset, size=page_size, sort=sort, per_file=FILE_PAGES_SHOWN)
                if group == "file" else flat_run(q, offset, page_size, sort, slip_below=slip_below))
    run = or_relaxed(parsed, make)
    filters = {"page": page, "sort": sort, **({"group": group} if group != "page" else {})}
    grant, found, rec = guarded_read(
        user=user, grant_id=grant_id, purpose=purpose, action=Action.SEARCH, client_addr=client_addr,
        query=query, filters=filters, run=run)
    common = dict(query=query, total=found.total, page=page, page_size=page_size,
                  approval_ref=grant.ref, grant_id=grant.id, audit_seq=rec.seq,
                  filters=rec.filters, group=group)
    if group == "file":
        files, facets, _ = found.payload
        hits: list[SearchHit] = []
    else:
        files, facets = [], facets_of(found.payload)
        hits = [redact_hit(h) for h in found.payload["hits"]["hits"]]
    vocab = catalogue_lists().vocabulary()
    return SearchOutcome(hits=hits, files=files, facets=facets, chips=chips(query, vocab),
                         refine=refinements(query, facets, vocab),
                         relaxed=bool(found.extra.get("relaxed")),
                         slip_pass=bool(found.extra.get("slip_pass")),
                         total_exact=not found.extra.get("total_at_least"), **common)


def export_results(*, user: User, grant_id: int | None, purpose: str, query: str,
                   sort: str = "relevance", client_addr: str = "") -> SearchOutcome:
    """Up to EXPORT_MAX_ROWS hits in one go; audited as an export with every id it returns."""
    parsed = _parsed(query, sort)
    size = current_app.config["EXPORT_MAX_ROWS"]
    grant, found, rec = guarded_read(
        user=user, grant_id=grant_id, purpose=purpose, action=Action.EXPORT, client_addr=client_addr,
        query=query, filters={"max_rows": size, "sort": sort},
        run=flat_run(parsed, 0, size, sort, slip_below=current_app.config["SEARCH_SLIP_BELOW"]))
    hits = [redact_hit(h) for h in found.payload["hits"]["hits"]]
    return SearchOutcome(query=query, total=found.total, page=1, page_size=size, hits=hits,
                         facets={}, approval_ref=grant.ref, grant_id=grant.id,
                         audit_seq=rec.seq, filters=rec.filters,
                         slip_pass=bool(found.extra.get("slip_pass")),
                         total_exact=not found.extra.get("total_at_least"))
