"""Redis down while a records manager uploads a batch: the batch is held (job and file rows kept,
a clear message), and picked up by itself when Redis returns: with nobody visiting a page, beat
(every INGEST_HELD_RETRY_S) sends the held files' tasks; without beat, the uploader's job page
does; the real worker ingests them.

The Redis here is the test's own redis-server on a free port (password required, like the
shared one), stopped and started again by the test; the shared Redis is never touched."""
from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from search_app import create_app
from search_app.db import get_session
from search_app.demo import render_file
from search_app.ingest.models import IngestFile
from search_app.search._backend import make_client
from tests.conftest import login, meta
from tests.test_worker import start_worker, stop_worker

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]


class PrivateRedis:
    """redis-server on a free loopback port with a password, in `folder`; start() and stop()."""

    def __init__(self, folder: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.password = uuid.uuid4().hex
        self.conf = folder / "redis.conf"
        self.conf.write_text(f"port {self.port}\nbind 127.0.0.1\nrequirepass {self.password}\n"
                             f"save \"\"\nappendonly no\ndir {folder}\n", "utf-8")
        os.chmod(self.conf, 0o600)
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(["redis-server", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis.from_url(self.url, socket_timeout=1).ping()
                return
            except redis.RedisError:
                assert self.proc.poll() is None, "the test's redis-server exited"
                assert time.monotonic() < deadline, "the test's redis-server did not answer in 20 s"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)


@pytest.fixture()
def private_redis(tmp_path):
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(folder)
    server.start()
    yield server
    server.stop()


def _start_worker(settings: dict, log_path: Path, schedule: Path | None) -> subprocess.Popen:
    """A real worker on the test's Redis; with `schedule`, beat embedded, its held-ingest retry
    every 2 s."""
    beat = ("--beat", f"--schedule={schedule}") if schedule else ()
    return start_worker(settings, log_path, name="held", extra_env={"INGEST_HELD_RETRY_S": "2"},
                        concurrency=1, options=beat, ready_s=90)


def _files(job_id: int) -> list[IngestFile]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(IngestFile).where(IngestFile.job_id == job_id)
                                .order_by(IngestFile.id)).scalars())


@pytest.mark.parametrize("picker", ["beat", "job page"])
def test_an_upload_held_while_redis_is_down_is_ingested_when_redis_returns(
        picker, settings, ctx, make_user, private_redis, tmp_path):
    """beat: nobody visits a page, beat's retry sends the held files. job page: no beat at all,
    the uploader's job page (it polls progress.json) sends them."""
    own = {**settings, "REDIS_URL": private_redis.url}
    app = create_app(own)  # the session's database and index, the test's own Redis
    worker = _start_worker(own, tmp_path / "worker.log",
                           tmp_path / "beat-schedule" if picker == "beat" else None)
    try:
        user = make_user("system_admin")
        client = app.test_client()
        assert login(client, user.username).status_code == 302
        archive_no = f"HLD-{uuid.uuid4().hex[:6]}"
        spec = meta(archive_no, pages=[["队列恢复演练 暂存的导入批次 内容足够长以使用文本层"]])
        data = render_file(spec, tmp_path).read_bytes()
        row = {k: v for k, v in spec.items() if k not in ("format", "pages")}

        private_redis.stop()
        resp = client.post("/ingest/new", content_type="multipart/form-data", data={
            "manifest": (io.BytesIO(json.dumps([row], ensure_ascii=False).encode()), "m.json"),
            "files": [(io.BytesIO(data), row["file"])]}, follow_redirects=True)
        page = resp.get_data(as_text=True)
        assert resp.status_code == 200, page[:2000]
        assert "任务队列（Redis）暂不可用" in page and "自动开始" in page, \
            f"no clear message that the batch is held: {page[:2000]}"
        job_id = int(resp.request.path.rstrip("/").split("/")[-1])
        files = _files(job_id)
        assert [f.state for f in files] == ["held"], [(f.archive_no, f.state) for f in files]
        assert "等待任务队列恢复" in page

        time.sleep(3)  # beat ticks while Redis is down: nothing is lost, nothing half-sent
        assert client.get(f"/ingest/jobs/{job_id}/progress.json").get_json()["files"][0]["state"] == "held"
        assert [f.state for f in _files(job_id)] == ["held"]

        private_redis.start()  # same port and password, empty: nothing had been queued
        returned = time.monotonic()
        deadline = returned + 150
        while time.monotonic() < deadline:
            if picker == "job page":
                assert client.get(f"/ingest/jobs/{job_id}/progress.json").status_code == 200
            files = _files(job_id)
            if all(f.state in ("done", "failed") for f in files):
                break
            time.sleep(0.5)
        took = time.monotonic() - returned
        assert [(f.state, f.error) for f in files] == [("done", "")], (
            f"the held batch was not ingested {took:.0f} s after Redis returned: "
            f"{[(f.state, f.error) for f in files]}\n{(tmp_path / 'worker.log').read_text()[-3000:]}")
        print(f"\nheld batch ingested {took:.1f} s after Redis returned (picked up by the {picker})")
    finally:
        stop_worker(worker)
        app.extensions["db_engine"].dispose()
    admin = make_client(app.config, "admin")
    admin.indices.refresh(index=app.config["OPENSEARCH_INDEX"])
    n = admin.count(index=app.config["OPENSEARCH_INDEX"], body={"query": {"bool": {
        "filter": [{"term": {"archive_no": archive_no}}],
        "must_not": [{"exists": {"field": "doc_kind"}}]}}})["count"]
    assert n == 1, f"{archive_no}: {n} page documents indexed instead of 1"
