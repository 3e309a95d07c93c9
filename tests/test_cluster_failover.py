"""A real two-node cluster (scripts/opensearch.sh cluster-start: its own secured nodes on
9201/9202, never the shared node on 9200), an index with one replica, and a node killed with
SIGKILL while a thread searches through the app: every answer is either the complete result or a
Chinese JSON 503, never a partial result shown as complete; ingest goes on while the node is
down; after it returns nothing indexed is missing, on either node's copy.

Also the choke point's check of partial answers, against the shapes an engine answers with when
shards fail or time out (unit, no engine)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from pathlib import Path

import pytest

from search_app import create_app
from search_app.accounts.services import issue_api_token
from search_app.db import get_session
from search_app.migrations import upgrade
from search_app.search._backend import drop_alias_and_indices, make_client
from search_app.search._choke import PartialResults, complete
from tests.conftest import fresh_database, meta

ROOT = Path(__file__).resolve().parents[1]
NODES = (1, 2)
URLS = ",".join(f"https://127.0.0.1:{9200 + n}" for n in NODES)
PHRASE = "集群故障演练"


def _script(*args: str, timeout: float = 420) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "scripts/opensearch.sh", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def _pid(node: int) -> int | None:
    out = _script("cluster-pid", str(node), timeout=30).stdout.strip()
    return int(out) if out.isdigit() else None


@pytest.fixture(scope="session")
def cluster():
    """The 2-node cluster, started by its script; afterwards only the nodes this fixture started
    are stopped (a node that was already running stays)."""
    running_before = {n for n in NODES if _pid(n)}
    done = _script("cluster-start")
    assert done.returncode == 0, f"cluster-start failed:\n{done.stdout}\n{done.stderr}"
    yield URLS
    for n in NODES:
        if n not in running_before:
            _script("cluster-stop", str(n), timeout=120)


@pytest.fixture()
def cluster_app(cluster, settings, tmp_path):
    """An app of its own on the cluster: own database, alias, blob store; one replica."""
    with fresh_database(tmp_path) as url:
        own = {**settings, "DATABASE_URL": url, "OPENSEARCH_URL": cluster, "OPENSEARCH_REPLICAS": 1,
               "OPENSEARCH_INDEX": f"test-pages-{uuid.uuid4().hex[:8]}",
               "AUDIT_CHECKPOINT_INDEX": f"test-audit-cp-{uuid.uuid4().hex[:8]}",
               "BLOB_DIR": str(tmp_path / "blobs"), "INGEST_UPLOAD_DIR": str(tmp_path / "up"),
               "WORKER_CONCURRENCY": 1}
        app = create_app(own)
        upgrade(url)
        admin = make_client(app.config, "admin")
        with app.app_context():  # what operations run: `flask ensure-index`, OPENSEARCH_REPLICAS=1
            done = app.test_cli_runner().invoke(args=["ensure-index"])
        assert done.exit_code == 0, done.output
        try:
            yield app
        finally:
            drop_alias_and_indices(admin, own["OPENSEARCH_INDEX"])
            app.extensions["db_engine"].dispose()


def _ingest(app, folder: Path, specs: list[dict]) -> None:
    from search_app.demo import render_file
    from search_app.ingest.jobs import start_job, wait_for_job

    folder.mkdir()
    for spec in specs:
        render_file(spec, folder)
    rows = [{k: v for k, v in s.items() if k not in ("format", "pages")} for s in specs]
    (folder / "m.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    job = start_job(folder / "m.json", base_dir=folder, created_by="cluster", queue=False)
    progress = wait_for_job(job.id, echo=lambda _l: None, timeout=180, poll=0.3)
    assert progress.files_failed == 0, f"ingest on the cluster failed: {progress.errors}"


def _spec(no: str, n_pages: int) -> dict:
    return meta(no, pages=[[f"{PHRASE} {no} 第{p}页 户籍登记内容足够长以使用文本层"]
                           for p in range(1, n_pages + 1)])


def _copies(admin, index: str) -> dict[str, str]:
    """node name -> 'p' or 'r' for the index's shard copies."""
    rows = admin.cat.shards(index=index, format="json", h="prirep,node,state")
    return {r["node"]: r["prirep"] for r in rows if r["state"] == "STARTED"}


