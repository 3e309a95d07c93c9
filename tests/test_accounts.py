"""Accounts against the real app and database: login delays, lifting them, idle timeout, logout everywhere,
sessions ended by the security admin, cookie flags and the client address behind a proxy.
Each failure message names the guarantee that broke."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from search_app import create_app
from search_app.accounts.models import LoginThrottle
from search_app.accounts.services import issue_api_token
from search_app.audit.models import AuditRecord
from search_app.db import get_session
from tests.conftest import PASSWORD, login, reloaded_user, signed_in

pytestmark = pytest.mark.integration
WRONG = "not-the-password"


def _login_records(username: str) -> list[AuditRecord]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(AuditRecord).where(AuditRecord.username == username,
                                                          AuditRecord.action == "auth.login")
                                .order_by(AuditRecord.seq)).scalars())


def _admin_client(app, make_user):
    admin = make_user("security_admin")
    client = app.test_client()
    assert login(client, admin.username).status_code == 302
    return admin, client


def _login_at(app, addr: str, username: str, password: str = PASSWORD, client=None):
    """A login from a given client address (each failure-heavy test has its own, so the
    per-address delay of one test does not reach the next)."""
    return (client or app.test_client()).post(
        "/login", data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": addr})


def _pair_failures(username: str, addr: str) -> tuple[int, object]:
    """(failures, next_at) of the typed name at this address (the test client's address)."""
    from search_app.accounts import throttle
    session = get_session()
    session.expire_all()
    row = session.get(LoginThrottle, throttle.keys_for(username, addr)[1].id)
    return (row.failures, row.next_at) if row is not None else (0, None)


def test_failures_delay_even_the_right_password_until_the_delay_has_passed(app, ctx, make_user):
    """No lock-out (anyone could keep an account locked): after LOGIN_MAX_FAILURES wrong
    passwords the next attempt is refused unchecked until 2 s have passed, then checked."""
    user = make_user("staff")
    n = ctx.config["LOGIN_MAX_FAILURES"]
    for attempt in range(1, n + 1):
        # A new client each time: the counter lives in the database, not in a cookie.
        resp = _login_at(app, "192.0.2.11", user.username, WRONG)
        assert resp.status_code == 401, f"wrong password #{attempt} was not refused"
        assert "用户名或密码错误" in resp.get_data(as_text=True)
        failures, next_at = _pair_failures(user.username, "192.0.2.11")
        assert failures == attempt, f"failure counter lost between requests: {failures} != {attempt}"
        assert (next_at is not None) == (attempt == n), \
            f"after {attempt} failures next_at={next_at} (delay starts at {n})"
    resp = _login_at(app, "192.0.2.11", user.username)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 401 and "请稍后再试" in body, \
        "LEAK: the right password was checked (and logged in) during the delay"
    assert not signed_in(app.test_client())

    records = _login_records(user.username)
    assert len(records) == n + 1, f"expected {n + 1} audited login attempts, got {len(records)}"
    assert all(r.outcome == "denied" for r in records), "a refused login was audited as allowed"
    for attempt, rec in enumerate(records[:n], start=1):
        assert f"连续第 {attempt} 次" in rec.reason, f"attempt {attempt} reason: {rec.reason!r}"
    assert "等待" in records[n - 1].reason, "the attempt that starts the delay does not say so"
    assert records[n].reason.startswith("登录尝试过多"), f"throttled reason: {records[n].reason!r}"

    time.sleep(2.2)  # the first delay is 2 s (ThrottlePolicy.delay)
    client = app.test_client()
    assert _login_at(app, "192.0.2.11", user.username, client=client).status_code == 302, \
        "the right password does not work once the delay has passed (that is a lock-out)"
    assert signed_in(client)
    assert _pair_failures(user.username, "192.0.2.11") == (0, None), \
        "a successful login kept the failures"


def test_parallel_guesses_cannot_outrun_the_delay(app, ctx, make_user):
    """24 wrong passwords at once: LOGIN_MAX_FAILURES of them are checked, plus one per delay
    (2 s, then 4 s, …) that ran out while the batch was still running - never two checks on
    the same count (a race would let parallel guesses share one)."""
    user = make_user("staff")
    n = ctx.config["LOGIN_MAX_FAILURES"]

    def attempt(_: int) -> int:
        return _login_at(app, "192.0.2.12", user.username, WRONG).status_code

    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(attempt, range(24)))
    elapsed = time.monotonic() - started
    assert codes == [401] * 24
    reasons = [r.reason for r in _login_records(user.username)]
    checked = [r for r in reasons if r.startswith("用户名或密码错误")]
    assert len(reasons) == 24, f"{24 - len(reasons)} attempts were not audited"
    counts = sorted(int(r.split("连续第 ")[1].split(" 次")[0]) for r in checked)
    assert counts == list(range(1, len(checked) + 1)), \
        f"LEAK: parallel guesses were checked under the same count: {counts}"
    windows, waited = 0, 2
    while waited <= elapsed:  # delays that ran out during the batch
        windows, waited = windows + 1, waited + 2 ** (windows + 2)
    assert len(checked) <= n + windows, \
        (f"LEAK: {len(checked)} parallel password guesses were checked in {elapsed:.1f} s, "
         f"the limit is {n} plus {windows} expired delay(s): {checked}")
    failures, next_at = _pair_failures(user.username, "192.0.2.12")
    assert next_at is not None and failures == len(checked), \
        f"LEAK: parallel guesses were not all counted / never delayed ({failures}, {next_at})"


