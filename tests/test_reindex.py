"""`flask reindex`: a fresh versioned index from the stored documents, alias swapped only when
complete; any error deletes the half-built index (the old one keeps serving); a killed run
resumes from its checkpoint. Runs on an alias of its own, so the session index is untouched."""
from __future__ import annotations

import hashlib
import json
import threading
import time

import pytest

from search_app.search import search_pages
from search_app.search._backend import bulk_index
from search_app.search._files import refresh_file_docs
from search_app.search._prefetch import read_ahead as _read_ahead
from search_app.search.reindex import loading_settings, reindex, unfinished
from tests.conftest import audit_records

HAIDIAN = "北京市公安局海淀分局"
WORDS = ["重建甲词", "重建乙词", "重建丙词", "重建丁词"]


@pytest.fixture()
def own_alias(scratch_alias):
    """An alias of this module's own with 4 files × 6 pages and their file documents."""
    client, name = scratch_alias
    docs = []
    for f in range(4):
        no = f"RX-2024-{f:04d}"
        for n in range(1, 7):
            text = f"重建索引测试 {WORDS[(f + n) % 4]} 第{n}页 {WORDS[f]}档案"
            docs.append({"doc_id": f"{no}#p{n:04d}", "archive_no": no, "title": f"重建{f}",
                         "category": "户籍档案", "unit": HAIDIAN, "year": 2020 + f,
                         "classification": "内部", "classification_level": 1, "page_no": n,
                         "page_count": 6, "text": text, "text_display": text,
                         "text_jieba": " ".join(text.split()), "pii_kinds": [], "pii_hmac": [],
                         "subject_hmac": [], "ingested_at": "2024-01-01T00:00:00+00:00"})
    bulk_index(client, name, docs, refresh=True)
    for f in range(4):
        refresh_file_docs(f"RX-2024-{f:04d}", client=client, index=name)
    return client, name


def _behind(client, name: str) -> list[str]:
    return sorted(client.indices.get_alias(index=name, name=name))


def _versions(client, name: str) -> list[str]:
    return sorted(client.indices.get(index=f"{name}-v*", allow_no_indices=True))


def _contents(client, index: str) -> dict[str, str]:
    """Every document of `index` (pages and file documents): id -> SHA-256 of its _source."""
    docs, after = {}, None
    while True:
        body = {"size": 100, "sort": [{"doc_id": "asc"}], "query": {"match_all": {}}}
        if after is not None:
            body["search_after"] = [after]
        hits = client.search(index=index, body=body)["hits"]["hits"]
        if not hits:
            return docs
        for h in hits:
            assert h["_id"] not in docs, f"document {h['_id']} read twice"
            docs[h["_id"]] = hashlib.sha256(json.dumps(h["_source"], sort_keys=True,
                                                       ensure_ascii=False).encode()).hexdigest()
        after = hits[-1]["sort"][0]


def _diff(before: dict[str, str], after: dict[str, str]) -> str:
    lost = sorted(set(before) - set(after))
    extra = sorted(set(after) - set(before))
    changed = sorted(i for i in set(before) & set(after) if before[i] != after[i])
    return f"LOST {lost[:5]} ({len(lost)}), EXTRA {extra[:5]} ({len(extra)}), " \
           f"CONTENT CHANGED {changed[:5]} ({len(changed)})"


def _results(user, grant) -> list:
    out = []
    for q in [*WORDS, "重建甲词 重建乙词", '"重建索引测试"']:
        for group in ("page", "file"):
            r = search_pages(user=user, grant_id=grant.id, purpose="重建核对", query=q, group=group)
            out.append((q, group, r.total, [h.doc_id for h in r.hits],
                        [(f.archive_no, [p.doc_id for p in f.pages]) for f in r.files],
                        sorted((k, tuple(v)) for k, v in r.facets.items())))
    return out


@pytest.mark.integration
def test_reindex_gives_the_same_results_and_is_audited(ctx, own_alias, make_user, make_grant):
    client, name = own_alias
    user = make_user("staff")
    grant = make_grant(user)
    before, old = _results(user, grant), _behind(client, name)
    assert before[0][2] > 0, "the fixture's pages are not searchable"
    result = ctx.test_cli_runner().invoke(args=["reindex", "--chunk", "5", "--workers", "2"])
    assert result.exit_code == 0, result.output
    new = _behind(client, name)
    assert new != old and len(new) == 1, f"alias not swapped: {old} -> {new}"
    assert _versions(client, name) == new, "the old index was not dropped after the swap"
    assert _results(user, grant) == before, "search results differ after the reindex"
    (rec,) = audit_records("cli.reindex", outcome="allowed")[-1:]
    assert {"old_index", "new_index", "docs_per_second"} <= set(rec.filters), rec.filters
    assert rec.filters["documents"] == client.count(index=name)["count"]


@pytest.mark.integration
def test_a_failure_mid_way_leaves_the_old_index_serving(ctx, own_alias, make_user, make_grant):
    client, name = own_alias
    user = make_user("staff")
    grant = make_grant(user)
    before, old = _results(user, grant), _behind(client, name)
    calls = []

    def fail(n: int) -> None:
        calls.append(n)
        if len(calls) == 2:  # some documents are in the new index by now
            raise RuntimeError("injected failure mid-way")

    with pytest.raises(RuntimeError, match="injected failure"):
        reindex(client, name, chunk=4, progress=fail)
    assert _behind(client, name) == old, "the alias moved although the rebuild failed"
    assert _versions(client, name) == old, \
        f"a half-built index was LEFT BEHIND: {sorted(set(_versions(client, name)) - set(old))}"
    assert _results(user, grant) == before, "the old index no longer answers as before"


