"""The web server keeps an idle connection open longer than its clients leave it idle.

bench/load.py lost 14 of 1 725 requests (status 0, `ConnectionResetError(104)`) to gunicorn's
default keep-alive of 2 s: its threaded worker closed connections the client was reusing after
up to 2 s of think time, and a request sent into a closing socket is answered with a TCP reset.
Here a real gunicorn with the project's gunicorn.conf.py and the threaded worker serves a minimal
WSGI app; one client connection is left idle for longer than the old keep-alive (and than the
load client's longest pause) and must still carry the next request. Also what the deployment
depends on: the setting outlasts Caddy's upstream idle timeout and the image carries the file.
"""
from __future__ import annotations

import http.client
import time
from pathlib import Path

from gunicorn.config import Config

from tests.tiny_gunicorn import tiny_gunicorn

ROOT = Path(__file__).resolve().parents[1]
CADDY_UPSTREAM_IDLE_S = 120  # caddy reverse_proxy http transport keep_alive.idle_timeout default
LOAD_CLIENT_MAX_PAUSE_S = 2.0  # bench/load.py: wait_time = between(0.5, 2.0)


def _project_config() -> Config:
    cfg = Config()
    namespace: dict = {}
    exec(compile((ROOT / "gunicorn.conf.py").read_text("utf-8"), "gunicorn.conf.py", "exec"),
         namespace)
    for name, value in namespace.items():
        if name in cfg.settings:
            cfg.set(name, value)
    return cfg


def test_keepalive_outlasts_the_proxy_and_the_load_clients():
    keepalive = _project_config().keepalive
    assert keepalive > CADDY_UPSTREAM_IDLE_S, (
        f"gunicorn keep-alive {keepalive} s <= the proxy's idle upstream connections "
        f"({CADDY_UPSTREAM_IDLE_S} s): the server closes connections the proxy still reuses")
    assert keepalive > 10 * LOAD_CLIENT_MAX_PAUSE_S, keepalive


def test_image_carries_the_gunicorn_config():
    dockerfile = (ROOT / "Dockerfile").read_text("utf-8")
    assert "COPY gunicorn.conf.py" in dockerfile, (
        "the image lacks gunicorn.conf.py: web would run with gunicorn's default timeout and "
        "keep-alive, not WEB_TIMEOUT_S and the keep-alive above")


def test_an_idle_kept_alive_connection_still_carries_the_next_request(tmp_path):
    idle = 2 * LOAD_CLIENT_MAX_PAUSE_S + 1  # past the old 2 s keep-alive, with margin
    try:
        with tiny_gunicorn(tmp_path, "--threads", "2", "--worker-class", "gthread") as port:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", "/")
            first = conn.getresponse()
            assert first.status == 200 and first.read() == b"ok"
            time.sleep(idle)
            sock = conn.sock  # http.client reconnects only if the socket is gone: check it is not
            conn.request("GET", "/")
            second = conn.getresponse()
            assert conn.sock is sock, "the client had to reconnect"
            assert second.status == 200 and second.read() == b"ok", second.status
            conn.close()
    except (ConnectionError, http.client.RemoteDisconnected) as exc:
        raise AssertionError(f"after {idle:.0f} s idle the server had closed the kept-alive "
                             f"connection: {exc!r} (what the load client got as status 0)") from exc
