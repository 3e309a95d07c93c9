"""The Celery path on real Redis: files queued by a job are ingested by separate worker processes,
and a worker killed mid-page loses no page."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from search_app.config import setting_names
from search_app.db import get_session
from search_app.ingest.models import IngestFile, IngestPage, PageSecret, PageVersion
from tests.conftest import dump_index, meta

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
KILL_TEST_VISIBILITY_S = 10  # production default is an hour; see docs/operations.md


def start_worker(settings: dict, log_path: Path, *, name: str, extra_env: dict | None = None,
                 concurrency: int = 2, options: tuple[str, ...] = (), ready_s: int = 60
                 ) -> subprocess.Popen:
    """A real `celery worker` in its own process group (so a test can kill the whole group)."""
    env = {**os.environ, **{k: str(v) for k, v in settings.items() if k in setting_names()},
           "OMP_THREAD_LIMIT": "1", **(extra_env or {})}
    log = log_path.open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers.worker", "worker",
                             *options, f"--concurrency={concurrency}", "--loglevel=INFO",
                             "--without-gossip", "--without-mingle",
                             "-n", f"{name}-{os.getpid()}@localhost"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + ready_s
    while "ready" not in log_path.read_text():
        assert proc.poll() is None, f"worker exited: {log_path.read_text()[-2000:]}"
        assert time.monotonic() < deadline, f"worker not ready in {ready_s} s"
        time.sleep(0.3)
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)  # its own process group: only what it started
            proc.wait(timeout=10)


@pytest.fixture()
def worker(settings, tmp_path):
    proc = start_worker(settings, tmp_path / "worker.log", name="test")
    yield proc
    stop_worker(proc)


def test_queued_job_is_processed_by_the_worker(app, ingest, worker):
    specs = [meta("WK-0001", fmt="png", pages=[["经由任务队列处理的扫描页", "登记单位 海淀分局"]]),
             meta("WK-0002", pages=[["经由任务队列处理的文本层页面 内容足够长足够长"]])]
    progress, _ = ingest(specs, queue=True)
    assert progress.files_done == 2, progress.errors
    docs = {d["doc_id"] for d in dump_index(app)}
    assert {"WK-0001#p0001", "WK-0002#p0001"} <= docs


def _running_pages(file_id: int) -> list[int]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(IngestPage.page_no).where(
        IngestPage.file_id == file_id, IngestPage.state == "running")).scalars())


def test_worker_killed_mid_page_loses_no_page(app, ctx, settings, tmp_path):
    """SIGKILL the whole worker (parent and pool) while a page is being OCRed, start a fresh
    worker, and every page must end up indexed exactly once with its row done."""
    from search_app.demo import render_file
    from search_app.ingest.jobs import start_job, wait_for_job

    archive = "WK-KILL-01"
    spec = meta(archive, fmt="pdf_image",
                pages=[[f"进程被杀死的测试 第{i}页", f"登记单位 海淀分局 编号{i}"] for i in range(1, 7)])
    folder = tmp_path / "kill"
    folder.mkdir()
    render_file(spec, folder)
    row = {k: v for k, v in spec.items() if k not in ("format", "pages")}
    (folder / "manifest.json").write_text(json.dumps([row], ensure_ascii=False), "utf-8")
    env = {"CELERY_VISIBILITY_TIMEOUT_S": str(KILL_TEST_VISIBILITY_S)}

    first = start_worker(settings, tmp_path / "first.log", name="doomed", extra_env=env)
    try:
        job = start_job(folder / "manifest.json", base_dir=folder, created_by="test", queue=True)
        [file_id] = [f.id for f in job.files]
        deadline = time.monotonic() + 120
        while not (running := _running_pages(file_id)):
            assert time.monotonic() < deadline, "no page started within 120 s"
            time.sleep(0.1)
        os.killpg(first.pid, signal.SIGKILL)  # parent and pool children, mid-page
        first.wait(timeout=10)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait(timeout=10)
    killed_mid_page = _running_pages(file_id)
    killed_at = time.monotonic()
    assert killed_mid_page, f"the kill should leave a page 'running' (was {running})"

    second = start_worker(settings, tmp_path / "second.log", name="fresh", extra_env=env)
    try:
        # Redelivery comes after the visibility timeout; 180 s also catches a stalled restore
        # sweep (kombu's 300 s lock expiry after a kill, see workers/celery_app.py).
        try:
            progress = wait_for_job(job.id, echo=lambda _l: None, timeout=180, poll=0.5)
        except TimeoutError as exc:
            pytest.fail(f"pages {killed_mid_page} killed mid-run were never redelivered to the "
                        f"fresh worker ({exc})")
    finally:
        stop_worker(second)
    recovered_s = time.monotonic() - killed_at
    print(f"recovered {recovered_s:.0f} s after the kill (visibility timeout "
          f"{KILL_TEST_VISIBILITY_S} s)")  # the figure docs/operations.md quotes (run with -s)
    assert progress.files_done == 1, (f"not recovered {recovered_s:.0f}s after the kill",
                                      progress.errors, (tmp_path / "second.log").read_text()[-3000:])

    session = get_session()
    session.expire_all()
    f = session.get(IngestFile, file_id)
    assert f.pages_done == 6 and [p.state for p in f.pages] == ["done"] * 6
    for p in f.pages:
        if p.page_no in killed_mid_page:
            assert p.attempts >= 2, f"page {p.page_no} was killed mid-run but not run again"
    docs = [d for d in dump_index(app) if d["archive_no"] == archive]
    page_nos = sorted(d["page_no"] for d in docs)
    assert page_nos == [1, 2, 3, 4, 5, 6], f"pages lost after the kill: {page_nos}"
    assert {(d["ingest_file_id"], d["source_sha256"]) for d in docs} == {(file_id, f.sha256)}, \
        "a page redelivered after the kill was indexed from another file or content"
    history = session.execute(select(PageVersion.page_no).where(PageVersion.archive_no == archive))
    assert not list(history.scalars()), \
        "the redelivered page task wrote a history entry: a retry of the same content is a new version"
    secrets = session.execute(select(PageSecret.page_no).where(PageSecret.archive_no == archive))
    assert sorted(secrets.scalars()) == [1, 2, 3, 4, 5, 6]
