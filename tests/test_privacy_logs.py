"""The web server's access log holds no query string: the reading session's search is a GET
(`/search?s=…&q=…`, bookmarkable, as is the API's `/sessions/<id>/search?q=…`), and readers type
ID numbers, phones and names as queries. A real gunicorn with the project's gunicorn.conf.py and
an access log serves the request; the test names the value the log kept."""
from __future__ import annotations

import http.client
from urllib.parse import quote

from tests.privacy_data import ID_A, NAME_A
from tests.tiny_gunicorn import tiny_gunicorn


def test_the_access_log_keeps_no_query_string(tmp_path):
    access = tmp_path / "access.log"
    with tiny_gunicorn(tmp_path, "--access-logfile", str(access)) as port:
        for path in (f"/search?s=abc123&q={quote(ID_A)}",
                     f"/api/v1/sessions/abc123/search?q={quote(NAME_A)}&page=1"):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", path, headers={"Referer": f"http://x/search?q={quote(ID_A)}"})
            assert conn.getresponse().status == 200
            conn.close()
    log = access.read_text("utf-8")
    assert "/search" in log and "/api/v1/sessions/abc123/search" in log, f"no access log: {log!r}"
    leaked = [v for v in (ID_A, quote(ID_A), NAME_A, quote(NAME_A), "q=") if v in log]
    assert not leaked, f"the access log keeps the typed query: {leaked} in {log!r}"
