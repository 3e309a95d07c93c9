"""Ingest indexes the pages a worker has ready in one bulk request, not one request per page
(INGEST_BATCH_PAGES at a time), and every page of every request is searchable afterwards
(real SQLite and OpenSearch; the worker's page task run in this process)."""
from __future__ import annotations

import pytest

from search_app.ingest import pagework
from tests.conftest import dump_index, meta
from tests.test_ingest_pool import _file_phase, _pages

pytestmark = pytest.mark.integration


def test_a_batch_of_ready_pages_goes_to_the_engine_in_bulk_requests_of_the_batch_size(
        app, ctx, tmp_path, monkeypatch):
    from workers.tasks import ingest_pages

    requests: list[list[int]] = []
    real = pagework.index_pages

    def counted(docs):  # the real bulk request, counted
        requests.append([d["page_no"] for d in docs])
        return real(docs)

    monkeypatch.setattr(pagework, "index_pages", counted)
    monkeypatch.setitem(app.config, "INGEST_BATCH_PAGES", 4)
    _, ids = _file_phase(app, tmp_path, meta("BB-BULK-01", pages=_pages("批量", 10)))
    result = ingest_pages.apply(args=[ids]).get()
    assert [r["state"] for r in result] == ["done"] * 10, result
    assert requests == [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]], \
        f"pages were indexed in requests {requests}, not in bulk requests of 4"
    pages = sorted(d["page_no"] for d in dump_index(app) if d["archive_no"] == "BB-BULK-01")
    assert pages == list(range(1, 11)), f"pages in the index after the bulk requests: {pages}"