def test_unknown_user_failures_are_audited_without_revealing_the_user(app, ctx):
    resp = login(app.test_client(), "no-such-user-xyz", WRONG)
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    rec = _login_records("no-such-user-xyz")[-1]
    assert (rec.outcome, rec.user_id, rec.reason) == ("denied", None, "用户名或密码错误")


def test_security_admin_lifts_the_delay(app, ctx, make_user):
    user = make_user("staff")
    for _ in range(ctx.config["LOGIN_MAX_FAILURES"]):
        _login_at(app, "192.0.2.13", user.username, WRONG)
    assert _login_at(app, "192.0.2.13", user.username).status_code == 401, \
        "no delay after the failures"
    _, admin = _admin_client(app, make_user)
    listing = admin.get("/admin/users").get_data(as_text=True)
    row = listing[listing.index(f">{user.username}<"):].split("</tr>")[0]
    assert "登录限速" in row, "the user list does not show the delay"
    resp = admin.post(f"/admin/users/{user.id}/action", data={"action": "unlock"})
    assert resp.status_code == 302
    assert _pair_failures(user.username, "192.0.2.13") == (0, None), "unlock left the delay in place"
    client = app.test_client()
    assert _login_at(app, "192.0.2.13", user.username, client=client).status_code == 302, \
        "lifting did not re-enable login"
    assert signed_in(client)
    session = get_session()
    rec = session.execute(select(AuditRecord).where(AuditRecord.action == "user.unlock")
                          .order_by(AuditRecord.seq.desc())).scalars().first()
    assert rec is not None and rec.filters["target"] == user.username, "unlock was not audited"


def test_idle_session_times_out_on_the_server(app, ctx, make_user):
    user = make_user("staff")
    client = app.test_client()
    login(client, user.username)
    assert signed_in(client)
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - ctx.config["SESSION_MINUTES"] * 60 - 5
    resp = client.get("/grants/")
    assert resp.status_code == 302 and "/login" in resp.location, \
        "LEAK: a session idle longer than SESSION_MINUTES was still accepted"
    page = client.get(resp.location).get_data(as_text=True)
    assert "会话已超时" in page, "the login page does not say the session timed out"
    assert not signed_in(client), "the timed-out session came back"


def test_activity_keeps_the_session_alive(app, ctx, make_user):
    user = make_user("staff")
    client = app.test_client()
    login(client, user.username)
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - ctx.config["SESSION_MINUTES"] * 60 + 30
    assert signed_in(client), "a session active within SESSION_MINUTES was ended"
    with client.session_transaction() as sess:
        assert time.time() - sess["seen"] < 10, "a request did not refresh the idle clock"


def test_logout_all_ends_other_browsers(app, ctx, make_user):
    user = make_user("staff")
    laptop, desktop = app.test_client(), app.test_client()
    login(laptop, user.username)
    login(desktop, user.username)
    assert signed_in(laptop) and signed_in(desktop)
    resp = desktop.post("/logout-all")
    assert resp.status_code == 302 and "/login" in resp.location
    assert not signed_in(laptop), "LEAK: /logout-all left another browser's session working"
    assert not signed_in(desktop)
    fresh = app.test_client()
    assert login(fresh, user.username).status_code == 302 and signed_in(fresh), \
        "a new login after logout-all does not work"


@pytest.mark.parametrize("change", ["role", "disable"])
def test_admin_change_ends_sessions_and_clears_the_api_token(change, app, ctx, make_user):
    user = make_user("staff")
    token = issue_api_token(get_session(), user)
    get_session().commit()
    bearer = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    login(client, user.username)
    assert signed_in(client)
    assert app.test_client().get("/api/v1/grants", headers=bearer).status_code == 200
    _, admin = _admin_client(app, make_user)
    form = {"roles": ["staff", "approver"] if change == "role" else ["staff"],
            "unit": user.unit, "display_name": user.display_name}
    if change == "role":
        form["enabled"] = "on"
    resp = admin.post(f"/admin/users/{user.id}", data=form)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-500:]
    if change == "role":  # dual control: takes effect when a second security admin confirms
        from tests.test_admin_views import confirm_pending
        confirm_pending(app, make_user, user)
    after = reloaded_user(user.id)
    assert after.role == ("staff,approver" if change == "role" else "staff")
    assert after.is_enabled == (change == "role")
    assert not signed_in(client), f"LEAK: the session survived the security admin's {change}"
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