@pytest.mark.integration
def test_killing_a_node_during_searches_loses_nothing_and_shows_nothing_partial(
        cluster_app, ctx, make_user, make_grant, tmp_path):
    app = cluster_app
    admin = make_client(app.config, "admin")
    alias = app.config["OPENSEARCH_INDEX"]
    index = next(iter(admin.indices.get_alias(index=alias, name=alias)))
    settings = admin.indices.get_settings(index=index)[index]["settings"]["index"]
    assert settings["number_of_replicas"] == "1", f"index made with {settings['number_of_replicas']} replicas"
    health = admin.cluster.health(index=index, wait_for_status="green", request_timeout=60)
    assert health["status"] == "green" and health["number_of_data_nodes"] == 2, health

    with app.app_context():
        _ingest(app, tmp_path / "a", [_spec("CLF-0001", 3), _spec("CLF-0002", 3)])
        user = make_user("staff")
        grant = make_grant(user)
        token = issue_api_token(get_session(), user)
        get_session().commit()
        grant_id = grant.id
    expected = {f"CLF-000{f}#p000{p}" for f in (1, 2) for p in (1, 2, 3)}

    client = app.test_client()
    answers: list[tuple[float, int, dict]] = []
    stop = threading.Event()

    def search_loop() -> None:
        while not stop.is_set():
            resp = client.post("/api/v1/search", headers={"Authorization": f"Bearer {token}"},
                               json={"grant_id": grant_id, "purpose": "集群故障演练", "q": PHRASE})
            answers.append((time.monotonic(), resp.status_code, resp.get_json(silent=True) or {}))

    manager = admin.cat.cluster_manager(format="json")[0]["node"]
    victim = next(n for n in NODES if f"cluster-{n}" != manager)
    copies_before = _copies(admin, index)
    pid = _pid(victim)
    assert pid, f"cluster-{victim} is not running"
    worker = threading.Thread(target=search_loop, daemon=True)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while sum(1 for a in answers if a[1] == 200) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sum(1 for a in answers if a[1] == 200) >= 3, f"no search answered before the kill: {answers[:3]}"
        killed_at = time.monotonic()
        os.kill(pid, signal.SIGKILL)
        deadline = killed_at + 60
        while (sum(1 for a in answers if a[0] > killed_at) < 15 or time.monotonic() < killed_at + 5) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        worker.join(timeout=60)
    after = [a for a in answers if a[0] > killed_at]
    print(f"\nkilled cluster-{victim} (held the {'primary' if copies_before.get(f'cluster-{victim}') == 'p' else 'replica'}"
          f" copy); {len(answers)} searches, {len(after)} after the kill: "
          f"{sum(1 for a in after if a[1] == 200)} complete, {sum(1 for a in after if a[1] == 503)} 503")
    assert len(after) >= 5, f"only {len(after)} searches answered after the kill in 60 s"
    for at, status, body in answers:
        when = f"{at - killed_at:+.1f}s from the kill"
        if status == 200:
            got = {h["id"] for h in body["hits"]}
            assert got == expected and body["total"] == len(expected), (
                f"a search {when} answered 200 with {sorted(got)} (total {body['total']}) instead of "
                f"all {len(expected)} pages: a partial result shown as complete")
        else:
            assert status == 503, f"a search {when} answered {status}: {body}"
            assert any("\u4e00" <= ch <= "\u9fff" for ch in json.dumps(body, ensure_ascii=False)), \
                f"the 503 {when} has no Chinese reason: {body}"
    assert after[-1][1] == 200, f"searches did not recover on the surviving node: {after[-3:]}"

    # ingest goes on while the node is down
    with app.app_context():
        _ingest(app, tmp_path / "b", [_spec("CLF-0003", 2)])
    expected |= {"CLF-0003#p0001", "CLF-0003#p0002"}

    done = _script("cluster-start")  # starts the killed node again, waits for green
    assert done.returncode == 0, f"the killed node did not come back:\n{done.stdout}\n{done.stderr}"
    admin.cluster.health(index=index, wait_for_status="green", wait_for_no_relocating_shards=True,
                         request_timeout=120)
    admin.indices.refresh(index=index)
    resp = client.post("/api/v1/search", headers={"Authorization": f"Bearer {token}"},
                       json={"grant_id": grant_id, "purpose": "集群故障演练", "q": PHRASE})
    assert resp.status_code == 200, resp.get_json()
    got = {h["id"] for h in resp.get_json()["hits"]}
    assert got == expected, f"after the node returned, missing {sorted(expected - got)}, extra {sorted(got - expected)}"
    # each node's own copy holds every page, the returned node's recovered one included
    nodes = {v["name"]: k for k, v in admin.nodes.info()["nodes"].items()}
    page_docs = {"query": {"bool": {"filter": [{"prefix": {"archive_no": "CLF-"}}],
                                    "must_not": [{"exists": {"field": "doc_kind"}}]}}}
    for name, node_id in nodes.items():
        found = admin.search(index=index, body={**page_docs, "size": 50, "_source": False},
                             params={"preference": f"_only_nodes:{node_id}"})
        ids = {h["_id"] for h in found["hits"]["hits"]}
        assert ids == expected, f"{name}'s copy lacks {sorted(expected - ids)}"


# -- the check itself, against the shapes an engine answers with (no engine needed) ----------

@pytest.mark.parametrize("resp, what", [
    ({"timed_out": True, "_shards": {"total": 1, "successful": 1, "failed": 0}, "hits": {}}, "超时"),
    ({"timed_out": False, "_shards": {"total": 2, "successful": 1, "failed": 1}, "hits": {}}, "1 个分片"),
    ({"timed_out": False, "_shards": {"total": 3, "successful": 1, "skipped": 0, "failed": 0}}, "2 个分片"),
])
def test_a_partial_answer_is_refused_with_a_reason(resp, what):
    with pytest.raises(PartialResults) as err:
        complete(resp)
    assert what in err.value.reason and "未返回任何结果" in err.value.reason, err.value.reason


def test_a_complete_answer_passes_unchanged():
    resp = {"timed_out": False, "_shards": {"total": 2, "successful": 1, "skipped": 1, "failed": 0},
            "hits": {"total": {"value": 0}, "hits": []}}
    assert complete(resp) is resp
