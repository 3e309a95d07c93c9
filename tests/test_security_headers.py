"""Guarantee: archive content is not cached, framed or sniffed, no script runs inline, and the
audit's client address cannot be forged with X-Forwarded-For (issue 9, item 6).

Every route that shows archive content (search results, page view, page image, export, look-up,
the audit pages) is requested as its real user and must carry the headers; the templates are
scanned for inline script, event handlers and inline style, which the CSP would block anyway.
"""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import select

from search_app.audit.models import AuditRecord
from search_app.db import get_session
from tests.conftest import image_url, login, meta

pytestmark = pytest.mark.integration
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DOC = "HD-0001#p0001"


def _check(resp, what: str) -> None:
    h = resp.headers
    csp = h.get("Content-Security-Policy", "")
    problems = []
    if "script-src 'self'" not in csp or "unsafe-inline" in csp:
        problems.append(f"CSP allows inline script or is missing: {csp!r}")
    if "frame-ancestors 'none'" not in csp:
        problems.append("CSP lacks frame-ancestors 'none' (the page can be framed)")
    if h.get("X-Content-Type-Options") != "nosniff":
        problems.append("no X-Content-Type-Options: nosniff")
    if h.get("Referrer-Policy") != "no-referrer":
        problems.append(f"Referrer-Policy is {h.get('Referrer-Policy')!r}")
    if "no-store" not in h.get("Cache-Control", ""):
        problems.append(f"archive content cacheable: Cache-Control {h.get('Cache-Control')!r}")
    assert not problems, f"{what} ({resp.status_code}): " + "; ".join(problems)


@pytest.fixture()
def page(ingest):
    progress, _ = ingest([meta("HD-0001", fmt="png", pages=[["响应头测试页面", "登记单位 海淀分局"]])])
    assert progress.files_failed == 0, progress.errors


def test_every_archive_route_sends_the_headers(app, ctx, page, make_user, make_grant):
    staff = make_user("staff")
    grant = make_grant(staff, allow_lookup=True)
    client = app.test_client()
    login(client, staff.username)
    form = {"grant_id": grant.id, "purpose": "核实"}
    for what, resp in [
        ("search form", client.get("/search")),
        ("search results", client.post("/search", follow_redirects=True, data={**form, "q": "响应头测试"})),
        ("page view", client.post(f"/pages/{quote(DOC)}", data=form)),
        ("page image", client.get(image_url(client, DOC, grant.id))),
        ("search export", client.post("/search/export", data={**form, "q": "响应头测试"})),
        ("look-up form", client.get("/lookup")),
        ("look-up", client.post("/lookup", data={**form, "kind": "phone", "value": "13912345678"})),
        ("refused page view", client.post(f"/pages/{quote('NOPE#p0001')}", data=form)),
    ]:
        assert resp.status_code in (200, 403), f"{what}: {resp.status_code}"
        _check(resp, what)
    auditor = app.test_client()
    login(auditor, make_user("auditor").username)
    for url in ("/audit/", "/audit/export.csv", f"/audit/users/{staff.username}",
                "/audit/anomalies", "/audit/?verify=1"):
        resp = auditor.get(url)
        assert resp.status_code == 200, f"{url}: {resp.status_code}"
        _check(resp, url)
    _check(app.test_client().get("/login"), "login page")


def test_static_files_may_be_cached_but_keep_nosniff(app):
    resp = app.test_client().get("/static/style.css")
    assert resp.status_code == 200 and "no-store" not in resp.headers.get("Cache-Control", "")
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "inline event handler"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"\sstyle\s*=", re.I), "inline style attribute (blocked by style-src 'self')"),
    (re.compile(r"<style", re.I), "inline <style> element"),
]


def test_no_template_contains_inline_script_or_handlers():
    found = []
    for path in sorted(TEMPLATES.glob("*.html")):
        text = path.read_text("utf-8")
        for pattern, label in INLINE:
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.name}:{line}: {label}: {m.group(0)!r}")
    assert not found, "the CSP would block (or the template relies on) inline code:\n" + "\n".join(found)


@pytest.fixture()
def make_app(app, settings):
    """Another app over the same database with other settings (restores the session app's
    Celery app afterwards, like tests/test_accounts.py)."""
    from search_app import create_app

    yield lambda **overrides: create_app({**settings, **overrides})
    app.extensions["celery"].set_current()
    app.extensions["celery"].set_default()


def _login_addr(app, username: str, *, peer: str, forwarded: str) -> str:
    resp = app.test_client().post("/login", data={"username": username, "password": "wrong-password"},
                                  headers={"X-Forwarded-For": forwarded},
                                  environ_base={"REMOTE_ADDR": peer})
    assert resp.status_code == 401
    return get_session().execute(select(AuditRecord.client_addr).where(
        AuditRecord.username == username).order_by(AuditRecord.seq.desc())).scalars().first()


def test_forwarded_for_is_trusted_only_from_configured_proxies(make_app, ctx, make_user):
    """PROXY_HOPS=1 used to take X-Forwarded-For from any client that reached the port."""
    proxied = make_app(PROXY_HOPS=1, TRUSTED_PROXIES="127.0.0.1,10.0.0.0/24")
    user = make_user("staff")
    spoofed = _login_addr(proxied, user.username, peer="198.51.100.9", forwarded="203.0.113.66")
    assert spoofed == "198.51.100.9", \
        f"SPOOFED: a client not among TRUSTED_PROXIES wrote {spoofed!r} into the audit record"
    via_proxy = _login_addr(proxied, user.username, peer="10.0.0.5", forwarded="203.0.113.7")
    assert via_proxy == "203.0.113.7", "behind a trusted proxy the record must name the client"
    # A client that prepends its own entry is still named by what our proxy appended.
    chained = _login_addr(proxied, user.username, peer="10.0.0.5",
                          forwarded="192.0.2.1, 203.0.113.8")
    assert chained == "203.0.113.8", f"SPOOFED: the client-supplied entry {chained!r} was used"
    garbage = _login_addr(proxied, user.username, peer="10.0.0.5", forwarded="<script>")
    assert garbage == "10.0.0.5", f"a malformed X-Forwarded-For was recorded: {garbage!r}"
    unconfigured = make_app(PROXY_HOPS=1)  # hops without addresses: nothing is trusted
    addr = _login_addr(unconfigured, user.username, peer="10.0.0.5", forwarded="203.0.113.9")
    assert addr == "10.0.0.5", f"SPOOFED: X-Forwarded-For {addr!r} trusted with no TRUSTED_PROXIES"


def test_trusted_proxies_setting_is_validated(settings):
    from search_app.config import ConfigError, load_settings

    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings(env={}, overrides={**settings, "TRUSTED_PROXIES": "10.0.0.1,proxy.local"})


def test_compose_does_not_publish_the_web_port():
    import yaml

    compose = yaml.safe_load((TEMPLATES.parent / "docker-compose.yml").read_text("utf-8"))
    published = {name: svc["ports"] for name, svc in compose["services"].items()
                 if name == "web" and svc.get("ports")}
    assert not published, f"the web port is published {published}: clients could bypass the proxy"