@pytest.mark.integration
def test_a_killed_run_resumes_from_its_checkpoint(ctx, own_alias, make_user, make_grant):
    client, name = own_alias
    user = make_user("staff")
    grant = make_grant(user)
    before, old = _results(user, grant), _behind(client, name)
    calls = []

    def killed(n: int) -> None:  # a process killed outside Python's error handling
        calls.append(n)
        if len(calls) == 12:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reindex(client, name, chunk=2, progress=killed)
    (left,) = unfinished(client, name)
    assert _behind(client, name) == old
    report = reindex(client, name, chunk=2)
    assert report.new_index == left and report.resumed_from == 20, \
        f"did not resume at the checkpoint (10 chunks of 2): {report}"
    assert report.documents == client.count(index=name)["count"]
    after = _results(user, grant)
    diff = [(b, a) for b, a in zip(before, after) if a != b]
    assert not diff, f"search results differ after the resumed reindex: {diff[:1]}"
    assert unfinished(client, name) == []


@pytest.mark.integration
def test_the_new_index_holds_the_same_documents_and_its_load_settings_are_undone(ctx, own_alias):
    """Every document (pages and file documents) byte-for-byte the same _source, read in
    batches (7) that do not line up with the bulk requests (5); the loading settings (refresh
    off, async translog, few merges, rare flushes) are gone from the serving index."""
    client, name = own_alias
    (old,) = _behind(client, name)
    before = _contents(client, old)
    assert len(before) == 28, f"fixture: {len(before)} documents, not 24 pages + 4 files"
    report = reindex(client, name, chunk=5, read_batch=7, workers=2)
    (new,) = _behind(client, name)
    assert new == report.new_index != old
    after = _contents(client, new)
    assert after == before, f"the reindexed index differs from its source: {_diff(before, after)}"
    assert report.documents == 28 and report.pages == 24, report
    got = client.indices.get_settings(index=new, flat_settings=True)[new]["settings"]
    left = {k: v for k, v in got.items()
            if any(k.startswith(f"index.{p}") for p in ("merge.", "translog.flush_threshold"))}
    assert not left, f"load-time settings LEFT on the serving index: {left}"
    assert got.get("index.refresh_interval") == "1s", got.get("index.refresh_interval")
    assert got.get("index.translog.durability") == "request", \
        f"the serving index kept translog durability {got.get('index.translog.durability')}"
    assert loading_settings()["translog"]["durability"] == "async"


@pytest.mark.integration
def test_a_failure_mid_load_deletes_the_half_built_index_and_the_source_is_untouched(
        ctx, own_alias):
    client, name = own_alias
    (old,) = _behind(client, name)
    before = _contents(client, old)
    calls = []

    def fail(n: int) -> None:
        calls.append(n)
        if len(calls) == 3:
            raise RuntimeError("injected failure mid-load")

    with pytest.raises(RuntimeError, match="injected failure"):
        reindex(client, name, chunk=3, read_batch=4, progress=fail)
    assert _behind(client, name) == [old], "the alias moved although the rebuild failed"
    assert _versions(client, name) == [old], \
        f"a half-built index was LEFT BEHIND: {sorted(set(_versions(client, name)) - {old})}"
    assert _contents(client, old) == before, "the failed rebuild changed the serving index"


@pytest.mark.integration
def test_a_resumed_run_neither_duplicates_nor_loses_a_document(ctx, own_alias):
    """Killed after 13 bulk chunks of 2: the checkpoint (every 10 chunks) stands at 20
    documents while 26 or more are in; the resumed run sends again what the killed one wrote
    after its checkpoint (`create`: the engine answers 409, nothing is rewritten) and every
    document ends up there exactly once, as in the source."""
    client, name = own_alias
    (old,) = _behind(client, name)
    before = _contents(client, old)
    calls = []

    def killed(n: int) -> None:
        calls.append(n)
        if len(calls) == 13:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reindex(client, name, chunk=2, read_batch=3, progress=killed)
    (left,) = unfinished(client, name)
    client.indices.refresh(index=left)
    written = client.count(index=left)["count"]
    assert written > 20, f"the killed run wrote only {written} documents"
    report = reindex(client, name, chunk=2, read_batch=3)
    assert report.new_index == left and report.resumed_from == 20, report
    after = _contents(client, left)
    assert after == before, f"the resumed rebuild differs from its source: {_diff(before, after)}"
    live = client.count(index=left)["count"]
    assert live == len(before) == report.documents, \
        f"{live} live documents after the resume, the source has {len(before)}"


def test_read_ahead_hands_on_errors_and_stops_with_its_consumer():
    def failing():
        yield 1
        raise ValueError("the engine went away")

    got = []
    with pytest.raises(ValueError, match="went away"):
        for x in _read_ahead(failing()):
            got.append(x)
    assert got == [1]

    produced = []

    def endless():
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    before = threading.active_count()
    it = _read_ahead(endless(), depth=2)
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()
    time.sleep(0.5)
    n = len(produced)
    time.sleep(0.3)
    assert len(produced) == n <= 3 + 2 + 1, f"the reader ran on after its consumer stopped: {n}"
    assert threading.active_count() <= before, "the read-ahead thread outlived its consumer"
