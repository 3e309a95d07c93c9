"""Redis down: search is unaffected and ingest is refused up front with a clear message (no job
row left waiting for a task that was never sent). Blob store full or read-only: the file or page
that cannot be stored fails with that reason, the rest of the batch goes on. Against the real
services; the full and read-only store is a real tmpfs (the suite runs as root, like the scripts)."""
from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import func, select

from search_app import create_app
from search_app.accounts.services import issue_api_token
from search_app.db import get_session
from search_app.ingest.models import IngestFile, IngestJob, IngestPage
from search_app.migrations import upgrade
from search_app.search._backend import ensure_index, make_client
from tests.conftest import fresh_database, meta

pytestmark = pytest.mark.integration


def test_redis_down_search_unaffected_and_ingest_refused(app, ctx, ingest, make_user, make_grant,
                                                          settings, tmp_path):
    progress, _ = ingest([meta("RDF-0001", pages=[["队列故障演练 户籍页面 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors
    user = make_user("staff")
    grant = make_grant(user)
    token = issue_api_token(get_session(), user)
    get_session().commit()
    # same database and index, the broker on a port where no Redis listens
    down = create_app({**settings, "REDIS_URL": "redis://:wrong@127.0.0.1:1/0"})
    client = down.test_client()
    resp = client.post("/api/v1/search", headers={"Authorization": f"Bearer {token}"},
                       json={"grant_id": grant.id, "purpose": "故障演练", "q": "队列故障演练"})
    assert resp.status_code == 200, resp.get_json()
    assert "RDF-0001#p0001" in [h["id"] for h in resp.get_json()["hits"]], "search failed without Redis"

    folder = tmp_path / "q"
    folder.mkdir()
    spec = meta("RDF-0002", pages=[["队列故障演练 第二份 内容足够长以使用文本层"]])
    from search_app.demo import render_file
    render_file(spec, folder)
    row = {k: v for k, v in spec.items() if k not in ("format", "pages")}
    (folder / "m.json").write_text(json.dumps([row], ensure_ascii=False), "utf-8")
    jobs_before = get_session().execute(select(func.count()).select_from(IngestJob)).scalar_one()
    with down.app_context():
        result = down.test_cli_runner().invoke(args=["ingest", "--queue", str(folder / "m.json")])
    assert result.exit_code != 0 and "任务队列（Redis）不可用" in result.output, result.output
    get_session().expire_all()
    assert get_session().execute(select(func.count()).select_from(IngestJob)).scalar_one() == jobs_before, \
        "a job row was created although its tasks could not be queued"


@pytest.fixture()
def small_store(settings, services, tmp_path):
    """An app of its own whose blob store is a 2 MiB tmpfs: (app, mount point)."""
    mnt = tmp_path / "blobs"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"cannot mount a tmpfs for the blob store (run as root): {done.stderr}"
    try:
        with fresh_database(tmp_path) as url:
            own = {**settings, "DATABASE_URL": url, "BLOB_DIR": str(mnt),
                   "OPENSEARCH_INDEX": f"test-pages-{uuid.uuid4().hex[:8]}"}
            app = create_app(own)
            upgrade(url)
            admin = make_client(app.config, "admin")
            ensure_index(admin, own["OPENSEARCH_INDEX"])
            try:
                yield app, mnt
            finally:
                for name in admin.indices.get(index=f"{own['OPENSEARCH_INDEX']}*",
                                              ignore_unavailable=True, allow_no_indices=True):
                    admin.indices.delete(index=name, ignore_unavailable=True)
                app.extensions["db_engine"].dispose()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _run_batch(app, folder: Path, specs: list[dict]):
    from search_app.demo import render_file
    from search_app.ingest.jobs import start_job, wait_for_job

    folder.mkdir()
    rows = []
    for spec in specs:
        render_file(spec, folder)
        rows.append({k: v for k, v in spec.items() if k not in ("format", "pages", "noise")})
    (folder / "m.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    with app.app_context():
        job = start_job(folder / "m.json", base_dir=folder, created_by="fault", queue=False)
        progress = wait_for_job(job.id, echo=lambda _l: None, timeout=300, poll=0.3)
        s = get_session()
        files = {f.archive_no: (f.state, f.error) for f in s.execute(
            select(IngestFile).where(IngestFile.job_id == job.id)).scalars()}
        pages = [(p.state, p.error) for p in s.execute(select(IngestPage).join(
            IngestFile, IngestPage.file_id == IngestFile.id).where(IngestFile.job_id == job.id)).scalars()]
    return progress, files, pages


def _indexed(app, prefix: str) -> int:
    client = make_client(app.config, "admin")
    client.indices.refresh(index=app.config["OPENSEARCH_INDEX"])
    # page documents only: the grouped search's file-level documents carry a doc_kind
    return client.count(index=app.config["OPENSEARCH_INDEX"], body={"query": {"bool": {
        "filter": [{"prefix": {"archive_no": prefix}}],
        "must_not": [{"exists": {"field": "doc_kind"}}]}}})["count"]


def test_a_full_blob_store_fails_the_file_that_does_not_fit_and_the_batch_goes_on(small_store, tmp_path):
    app, mnt = small_store
    ballast = mnt / "ballast"  # leave ~150 KiB: a small text PDF fits, a 300 dpi scan does not
    subprocess.run(["dd", "if=/dev/zero", f"of={ballast}", "bs=1k", "count=1900"], check=True,
                   capture_output=True)
    progress, files, _pages = _run_batch(app, tmp_path / "full", [
        meta("BSF-0001", fmt="png", pages=[["存储已满演练 扫描页面 内容 足够长 " * 6]], noise=True),
        meta("BSF-0002", pages=[["存储已满演练 文本页面 内容足够长以使用文本层"]]),
    ])
    assert files["BSF-0001"][0] == "failed" and "存储空间已满" in files["BSF-0001"][1], files
    assert files["BSF-0002"][0] == "done", f"the batch did not go on after the full store: {files}"
    assert _indexed(app, "BSF-0001") == 0, "a file whose original could not be stored was indexed"
    assert _indexed(app, "BSF-0002") == 1
    assert not list(mnt.rglob("*.tmp*")), "a partial blob was left in the store"


def test_a_read_only_blob_store_fails_each_file_with_the_reason(small_store, tmp_path):
    app, mnt = small_store
    subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
    progress, files, _pages = _run_batch(app, tmp_path / "ro", [
        meta("BSR-0001", pages=[["只读存储演练 第一份 内容足够长以使用文本层"]]),
        meta("BSR-0002", pages=[["只读存储演练 第二份 内容足够长以使用文本层"]]),
    ])
    assert progress.files_failed == 2, files
    for no, (state, error) in files.items():
        assert state == "failed" and "存储为只读" in error, f"{no}: {state} {error!r}"
    assert _indexed(app, "BSR-") == 0
