"""Maintenance of the file-level documents (indexer.index.build_file_documents) from the page
documents in the index. Called by the ingest path once a file's pages are final (file finished,
pages re-OCR'd or dropped): a derived view, rebuilt whole for one 档号, so it is idempotent and a
retry or a second call only rewrites the same documents.
"""
from __future__ import annotations

from opensearchpy import OpenSearch, helpers

from indexer.index import FILE_KIND, PAGE_SOURCE_FIELDS, build_file_documents
from indexer.pages import MAX_PAGES
from search_app.search._backend import alias, bulk_index, writer

__all__ = ["refresh_file_docs", "backfill_file_docs"]


def refresh_file_docs(archive_no: str, *, client: OpenSearch | None = None,
                      index: str | None = None) -> int:
    """Rewrite the file-level documents of `archive_no` from its page documents as indexed now
    (refreshed first, so the pages just written count); deletes the ones no page supports any
    more (all pages gone, or a scope that no page has now). Returns how many were written."""
    client, index = client or writer(), index or alias()
    client.indices.refresh(index=index)
    found = client.search(index=index, size=MAX_PAGES, body={
        "_source": {"includes": PAGE_SOURCE_FIELDS},
        "query": {"bool": {"filter": [{"term": {"archive_no": archive_no}}],
                           "must_not": [{"exists": {"field": "doc_kind"}}]}}})
    pages = [h["_source"] for h in found["hits"]["hits"]]
    docs = build_file_documents(pages)
    old = client.search(index=index, size=1000, _source=False, body={
        "query": {"bool": {"filter": [{"term": {"archive_no": archive_no}},
                                      {"term": {"doc_kind": FILE_KIND}}]}}})
    stale = {h["_id"] for h in old["hits"]["hits"]} - {d["doc_id"] for d in docs}
    written = bulk_index(client, index, docs) if docs else 0
    if stale:
        _, errors = helpers.bulk(client, ({"_op_type": "delete", "_index": index, "_id": i}
                                          for i in sorted(stale)), raise_on_error=False)
        real = [e for e in errors if e.get("delete", {}).get("status") != 404]
        if real:  # a stale file document keeps matching terms its pages no longer have
            raise RuntimeError(f"{len(real)} file documents of {archive_no} could not be "
                               f"deleted from the index: {real[:3]}")
    client.indices.refresh(index=index)
    return written


def backfill_file_docs(client: OpenSearch, index: str) -> int:
    """File-level documents for every 档号 of an index built before they existed (run by
    `flask ensure-index` when it adds the doc_kind field); returns the number of 档号."""
    done, after = 0, None
    while True:
        comp: dict = {"size": 200, "sources": [{"no": {"terms": {"field": "archive_no"}}}]}
        if after:
            comp["after"] = after
        resp = client.search(index=index, size=0, body={"aggs": {"nos": {"composite": comp}}})
        buckets = resp["aggregations"]["nos"]["buckets"]
        for b in buckets:
            refresh_file_docs(b["key"]["no"], client=client, index=index)
            done += 1
        after = resp["aggregations"]["nos"].get("after_key")
        if not buckets or not after:
            return done
