"""The single choke point for reads on behalf of a user (DESIGN.md security rule 2).

`search_pages` (a) resolves the caller's grant, checked now, (b) builds the permission filter
from it, (c) runs the query with that filter required, (d) commits the audit record — a failure
there fails the read — and (e) returns only fields the grant may see. Nothing else queries
OpenSearch for a user; views and the API call this.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from search_app.accounts.models import User
from search_app.audit.service import Actor, Event, record_event
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.grants.services import GrantDenied, resolve_grant
from search_app.permissions import Permission, has_permission
from search_app.search._backend import alias, client
from search_app.search._filter import ReaderIdentity, permission_filter
from search_app.search._query import MAX_QUERY_CHARS, RESULT_FIELDS, build_query, split_terms

__all__ = ["ReadDenied", "SearchUnavailable", "SearchHit", "SearchOutcome", "search_pages"]


class ReadDenied(PermissionError):
    def __init__(self, reason: str, approval_ref: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.approval_ref = approval_ref


class SearchUnavailable(RuntimeError):
    pass


@dataclass
class SearchHit:
    doc_id: str
    fields: dict[str, Any]
    snippets: list[str]  # HTML-escaped by OpenSearch, with <mark> around matches
    score: float | None


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


def _grant_filters(grant: Grant) -> dict[str, Any]:
    return {"categories": grant.categories, "units": grant.units,
            "classification_ceiling": grant.classification_ceiling,
            "archive_nos": grant.archive_nos}


def _check(user: User, grant_id: int | None, purpose: str, query: str) -> Grant:
    if not has_permission(user.role, Permission.ARCHIVE_SEARCH):
        raise ReadDenied("您的角色不能查询档案")
    if not purpose.strip():
        raise ReadDenied("必须填写本次查询事由")
    if not split_terms(query):
        raise ReadDenied("请输入查询内容")
    if len(query) > MAX_QUERY_CHARS:
        raise ReadDenied(f"查询内容过长（最多 {MAX_QUERY_CHARS} 字）")
    try:
        return resolve_grant(get_session(), user, grant_id)
    except GrantDenied as exc:  # an expired or revoked grant is still named in the audit record
        raise ReadDenied(exc.reason, exc.grant.approval_ref if exc.grant else "") from None


def search_pages(*, user: User, grant_id: int | None, purpose: str, query: str, page: int = 1,
                 page_size: int = 20, client_addr: str = "") -> SearchOutcome:
    actor = Actor(user.id, user.username, user.role, client_addr)
    base = dict(action="search", purpose=purpose.strip(), query=query, grant_id=grant_id)
    page = max(1, min(page, 10_000 // max(page_size, 1)))
    try:
        grant = _check(user, grant_id, purpose, query)
    except ReadDenied as exc:
        record_event(actor, Event(outcome="denied", reason=exc.reason,
                                  approval_ref=exc.approval_ref, **base))
        raise
    base["approval_ref"] = grant.approval_ref
    filters = {**_grant_filters(grant), "page": page}
    reader = ReaderIdentity(tuple(h for h in [user.id_number_hmac] if h))  # relatives: later
    body = build_query(query, permission_filter(grant, reader), offset=(page - 1) * page_size,
                       size=page_size)
    try:
        resp = client().search(index=alias(), body=body)
    except Exception as exc:
        record_event(actor, Event(outcome="error", reason=f"search engine: {exc}"[:500],
                                  filters=filters, **base))
        raise SearchUnavailable("检索服务暂时不可用，请稍后再试") from exc
    raw_hits = resp["hits"]["hits"]
    total = resp["hits"]["total"]["value"]
    rec = record_event(actor, Event(outcome="allowed", filters=filters, result_count=total,
                                    returned_ids=[h["_id"] for h in raw_hits], **base))
    hits = [_redact_hit(h, grant) for h in raw_hits]
    facets = {name: [(b["key"], b["doc_count"]) for b in agg["buckets"]]
              for name, agg in resp.get("aggregations", {}).items()}
    return SearchOutcome(query=query, total=total, page=page, page_size=page_size, hits=hits,
                         facets=facets, approval_ref=grant.approval_ref, grant_id=grant.id,
                         audit_seq=rec.seq, filters=filters)


def _redact_hit(hit: dict[str, Any], grant: Grant) -> SearchHit:
    """Field redaction for the grant: the index holds masked text already; fields outside the
    result whitelist are dropped here too, so a mapping change cannot widen what a hit shows."""
    source = {k: v for k, v in hit.get("_source", {}).items() if k in RESULT_FIELDS}
    hl = hit.get("highlight", {})
    exact, by_pairs = hl.get("text.uni", []), hl.get("text", [])
    marked = [s for s in exact if "<mark>" in s]
    snippets = [s.replace("</mark><mark>", "") for s in (marked or by_pairs or exact)]
    return SearchHit(doc_id=hit["_id"], fields=source, snippets=snippets, score=hit.get("_score"))
