"""The synchronous ingest on every core: the page loop in a process pool, the same loop and
results as the Celery worker's, a failing page failing alone, and every bulk item answer checked
(real SQLite, OpenSearch and, for the scanned page, Tesseract)."""
from __future__ import annotations

import json
import os

import pymupdf
import pytest
from sqlalchemy import select

from search_app.db import get_session
from search_app.ingest import keep, pagework
from search_app.ingest.models import IngestFile, IngestPage, PageSecret
from tests.conftest import dump_index, meta

pytestmark = pytest.mark.integration

ID = "11010519491231002X"  # valid GB 11643 check digit: the validated path, not the near miss
# Fields that differ between two ingests of the same page text by design (the PDF writer stamps
# its files, so the two files differ in bytes too).
_PER_INGEST = {"doc_id", "archive_no", "title", "ingest_file_id", "ingested_at", "source_sha256"}


def _pages(tag: str, n: int) -> list[list[str]]:
    return [[f"{tag} 第{i}页 户主姓名王建国 公民身份号码{ID}", f"登记单位 海淀分局 文本层内容足够长 编号{i}"]
            for i in range(1, n + 1)]


@pytest.fixture()
def pids(monkeypatch, tmp_path):
    """(process id, page number) of every page the loop reads, from whichever process ran it
    (forked pool children inherit the patched stage and append to the same file)."""
    log = tmp_path / "pids.txt"
    log.write_text("")
    real = pagework.page_text

    def recording(page, opts):
        with log.open("a") as fh:
            fh.write(f"{os.getpid()} {page.page_no}\n")
        return real(page, opts)
    monkeypatch.setattr(pagework, "page_text", recording)
    return lambda: [tuple(map(int, line.split())) for line in log.read_text().splitlines()]


def _file_phase(app, tmp_path, spec: dict) -> tuple[int, list[int]]:
    """Create the job and run the file phase only: the file's queued page ids."""
    from indexer.manifest import parse_manifest
    from search_app.demo import render_file
    from search_app.ingest.service import create_job, run_file

    folder = tmp_path / spec["archive_no"]
    folder.mkdir()
    if spec.get("format"):
        render_file(spec, folder)
    row = {k: v for k, v in spec.items() if k not in ("format", "pages")}
    (folder / "manifest.json").write_text(json.dumps([row], ensure_ascii=False), "utf-8")
    session = get_session()
    job = create_job(session, source="test", created_by="test",
                     rows=parse_manifest(folder / "manifest.json"), base_dir=folder)
    session.commit()
    [f] = job.files
    ids: list[int] = []
    run_file(f.id, dispatch=ids.extend)
    return f.id, ids


def _rows(file_id: int) -> list[tuple]:
    session = get_session()
    session.expire_all()
    return [(p.page_no, p.state, p.text_source, p.ocr_confidence, p.error) for p in
            session.execute(select(IngestPage).where(IngestPage.file_id == file_id)
                            .order_by(IngestPage.page_no)).scalars()]


def _docs(app, archive_no: str) -> dict[int, dict]:
    return {d["page_no"]: {k: v for k, v in d.items() if k not in _PER_INGEST}
            for d in dump_index(app) if d["archive_no"] == archive_no}


def test_pool_runs_a_batch_in_several_processes_with_the_workers_results(app, ctx, tmp_path, pids):
    from search_app.ingest.pool import run_in_pool
    from workers.tasks import ingest_pages

    n = 6
    pool_file, pool_ids = _file_phase(app, tmp_path, meta("PL-POOL-01", pages=_pages("池", n)))
    outcomes = run_in_pool(pool_ids, processes=2, size=8)
    assert sorted((o.page_id, o.state) for o in outcomes) == [(i, "done") for i in sorted(pool_ids)]
    by_process = {pid for pid, _ in pids()}
    assert len(by_process) == 2 and os.getpid() not in by_process, \
        f"pages ran in processes {by_process} (this one is {os.getpid()}), not in a pool of two"
    assert sorted(no for _, no in pids()) == list(range(1, n + 1)), "a page ran twice or never"

    # The worker's path: its Celery task over the same content (run here, without a broker).
    worker_file, worker_ids = _file_phase(app, tmp_path, meta("PL-TASK-01", pages=_pages("池", n)))
    result = ingest_pages.apply(args=[worker_ids]).get()
    assert [r["state"] for r in result] == ["done"] * n
    assert _rows(pool_file) == _rows(worker_file), "pool and worker left different page rows"
    pool_docs, worker_docs = _docs(app, "PL-POOL-01"), _docs(app, "PL-TASK-01")
    assert sorted(pool_docs) == list(range(1, n + 1))
    assert pool_docs == worker_docs, "pool and worker indexed different documents"
    assert ID not in json.dumps(pool_docs, ensure_ascii=False), "an ID number reached the index"
    session = get_session()
    session.expire_all()
    f = session.get(IngestFile, pool_file)
    assert f.state == "done" and f.pages_done == n


