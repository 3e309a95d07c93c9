"""A real gunicorn with the project's gunicorn.conf.py serving a two-byte WSGI app: for tests of
what the server itself does (keep-alive, the access log), not the product's app."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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


@contextmanager
def tiny_gunicorn(folder: Path, *args: str) -> Iterator[int]:
    """gunicorn (one worker, `args` on top of the project config) listening on the port yielded;
    stopped afterwards. Its output goes to `folder`/gunicorn.out, shown if it fails to start."""
    (folder / "tinyapp.py").write_text(APP, "utf-8")
    port, out = _free_port(), folder / "gunicorn.out"
    env = {**os.environ, "PYTHONPATH": f"{folder}{os.pathsep}{ROOT}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "--bind",
         f"127.0.0.1:{port}", "--workers", "1", *args, "tinyapp:app"],
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
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=60)
