"""The Celery path on real Redis: files queued by a job are ingested by a separate worker process."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search_app.config import setting_names
from tests.conftest import dump_index, meta

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def worker(settings, tmp_path):
    env = {**os.environ, **{k: str(v) for k, v in settings.items() if k in setting_names()},
           "OMP_THREAD_LIMIT": "1"}
    log = (tmp_path / "worker.log").open("w+")
    proc = subprocess.Popen([sys.executable, "-m", "celery", "-A", "workers.worker", "worker",
                             "--concurrency=2", "--loglevel=INFO", "--without-gossip",
                             "--without-mingle", "-n", f"test-{os.getpid()}@localhost"],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while "ready" not in Path(log.name).read_text():
        assert proc.poll() is None, f"worker exited: {Path(log.name).read_text()[-2000:]}"
        assert time.monotonic() < deadline, "worker not ready in 60 s"
        time.sleep(0.3)
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


def test_queued_job_is_processed_by_the_worker(app, ingest, worker):
    specs = [meta("WK-0001", fmt="png", pages=[["经由任务队列处理的扫描页", "登记单位 海淀分局"]]),
             meta("WK-0002", pages=[["经由任务队列处理的文本层页面 内容足够长足够长"]])]
    progress, _ = ingest(specs, queue=True)
    assert progress.files_done == 2, progress.errors
    docs = {d["doc_id"] for d in dump_index(app)}
    assert {"WK-0001#p0001", "WK-0002#p0001"} <= docs