def _pdf_with_a_bad_page(path, n: int, bad: int) -> None:
    """Text-layer pages, except page `bad`: a blank page whose 300-dpi rendering is far over
    MAX_IMAGE_PIXELS, which the loader refuses."""
    doc = pymupdf.open()
    for i in range(1, n + 1):
        page = doc.new_page(width=5000 if i == bad else 420, height=5000 if i == bad else 595)
        if i != bad:
            page.insert_text((40, 60), f"Pool page {i} with a real text layer long enough")
    doc.save(path)


def test_a_failing_page_fails_with_its_reason_and_the_batch_goes_on(app, ctx, tmp_path, monkeypatch):
    """One page the loader refuses (permanent) and one whose stage raises (the CLI has no retry),
    in batches spread over two processes: both fail with their reasons, every other page is
    indexed, and the file fails naming the first bad page."""
    from search_app.ingest.jobs import start_job

    monkeypatch.setitem(app.config, "WORKER_CONCURRENCY", 2)
    folder = tmp_path / "bad"
    folder.mkdir()
    _pdf_with_a_bad_page(folder / "PL-BAD-01.pdf", 6, bad=2)
    row = {k: v for k, v in meta("PL-BAD-01").items() if k not in ("format", "pages")}
    (folder / "manifest.json").write_text(json.dumps([row], ensure_ascii=False), "utf-8")
    real = pagework.page_text

    def crash_on_five(page, opts):
        if page.page_no == 5:
            raise OSError("磁盘读取错误（测试注入）")
        return real(page, opts)
    monkeypatch.setattr(pagework, "page_text", crash_on_five)
    job = start_job(folder / "manifest.json", base_dir=folder, created_by="test", queue=False)
    [file_id] = [f.id for f in job.files]
    rows = {no: (state, err) for no, state, _, _, err in _rows(file_id)}
    assert [rows[i][0] for i in range(1, 7)] == ["done", "failed", "done", "done", "failed", "done"], rows
    assert "超过上限" in rows[2][1], rows[2]
    assert "内部错误" in rows[5][1] and "磁盘读取错误" in rows[5][1], rows[5]
    f = get_session().get(IngestFile, file_id)
    assert f.state == "failed" and f.pages_done == 4 and "第 2 页" in f.error, (f.state, f.error)
    assert sorted(_docs(app, "PL-BAD-01")) == [1, 3, 4, 6]


def test_sync_cli_ingest_indexes_end_to_end_and_surfaces_a_refused_document(app, ctx, tmp_path,
                                                                           monkeypatch, pids):
    """`flask ingest --sync` on a scanned page (Tesseract) and text-layer pages, several files in
    one pool. One page's document is refused by the engine (the mapping is strict; here a field
    it does not know, as after a mapping drift): that page must fail with the engine's reason,
    not be counted done, and the CLI must say so, while the other pages of the same bulk request
    are indexed."""
    from search_app.demo import render_file

    monkeypatch.setitem(app.config, "WORKER_CONCURRENCY", 2)
    folder = tmp_path / "cli"
    folder.mkdir()
    specs = [meta("PL-CLI-01", fmt="png", pages=[["扫描页经由进程池识别 户主姓名王建国", f"公民身份号码 {ID}"]]),
             meta("PL-CLI-02", pages=_pages("命令行", 4)),
             meta("PL-CLI-03", pages=_pages("索引拒绝", 3))]
    for spec in specs:
        render_file(spec, folder)
    rows = [{k: v for k, v in s.items() if k not in ("format", "pages")} for s in specs]
    (folder / "manifest.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    real = keep.build_document

    def drifted(meta_, page, **kw):
        doc = real(meta_, page, **kw)
        if meta_.archive_no == "PL-CLI-03" and page.page_no == 2:
            doc["unmapped_field"] = "x"
        return doc
    monkeypatch.setattr(keep, "build_document", drifted)

    result = app.test_cli_runner().invoke(args=["ingest", str(folder / "manifest.json"), "--sync"])
    out = result.output
    assert "2 files done, 1 failed, 7 pages indexed" in out, out
    assert "PL-CLI-03" in out and "搜索引擎拒绝索引该页" in out and "strict_dynamic_mapping" in out, \
        f"the refused document was not reported by the CLI: {out}"
    assert len({pid for pid, _ in pids()}) >= 2, f"--sync used one process: {pids()}"

    assert sorted(_docs(app, "PL-CLI-02")) == [1, 2, 3, 4]
    assert sorted(_docs(app, "PL-CLI-03")) == [1, 3], "the refused page is in the index"
    scanned = _docs(app, "PL-CLI-01")[1]
    assert scanned["text_source"] == "ocr" and "进程池" in scanned["text"], scanned["text"]
    assert ID not in json.dumps(_docs(app, "PL-CLI-01"), ensure_ascii=False)
    session = get_session()
    session.expire_all()
    refused = session.execute(select(IngestPage).join(IngestFile).where(
        IngestFile.archive_no == "PL-CLI-03", IngestPage.page_no == 2)).scalar_one()
    assert refused.state == "failed" and "HTTP 400" in refused.error, \
        f"REFUSED PAGE TAKEN FOR DONE: {refused.state} {refused.error!r}"
    # The secret was committed before indexing (durable first); a re-ingest redoes the page.
    assert session.get(PageSecret, "PL-CLI-03#p0002") is not None
