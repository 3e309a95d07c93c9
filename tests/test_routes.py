"""Every route × every role → the expected status; a new route without a rule fails here."""
from __future__ import annotations

import pytest

from search_app import create_app
from search_app.permissions import ROLE_PERMISSIONS, Role
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.integration

LOGIN_ONLY = {"auth.logout", "auth.logout_all"}  # open to any signed-in user
SAMPLE_ARGS = {"job_id": 1, "username": "nobody", "user_id": 1, "grant_id": 1, "change_id": 1,
               "doc_id": "HJ-0000-0000#p0001", "sid": "AAAAAAAAAAAAAAAAAAAAAA",
               "kind": "no-such-list", "entry_id": 1,  # catalogue: refused, changes nothing
               "scope_id": 1, "request_id": 1}


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        view = app.view_functions[rule.endpoint]
        method = "POST" if "POST" in rule.methods and "GET" not in rule.methods else "GET"
        yield rule, view, method


def test_every_route_declares_its_rule(app):
    for rule, view, _ in _routes(app):
        declared = (getattr(view, "required_permission", None) or getattr(view, "is_public", False)
                    or getattr(view, "any_signed_in", False) or rule.endpoint in LOGIN_ONLY)
        assert declared, f"route {rule.rule} ({rule.endpoint}) has no permission rule"


def test_anonymous_requests_are_refused(app):
    client = app.test_client()
    for rule, view, method in _routes(app):
        if getattr(view, "is_public", False):
            continue
        url = rule.build(SAMPLE_ARGS, append_unknown=False)[1]
        resp = client.open(url, method=method)
        if rule.rule.startswith("/api/"):
            assert resp.status_code == 401 and resp.is_json, f"{url}: {resp.status_code}"
        else:
            assert resp.status_code == 302 and "/login" in resp.location, f"{url}: {resp.status_code}"


@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(role, app, ctx, make_user):
    user = make_user(role.value)
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    for rule, view, method in _routes(app):
        if rule.rule.startswith("/api/") or getattr(view, "is_public", False) or rule.endpoint in LOGIN_ONLY:
            continue
        perm = view.required_permission
        resp = client.open(rule.build(SAMPLE_ARGS, append_unknown=False)[1], method=method)
        if perm in ROLE_PERMISSIONS[role]:  # a read refused for want of a grant is not a role refusal
            refused = resp.status_code == 403 and perm.value in resp.get_data(as_text=True)
            assert not refused, f"{role} refused {rule.rule}"
        else:
            assert resp.status_code == 403, f"{role} reached {rule.rule} without {perm}"
            assert perm.value in resp.get_data(as_text=True), "the refusal must say which permission"


def test_auditor_cannot_search_archives(app, ctx, make_user):
    auditor = make_user("auditor")
    client = app.test_client()
    login(client, auditor.username)
    resp = client.post("/search", data={"grant_id": 1, "purpose": "x", "q": "档案"})
    assert resp.status_code == 403


def test_wrong_password_is_refused_and_audited(app, ctx, make_user):
    from sqlalchemy import select

    from search_app.audit.models import AuditRecord
    from search_app.db import get_session

    user = make_user("staff")
    resp = login(app.test_client(), user.username, "wrong-password")
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    rec = get_session().execute(select(AuditRecord).order_by(AuditRecord.seq.desc())).scalars().first()
    assert (rec.action, rec.outcome, rec.username) == ("auth.login", "denied", user.username)


def test_login_does_not_redirect_off_site(app, ctx, make_user):
    user = make_user("staff")
    resp = app.test_client().post("/login?next=//evil.example/x",
                                  data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302 and "evil.example" not in resp.location


def test_api_ignores_the_session_cookie(app, ctx, make_user):
    user = make_user("staff")
    client = app.test_client()
    login(client, user.username)
    assert client.get("/api/v1/grants").status_code == 401
    bad = client.get("/api/v1/grants", headers={"Authorization": "Bearer ast_not-a-token"})
    assert bad.status_code == 401 and "令牌" in bad.get_json()["message"]


def test_forms_require_a_csrf_token(settings, services):
    app = create_app({**settings, "WTF_CSRF_ENABLED": True})
    resp = app.test_client().post("/login", data={"username": "x", "password": "y"})
    assert resp.status_code == 400 and "CSRF" in resp.get_data(as_text=True)


@pytest.mark.parametrize("target", ["//evil.example/x", "/\t/evil.example/x", "https://evil.example",
                                    "/\\evil.example", " //evil.example"])
def test_login_next_never_leaves_the_site(target, app, ctx, make_user):
    user = make_user("staff")
    resp = app.test_client().post("/login", query_string={"next": target},
                                  data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302 and "evil.example" not in resp.location, resp.location


def test_role_refusals_are_audited(app, ctx, make_user):
    from sqlalchemy import select

    from search_app.audit.models import AuditRecord
    from search_app.db import get_session

    auditor = make_user("auditor")
    client = app.test_client()
    login(client, auditor.username)
    client.get("/search")
    rec = get_session().execute(select(AuditRecord).order_by(AuditRecord.seq.desc())).scalars().first()
    assert (rec.username, rec.outcome, rec.action) == (auditor.username, "denied", "route:search.search")


# The ingest UI (records managers = system_admin with ingest:jobs:run): what each role gets.
INGEST_ROUTES = [("GET", "/ingest/", 200), ("GET", "/ingest/new", 200),
                 ("POST", "/ingest/new", 400),  # an empty upload: refused with the reasons
                 ("GET", "/ingest/jobs/999999", 404), ("GET", "/ingest/jobs/999999/progress.json", 404),
                 ("GET", "/ingest/review", 200), ("POST", "/ingest/review/mark", 400)]


@pytest.mark.parametrize("role", list(Role))
def test_ingest_routes_per_role(role, app, ctx, make_user):
    client = app.test_client()
    login(client, make_user(role.value).username)
    for method, url, admin_status in INGEST_ROUTES:
        resp = client.open(url, method=method)
        expected = admin_status if role == Role.SYSTEM_ADMIN else 403
        assert resp.status_code == expected, f"{role} {method} {url}: {resp.status_code}, expected {expected}"
    nav = client.get("/grants/" if role == Role.STAFF else "/ingest/").get_data(as_text=True)
    assert ("/ingest/review" in nav) == (role == Role.SYSTEM_ADMIN), f"{role}: ingest nav link"
