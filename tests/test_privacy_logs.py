"""The web server's access log holds no query string: the reading session's search is a GET
(`/search?s=…&q=…`, bookmarkable, as is the API's `/sessions/<id>/search?q=…`), and readers type
ID numbers, phones and names as queries. A real gunicorn with the project's gunicorn.conf.py and
an access log serves the request; the test names the value the log kept."""
from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from tests.privacy_data import ID_A, NAME_A

ROOT = Path(__file__).resolve().parents[1]
APP = '''
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
'''


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_access_log_keeps_no_query_string(tmp_path):
    (tmp_path / "tinyapp.py").write_text(APP, "utf-8")
    port, access = _free_port(), tmp_path / "access.log"
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"}
    out = tmp_path / "gunicorn.out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind",
         f"127.0.0.1:{port}", "--workers", "1", "--access-logfile", str(access), "tinyapp:app"],
        cwd=ROOT, env=env, stdout=out.open("w"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
                time.sleep(0.2)
        for path in (f"/search?s=abc123&q={quote(ID_A)}",
                     f"/api/v1/sessions/abc123/search?q={quote(NAME_A)}&page=1"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers={"Referer": f"http://x/search?q={quote(ID_A)}"})
            assert conn.getresponse().status == 200
            conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    log = access.read_text("utf-8")
    assert "/search" in log and "/api/v1/sessions/abc123/search" in log, f"no access log: {log!r}"
    leaked = [v for v in (ID_A, quote(ID_A), NAME_A, quote(NAME_A), "q=") if v in log]
    assert not leaked, f"the access log keeps the typed query: {leaked} in {log!r}"
