"""Accounts against the real app and database: lockout, unlock, idle timeout, logout everywhere,
sessions ended by the security admin, cookie flags and the client address behind a proxy.
Each failure message names the guarantee that broke."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from search_app import create_app
from search_app.accounts.models import User
from search_app.accounts.services import issue_api_token
from search_app.audit.models import AuditRecord
from search_app.db import get_session
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.integration
WRONG = "not-the-password"


def _user(user_id: int) -> User:
    session = get_session()
    session.expire_all()
    return session.get(User, user_id)


def _login_records(username: str) -> list[AuditRecord]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(AuditRecord).where(AuditRecord.username == username,
                                                          AuditRecord.action == "auth.login")
                                .order_by(AuditRecord.seq)).scalars())


def _signed_in(client) -> bool:
    """A page only a signed-in user reaches; a redirect to /login means the session is gone."""
    resp = client.get("/grants/")
    if resp.status_code == 302 and "/login" in resp.location:
        return False
    assert resp.status_code == 200, f"/grants/ answered {resp.status_code}"
    return True


def _admin_client(app, make_user):
    admin = make_user("security_admin")
    client = app.test_client()
    assert login(client, admin.username).status_code == 302
    return admin, client


def test_lockout_after_max_failures_refuses_even_the_right_password(app, ctx, make_user):
    user = make_user("staff")
    n = ctx.config["LOGIN_MAX_FAILURES"]
    for attempt in range(1, n + 1):
        # A new client each time: the counter lives in the database, not in a cookie.
        resp = login(app.test_client(), user.username, WRONG)
        assert resp.status_code == 401, f"wrong password #{attempt} was not refused"
        locked = _user(user.id).locked_until
        assert (locked is not None) == (attempt == n), \
            f"after {attempt} failures locked_until={locked} (limit {n})"
        if attempt < n:
            assert _user(user.id).failed_logins == attempt, "failure counter lost between requests"
    resp = login(app.test_client(), user.username, PASSWORD)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 401 and "账号已锁定" in body, \
        "LEAK: the right password logged in to a locked account"
    assert not _signed_in(app.test_client())

    records = _login_records(user.username)
    assert len(records) == n + 1, f"expected {n + 1} audited login attempts, got {len(records)}"
    assert all(r.outcome == "denied" for r in records), "a refused login was audited as allowed"
    for attempt, rec in enumerate(records[:n], start=1):
        assert f"连续第 {attempt} 次" in rec.reason, f"attempt {attempt} reason: {rec.reason!r}"
    assert "账号锁定" in records[n - 1].reason, "the locking attempt does not say the account was locked"
    assert records[n].reason == "账号已锁定", f"locked refusal reason: {records[n].reason!r}"


def test_parallel_guesses_cannot_outrun_the_lockout(app, ctx, make_user):
    """24 wrong passwords at once: at most LOGIN_MAX_FAILURES of them are checked at all."""
    user = make_user("staff")
    n = ctx.config["LOGIN_MAX_FAILURES"]

    def attempt(_: int) -> int:
        return login(app.test_client(), user.username, WRONG).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(24)))
    assert codes == [401] * 24
    reasons = [r.reason for r in _login_records(user.username)]
    checked = [r for r in reasons if r.startswith("用户名或密码错误")]
    assert len(reasons) == 24, f"{24 - len(reasons)} attempts were not audited"
    assert len(checked) <= n, \
        f"LEAK: {len(checked)} parallel password guesses were checked, the limit is {n}: {checked}"
    assert _user(user.id).locked_until is not None, "LEAK: parallel guesses never locked the account"
    assert "账号已锁定" in login(app.test_client(), user.username).get_data(as_text=True)


def test_unknown_user_failures_are_audited_without_revealing_the_user(app, ctx):
    resp = login(app.test_client(), "no-such-user-xyz", WRONG)
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    rec = _login_records("no-such-user-xyz")[-1]
    assert (rec.outcome, rec.user_id, rec.reason) == ("denied", None, "用户名或密码错误")


def test_security_admin_unlock_reenables_login(app, ctx, make_user):
    user = make_user("staff")
    for _ in range(ctx.config["LOGIN_MAX_FAILURES"]):
        login(app.test_client(), user.username, WRONG)
    assert login(app.test_client(), user.username).status_code == 401, "account did not lock"
    _, admin = _admin_client(app, make_user)
    listing = admin.get("/admin/users").get_data(as_text=True)
    row = listing[listing.index(f">{user.username}<"):].split("</tr>")[0]
    assert "锁定至" in row, "the user list does not show the lock"
    resp = admin.post(f"/admin/users/{user.id}/action", data={"action": "unlock"})
    assert resp.status_code == 302
    assert _user(user.id).locked_until is None
    client = app.test_client()
    assert login(client, user.username).status_code == 302, "unlock did not re-enable login"
    assert _signed_in(client)
    session = get_session()
    rec = session.execute(select(AuditRecord).where(AuditRecord.action == "user.unlock")
                          .order_by(AuditRecord.seq.desc())).scalars().first()
    assert rec is not None and rec.filters["target"] == user.username, "unlock was not audited"


def test_idle_session_times_out_on_the_server(app, ctx, make_user):
    user = make_user("staff")
    client = app.test_client()
    login(client, user.username)
    assert _signed_in(client)
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - ctx.config["SESSION_MINUTES"] * 60 - 5
    resp = client.get("/grants/")
    assert resp.status_code == 302 and "/login" in resp.location, \
        "LEAK: a session idle longer than SESSION_MINUTES was still accepted"
    page = client.get(resp.location).get_data(as_text=True)
    assert "会话已超时" in page, "the login page does not say the session timed out"
    assert not _signed_in(client), "the timed-out session came back"


def test_activity_keeps_the_session_alive(app, ctx, make_user):
    user = make_user("staff")
    client = app.test_client()
    login(client, user.username)
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - ctx.config["SESSION_MINUTES"] * 60 + 30
    assert _signed_in(client), "a session active within SESSION_MINUTES was ended"
    with client.session_transaction() as sess:
        assert time.time() - sess["seen"] < 10, "a request did not refresh the idle clock"


def test_logout_all_ends_other_browsers(app, ctx, make_user):
    user = make_user("staff")
    laptop, desktop = app.test_client(), app.test_client()
    login(laptop, user.username)
    login(desktop, user.username)
    assert _signed_in(laptop) and _signed_in(desktop)
    resp = desktop.post("/logout-all")
    assert resp.status_code == 302 and "/login" in resp.location
    assert not _signed_in(laptop), "LEAK: /logout-all left another browser's session working"
    assert not _signed_in(desktop)
    fresh = app.test_client()
    assert login(fresh, user.username).status_code == 302 and _signed_in(fresh), \
        "a new login after logout-all does not work"


def test_logout_ends_only_this_session(app, ctx, make_user):
    user = make_user("staff")
    one, two = app.test_client(), app.test_client()
    login(one, user.username)
    login(two, user.username)
    one.post("/logout")
    assert not _signed_in(one) and _signed_in(two)


@pytest.mark.parametrize("change", ["role", "disable"])
def test_admin_change_ends_sessions_and_clears_the_api_token(change, app, ctx, make_user):
    user = make_user("staff")
    token = issue_api_token(get_session(), user)
    get_session().commit()
    bearer = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    login(client, user.username)
    assert _signed_in(client)
    assert app.test_client().get("/api/v1/grants", headers=bearer).status_code == 200
    _, admin = _admin_client(app, make_user)
    form = {"roles": ["staff", "approver"] if change == "role" else ["staff"],
            "unit": user.unit, "display_name": user.display_name}
    if change == "role":
        form["enabled"] = "on"
    resp = admin.post(f"/admin/users/{user.id}", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-500:]
    after = _user(user.id)
    assert after.role == ("staff,approver" if change == "role" else "staff")
    assert after.is_enabled == (change == "role")
    assert not _signed_in(client), f"LEAK: the session survived the security admin's {change}"
    assert after.api_token_hash is None, f"LEAK: the API token survived the {change}"
    assert app.test_client().get("/api/v1/grants", headers=bearer).status_code == 401, \
        f"LEAK: the old API token still works after the {change}"
    relog = login(app.test_client(), user.username)
    if change == "disable":
        assert relog.status_code == 401 and "账号已停用" in relog.get_data(as_text=True), \
            "LEAK: a disabled account logged in"
    else:
        assert relog.status_code == 302, "the user cannot log in again under the new roles"


@pytest.fixture()
def make_app(app, settings):
    """Another app over the same database. Creating it makes its Celery app the thread's current
    one; restore the session app's afterwards, or later tests would queue tasks to the wrong
    app (test_ingest_views' jobs then stayed 'queued')."""
    yield lambda **overrides: create_app({**settings, **overrides})
    celery = app.extensions["celery"]
    celery.set_current()
    celery.set_default()


def _set_cookie(resp) -> str:
    cookies = [h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session=")]
    assert cookies, f"login set no session cookie: {resp.headers.getlist('Set-Cookie')}"
    return cookies[-1]


def test_session_cookie_flags(app, ctx, make_user):
    user = make_user("staff")
    cookie = _set_cookie(login(app.test_client(), user.username))
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs, f"session cookie readable by scripts: {cookie}"
    assert "samesite=lax" in attrs, f"session cookie without SameSite=Lax: {cookie}"
    assert "secure" not in attrs, "Secure set although SESSION_COOKIE_SECURE is false (http dev)"
    assert any(a.startswith("expires=") for a in attrs), "the cookie does not expire"


def test_session_cookie_secure_when_configured(make_app, ctx, make_user):
    user = make_user("staff")
    secure_app = make_app(SESSION_COOKIE_SECURE=True)
    cookie = _set_cookie(login(secure_app.test_client(), user.username))
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "secure" in attrs, f"LEAK: SESSION_COOKIE_SECURE=true but the cookie lacks Secure: {cookie}"
    assert "httponly" in attrs and "samesite=lax" in attrs, cookie


def _last_login_addr(username: str) -> str:
    return _login_records(username)[-1].client_addr


def test_proxy_hops_takes_the_forwarded_address(make_app, ctx, make_user):
    user = make_user("staff")
    proxied = make_app(PROXY_HOPS=1, TRUSTED_PROXIES="10.0.0.2")
    resp = proxied.test_client().post(
        "/login", data={"username": user.username, "password": PASSWORD},
        headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert resp.status_code == 302
    assert _last_login_addr(user.username) == "203.0.113.7", \
        "behind one proxy the audit record does not name the client"


def test_forged_forwarded_for_is_ignored_without_a_proxy(app, ctx, make_user):
    assert app.config["PROXY_HOPS"] == 0
    user = make_user("staff")
    resp = app.test_client().post(
        "/login", data={"username": user.username, "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.66"}, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert resp.status_code == 302
    assert _last_login_addr(user.username) == "10.9.8.7", \
        "LEAK: a forged X-Forwarded-For was written to the audit log as the client address"
