"""Page view and unmask: one page in the grant's scope, masked, or with the kinds the grant
unmasks revealed from the vault's original text."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app

from indexer.redact import redact
from search_app.accounts.models import User
from search_app.audit.actions import Action
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.ingest.models import PageSecret
from search_app.ingest.secrets import decode_secret, page_meta
from search_app.search._choke import Found, ReadDenied, ScopedIndex, guarded_read
from search_app.search._query import RESULT_FIELDS


@dataclass
class PageView:
    doc_id: str
    fields: dict[str, Any]
    text: str  # redacted for the grant: masked except the kinds it unmasks (after an unmask)
    pii_kinds: list[str]
    unmaskable: list[str]  # kinds on this page the grant may reveal
    unmasked: list[str]
    approval_ref: str
    grant_id: int
    audit_seq: int
    # the pages of the same file (档号) the grant covers, in order: [{"doc_id", "page_no"}]
    file_pages: list[dict[str, Any]] = field(default_factory=list)


def _fetch_page(doc_id: str):
    """The page, only if the permission filter admits it: outside the scope it does not exist."""
    def run(grant: Grant, index: ScopedIndex) -> Found:
        body = {"size": 1, "_source": {"includes": [*RESULT_FIELDS, "text_display", "pii_kinds"]},
                "query": {"ids": {"values": [doc_id]}}}
        hits = index.search(body)["hits"]["hits"]
        if not hits:
            raise ReadDenied(f"页面 {doc_id} 不存在或不在授权范围内")
        return Found(hits[0]["_source"], [doc_id], 1)
    return run


def _page_view(grant: Grant, source: dict[str, Any], rec, text: str, unmasked: list[str]) -> PageView:
    kinds = list(source.get("pii_kinds", []))
    return PageView(doc_id=source["doc_id"], text=text, pii_kinds=kinds,
                    fields={k: v for k, v in source.items() if k in RESULT_FIELDS},
                    unmaskable=[k for k in kinds if k in grant.unmask_fields], unmasked=unmasked,
                    approval_ref=grant.ref, grant_id=grant.id, audit_seq=rec.seq)


def _file_pages(index: ScopedIndex, archive_no: str) -> list[dict[str, Any]]:
    """The pages of one file that the grant's filter admits (for thumbnails and previous/next)."""
    body = {"size": 1000, "_source": {"includes": ["doc_id", "page_no"]},
            "query": {"term": {"archive_no": archive_no}}, "sort": [{"page_no": "asc"}]}
    return [{"doc_id": h["_source"]["doc_id"], "page_no": h["_source"]["page_no"]}
            for h in index.search(body)["hits"]["hits"]]


def view_page(*, user: User, grant_id: int | None, purpose: str, doc_id: str,
              client_addr: str = "", with_file: bool = False) -> PageView:
    """One page, masked; `with_file` also lists the file's pages in the grant's scope (their
    ids only: reading one of them is a read of its own)."""
    fetch = _fetch_page(doc_id)

    def run(grant: Grant, index: ScopedIndex) -> Found:
        found = fetch(grant, index)
        if with_file:
            found.payload = {**found.payload,
                             "_file": _file_pages(index, found.payload.get("archive_no", ""))}
        return found

    grant, found, rec = guarded_read(user=user, grant_id=grant_id, purpose=purpose,
                                     action=Action.PAGE_VIEW, client_addr=client_addr, query=doc_id,
                                     run=run)
    view = _page_view(grant, found.payload, rec, found.payload.get("text_display", ""), [])
    view.file_pages = found.payload.get("_file", [])
    return view


def unmask_page(*, user: User, grant_id: int | None, purpose: str, doc_id: str,
                client_addr: str = "") -> PageView:
    """The page's original text with only the kinds the grant unmasks revealed; the rest stays
    masked as in the index (and anything today's detectors find that the stored spans miss,
    e.g. names and addresses on pages stored before spans were kept). The record names the
    kinds revealed."""
    def allowed(grant: Grant) -> str | None:
        return None if grant.unmask_fields else f"授权 {grant.ref} 未批准显示任何敏感字段"

    fetch = _fetch_page(doc_id)

    def run(grant: Grant, index: ScopedIndex) -> Found:
        found = fetch(grant, index)
        secret = get_session().get(PageSecret, doc_id)
        if secret is None:
            raise ReadDenied(f"页面 {doc_id} 没有存档原文")
        plain = vault_from_config(current_app.config).decrypt(secret.ciphertext, aad=doc_id.encode())
        text, matches = decode_secret(plain, page_meta(get_session(), secret.archive_no,
                                                       secret.source_sha256))
        shown = sorted({m.kind for m in matches if m.kind in grant.unmask_fields})
        masked = redact(text, [m for m in matches if m.kind not in grant.unmask_fields])
        found.payload = (found.payload, masked, shown)
        found.extra = {"unmasked_kinds": shown}
        return found

    grant, found, rec = guarded_read(user=user, grant_id=grant_id, purpose=purpose,
                                     action=Action.PAGE_UNMASK, client_addr=client_addr, query=doc_id,
                                     grant_check=allowed, run=run)
    source, text, shown = found.payload
    return _page_view(grant, source, rec, text, shown)
