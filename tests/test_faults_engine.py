"""The search engine down (a refused port) or hung (a listener that accepts and never answers,
as a stopped process does), against the real web server: gunicorn with the project's
gunicorn.conf.py. Measured before this fix with the engine process stopped: gunicorn's English
HTML 500 after 30.8 s and no audit record. Now: a JSON 503 in Chinese well inside the worker
timeout, an audit record with outcome `error`, and no partial result."""
from __future__ import annotations

import os
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from search_app.accounts.services import issue_api_token
from search_app.config import ConfigError, load_settings, setting_names
from search_app.db import get_session
from tests.conftest import ROOT, audit_records, meta

pytestmark = pytest.mark.integration

TIMEOUT_S, RETRIES, WEB_TIMEOUT_S = 3, 1, 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def hung_engine():
    """A TCP listener that never accepts: the kernel completes the handshake, the TLS hello is
    never answered — what a SIGSTOPped engine looks like to a client."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


@contextmanager
def gunicorn(settings: dict, engine_url: str, log: Path):
    env = {k: str(v) for k, v in settings.items() if k in setting_names() and v is not None}
    env.update(OPENSEARCH_URL=engine_url, OPENSEARCH_TIMEOUT=str(TIMEOUT_S),
               OPENSEARCH_RETRIES=str(RETRIES), WEB_TIMEOUT_S=str(WEB_TIMEOUT_S),
               PATH=os.environ["PATH"], HOME=os.environ.get("HOME", "/root"))
    port = _free_port()
    with log.open("wb") as out:
        proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"),
                                 "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                 "search_app:create_app()"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:  # the master binds the port before the worker has built the app: ask it
            try:
                requests.get(f"http://127.0.0.1:{port}/login", timeout=30).raise_for_status()
                break
            except requests.RequestException:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"gunicorn did not start: {log.read_text()[-2000:]}")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(20)


@pytest.fixture()
def reader(ctx, ingest, make_user, make_grant):
    progress, _ = ingest([meta("ENF-0001", pages=[["引擎故障演练 户籍页面 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors
    user = make_user("staff")
    grant = make_grant(user)
    token = issue_api_token(get_session(), user)
    get_session().commit()
    return user, grant, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("fault", ["hung", "down"])
def test_engine_fault_is_a_chinese_json_503_in_bounded_time_and_audited(
        fault, settings, reader, tmp_path):
    user, grant, headers = reader
    with hung_engine() as hung_port:
        port = hung_port if fault == "hung" else _free_port()  # nothing listens on a fresh port
        with gunicorn(settings, f"https://127.0.0.1:{port}", tmp_path / "gunicorn.log") as base:
            took = []
            for _ in range(2):  # the first also loads the query parser's dictionary (jieba)
                started = time.monotonic()
                resp = requests.post(f"{base}/api/v1/search", headers=headers, timeout=60,
                                     json={"grant_id": grant.id, "purpose": "故障演练", "q": "引擎故障演练"})
                took.append(time.monotonic() - started)
                assert resp.headers.get("Content-Type", "").startswith("application/json"), \
                    f"engine {fault}: not JSON but {resp.headers.get('Content-Type')}: {resp.text[:200]}"
                body = resp.json()
                assert resp.status_code == 503 and "检索服务" in body["message"], (resp.status_code, body)
                assert "hits" not in body and "total" not in body, f"a partial result was returned: {body}"
    bound = TIMEOUT_S * (RETRIES + 1) + 3
    assert max(took) < WEB_TIMEOUT_S, f"engine {fault}: answered after {took} s, past the worker timeout"
    assert took[1] < bound, f"engine {fault}: a warm worker answered after {took[1]:.1f}s (bound {bound}s)"
    errors = audit_records("search", username=user.username, outcome="error")
    assert len(errors) == 2 and all("检索服务错误" in e.reason for e in errors), \
        f"engine {fault}: two failed reads left {len(errors)} error records"
    print(f"\nengine {fault}: JSON 503 after {took[0]:.2f}s cold, {took[1]:.2f}s warm (timeout {TIMEOUT_S}s x {RETRIES + 1} tries, "
          f"worker timeout {WEB_TIMEOUT_S}s)")


def test_start_up_refuses_an_engine_timeout_the_web_worker_would_cut_short(settings):
    with pytest.raises(ConfigError, match="WEB_TIMEOUT_S"):
        load_settings(env={}, overrides={**settings, "OPENSEARCH_TIMEOUT": 30, "OPENSEARCH_RETRIES": 2,
                                         "WEB_TIMEOUT_S": 30})
    ok = load_settings(env={}, overrides={**settings, "OPENSEARCH_TIMEOUT": 10, "OPENSEARCH_RETRIES": 1,
                                          "WEB_TIMEOUT_S": 30})
    assert ok["OPENSEARCH_TIMEOUT"] * (ok["OPENSEARCH_RETRIES"] + 1) < ok["WEB_TIMEOUT_S"]
