"""`flask reindex --reprepare`: after a detector fix, the text stages run again on every page
from the vault (in a pool of every core) and the rebuilt index no longer holds what the old
detector let through — in the page documents, the file-level documents and the search results.
Runs on an alias of its own, so the session index is untouched."""
from __future__ import annotations

import json
import os

import pytest

import indexer.pipeline
from search_app.search import search_pages
from tests.conftest import audit_records, dump_index, meta

pytestmark = pytest.mark.integration

PHONE = "13912345678"  # what the "buggy" detector of the ingest run let through
ID = "110108198503120046"


def _ingest_with_a_detector_that_misses_phones(ingest, monkeypatch):
    real = indexer.pipeline.find_pii
    monkeypatch.setattr(indexer.pipeline, "find_pii",
                        lambda text, m: [x for x in real(text, m) if x.kind != "phone"])
    specs = [meta(f"RP-2024-{f:04d}", pages=[
        [f"重新处理测试 第{n}页 户口登记 联系电话 {PHONE}" if n == 2 else
         f"重新处理测试 第{n}页 户口迁移 公民身份号码 {ID}"] for n in range(1, 4)])
        for f in range(2)]
    progress, _ = ingest(specs)
    assert progress.files_done == 2, progress.errors
    monkeypatch.setattr(indexer.pipeline, "find_pii", real)  # the detector fix


def _leaks(app) -> list[str]:
    return [d["doc_id"] for d in dump_index(app, files=True)
            if d["archive_no"].startswith("RP-") and PHONE in json.dumps(d, ensure_ascii=False)]


def test_reprepare_masks_what_the_old_detector_missed(app, ctx, scratch_alias, ingest, monkeypatch,
                                                      make_user, make_grant):
    client, name = scratch_alias
    _ingest_with_a_detector_that_misses_phones(ingest, monkeypatch)
    before = _leaks(app)
    assert len(before) == 4, f"the simulated detector bug did not leak as set up: {before}"
    user = make_user("staff")
    grant = make_grant(user)
    found = search_pages(user=user, grant_id=grant.id, purpose="重建核对", query=PHONE)
    assert found.total == 2, "set-up: the leaked number should be searchable before the fix"

    # one 档号 per batch: the second file's pages are in the pool while the first's are sent
    monkeypatch.setattr("search_app.search.reprepare.BATCH_PAGES", 1)
    result = ctx.test_cli_runner().invoke(args=["reindex", "--reprepare", "--chunk", "4"])
    assert result.exit_code == 0, result.output
    assert "pages/s" in result.output and f"{os.cpu_count()} processes" in result.output, \
        result.output
    left = _leaks(app)
    assert not left, f"the re-prepared index STILL HOLDS the phone number in {left}"
    for group in ("page", "file"):
        found = search_pages(user=user, grant_id=grant.id, purpose="重建核对", query=PHONE,
                             group=group)
        assert found.total == 0, f"searching the number still finds {found.total} ({group})"
    pages = [d for d in dump_index(app) if d["archive_no"].startswith("RP-")]
    assert len(pages) == 6 and all(ID not in d["text_display"] for d in pages)
    assert sum("phone" in d["pii_kinds"] for d in pages) == 2
    assert all(d["text_source"] and d["ingest_file_id"] for d in pages), "ingest fields lost"
    files = [d for d in dump_index(app, files=True) if d.get("doc_kind")
             and d["archive_no"].startswith("RP-")]
    assert len(files) == 2 and all(len(d["text"]) == 3 for d in files), files
    found = search_pages(user=user, grant_id=grant.id, purpose="重建核对", query="户口登记",
                         group="file")
    assert sorted(f.archive_no for f in found.files) == ["RP-2024-0000", "RP-2024-0001"]
    (rec,) = audit_records("cli.reindex", outcome="allowed")[-1:]
    assert rec.filters["reprepare"] is True and rec.filters["reprepared_pages"] == 6, rec.filters
    assert rec.filters["new_spans"] == 2, \
        f"the pages whose images need re-OCR were not counted: {rec.filters}"
    assert rec.filters["copied"] == 0 and rec.filters["pages_per_second"] > 0


def test_reprepare_resumes_at_the_start_of_a_file():
    from search_app.search.reprepare import resume_point

    assert resume_point(None) is None
    start = resume_point("RP-2024-0001#p0002")
    assert start == "RP-2024-0001#"
    ids = sorted(["RP-2024-0000#p0003", "RP-2024-0001#file-abc", "RP-2024-0001#p0001",
                  "RP-2024-0001#p0002", "RP-2024-0001-2#p0001"])
    assert [i for i in ids if i > start] == ["RP-2024-0001#file-abc", "RP-2024-0001#p0001",
                                             "RP-2024-0001#p0002", "RP-2024-0001-2#p0001"], \
        "a resumed re-prepare would split a file (its file document built from part of it)"
