"""Guarantee: sessions and tokens an attacker cannot keep, and login throttling that neither
locks the real user out nor tells which names exist (issue 9, item 5).

Each test replays the attack against the real app and database: a session cookie copied
before logout, an API token kept past 全部退出 / its expiry / a role change / a reset, a
stranger's wrong passwords against a real user's name, and user-name enumeration through the
login form's answers and timing. Failure messages name what was allowed.
"""
from __future__ import annotations

import re
import statistics
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from search_app.accounts.models import LoginThrottle, UserSession
from search_app.accounts.services import issue_api_token
from search_app.accounts.throttle import keys_for
from search_app.db import get_session
from search_app.timeutil import utcnow
from tests.conftest import PASSWORD, audit_records, login, reloaded_user, signed_in
from tests.test_admin_views import confirm_pending

pytestmark = pytest.mark.integration
WRONG = "not-the-password"


@pytest.fixture()
def clock(monkeypatch):
    """The login check's clock, frozen (advance it by assigning clock[0]): a delay of 2 s must
    not run out merely because the shared test machine is slow between two requests."""
    now = [utcnow()]
    monkeypatch.setattr("search_app.accounts.services.utcnow", lambda: now[0])
    return now


def _at(app, addr: str, username: str, password: str = PASSWORD, client=None):
    return (client or app.test_client()).post(
        "/login", data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": addr})


def _message(resp) -> str:
    """The flashed answer of the login page, and the status."""
    flashes = re.findall(r'class="flash[^"]*"[^>]*>([^<]+)<', resp.get_data(as_text=True))
    return f"{resp.status_code} {' | '.join(f.strip() for f in flashes)}"


# --- sessions ---------------------------------------------------------------------------------

def test_cookie_copied_before_logout_is_refused_afterwards(app, ctx, make_user):
    user = make_user("staff")
    browser = app.test_client()
    assert login(browser, user.username).status_code == 302
    stolen = browser.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert signed_in(thief), "the copied cookie did not work even before logout (test is void)"
    assert browser.post("/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert not signed_in(replay), \
        f"LEAK: a session cookie copied before POST /logout still signs in as {user.username}"
    session = get_session()
    session.expire_all()
    rows = session.execute(select(UserSession).where(UserSession.user_id == user.id)).scalars().all()
    assert [(r.ended_at is not None, r.end_reason) for r in rows] == [(True, "logout")], \
        f"the server session row was not ended by logout: {[(r.ended_at, r.end_reason) for r in rows]}"
    assert audit_records("auth.logout", user_id=user.id), "logout was not audited"


def test_cookie_copied_before_a_password_reset_is_refused(app, ctx, make_user, admin):
    user = make_user("staff")
    browser = app.test_client()
    login(browser, user.username)
    stolen = browser.get_cookie("session").value
    _, sec = admin
    assert sec.post(f"/admin/users/{user.id}/action",
                    data={"action": "reset_password", "password": "brand-new-pass-1"}).status_code == 302
    confirm_pending(app, make_user, user)  # dual control: the reset acts once confirmed
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert not signed_in(replay), "LEAK: a cookie copied before the reset still works"


def test_logout_ends_only_that_server_session(app, ctx, make_user):
    user = make_user("staff")
    one, two = app.test_client(), app.test_client()
    login(one, user.username)
    login(two, user.username)
    one.post("/logout")
    assert not signed_in(one) and signed_in(two), "logout in one browser ended another"


# --- API tokens -------------------------------------------------------------------------------

def _grants(app, token: str) -> int:
    return app.test_client().get("/api/v1/grants",
                                 headers={"Authorization": f"Bearer {token}"}).status_code


@pytest.mark.parametrize("attack", ["logout_all", "expiry", "role_change", "reset", "end_sessions"])
def test_api_token_ends(attack, app, ctx, make_user, admin):
    user = make_user("staff")
    token = issue_api_token(get_session(), user)
    get_session().commit()
    assert _grants(app, token) == 200, "a fresh token does not work (test is void)"
    _, sec = admin
    if attack == "logout_all":
        browser = app.test_client()
        login(browser, user.username)
        assert browser.post("/logout-all").status_code == 302
    elif attack == "expiry":
        row = reloaded_user(user.id)
        assert abs(row.api_token_expires_at - (utcnow() + timedelta(days=app.config["API_TOKEN_DAYS"]))) \
            < timedelta(minutes=1), f"token expiry {row.api_token_expires_at} is not API_TOKEN_DAYS away"
        row.api_token_expires_at = utcnow() - timedelta(seconds=1)  # the days have passed
        get_session().commit()
    elif attack == "role_change":
        resp = sec.post(f"/admin/users/{user.id}", data={
            "roles": ["staff", "approver"], "unit": user.unit, "display_name": user.display_name,
            "enabled": "on"})
        assert resp.status_code == 302
        confirm_pending(app, make_user, user)  # dual control: a second security admin confirms
        assert reloaded_user(user.id).role == "staff,approver"
    elif attack == "reset":
        assert sec.post(f"/admin/users/{user.id}/action",
                        data={"action": "reset_password", "password": "brand-new-pass-1"}).status_code == 302
        confirm_pending(app, make_user, user)
    else:
        assert sec.post(f"/admin/users/{user.id}/action",
                        data={"action": "end_sessions"}).status_code == 302
    assert _grants(app, token) == 401, f"LEAK: the API token still works after {attack}"


def test_token_is_bound_to_the_session_epoch_not_only_to_its_hash(app, ctx, make_user):
    """Any path that ends the user's sessions ends the token, even one that forgets the hash."""
    user = make_user("staff")
    token = issue_api_token(get_session(), user)
    get_session().commit()
    row = reloaded_user(user.id)
    row.session_epoch += 1  # e.g. a future code path that only bumps the epoch
    get_session().commit()
    assert _grants(app, token) == 401, "LEAK: a token issued under an ended epoch still works"


# --- throttling: lock-out DoS -------------------------------------------------------------------

def test_strangers_failures_cannot_keep_the_real_user_out(app, ctx, make_user, clock):
    user = make_user("staff")
    desk, attacker, botnet = "10.20.30.40", "198.51.100.7", "198.51.100.8"
    client = app.test_client()
    assert _at(app, desk, user.username, client=client).status_code == 302  # the user's usual desk
    client.post("/logout")
    for n in range(40):
        resp = _at(app, attacker if n < 30 else botnet, user.username, WRONG)
        assert resp.status_code == 401
    assert "请稍后再试" in _at(app, attacker, user.username, WRONG).get_data(as_text=True), \
        "the attacker's address is not being delayed at all"
    own = app.test_client()
    resp = _at(app, desk, user.username, client=own)
    assert resp.status_code == 302 and signed_in(own), \
        (f"LOCK-OUT: after 40 wrong passwords from other addresses the real user cannot sign in "
         f"from their own desk: {_message(resp)}")
    # and the attacker's guesses did get slower: most were refused unchecked
    checked = [r for r in audit_records("auth.login", username=user.username)
               if r.reason.startswith("用户名或密码错误")]
    assert len(checked) <= 2 * app.config["LOGIN_MAX_FAILURES"] + 2, \
        f"LEAK: {len(checked)} of 41 guesses were checked against the password"


def test_right_password_of_a_delayed_account_works_after_the_delay(app, ctx, make_user):
    """A user who never signed in before (no trusted address) is delayed, never locked."""
    user = make_user("staff")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        _at(app, "198.51.100.20", user.username, WRONG)
    refused = _at(app, "192.0.2.200", user.username)
    assert "请稍后再试" in refused.get_data(as_text=True), "no name-wide delay from a new address"
    time.sleep(2.2)
    assert _at(app, "192.0.2.200", user.username).status_code == 302, \
        "LOCK-OUT: the right password still refused after the delay ran out"


def test_one_address_spraying_many_names_is_delayed(app, ctx, clock):
    addr = "203.0.113.77"
    n = app.config["LOGIN_ADDR_MAX_FAILURES"]
    for i in range(n):
        _at(app, addr, f"spray-{uuid.uuid4().hex[:6]}-{i}", WRONG)
    resp = _at(app, addr, f"spray-{uuid.uuid4().hex[:6]}-new", WRONG)
    assert "请稍后再试" in resp.get_data(as_text=True), \
        f"LEAK: {n + 1} names guessed from one address without any delay"


# --- enumeration --------------------------------------------------------------------------------

def test_unknown_existing_and_delayed_names_get_the_same_answer(app, ctx, make_user, clock):
    real = make_user("staff").username
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    first = {name: _at(app, "192.0.2.50", name, WRONG) for name in (real, ghost)}
    assert _message(first[real]) == _message(first[ghost]) == "401 用户名或密码错误", \
        f"LEAK: existing and unknown names answer differently: {_message(first[real])!r} vs {_message(first[ghost])!r}"
    assert first[real].get_data(as_text=True).replace(real, "N") == \
        first[ghost].get_data(as_text=True).replace(ghost, "N"), "LEAK: the login pages differ"
    for name in (real, ghost):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            _at(app, "192.0.2.51", name, WRONG)
    delayed = {name: _at(app, "192.0.2.51", name, WRONG) for name in (real, ghost)}
    right = _at(app, "192.0.2.51", real)  # even the right password: no hint while delayed
    answers = {_message(delayed[real]), _message(delayed[ghost]), _message(right)}
    assert answers == {"401 登录尝试过多，请稍后再试"}, \
        f"LEAK: delayed existing / unknown / right-password answers differ: {answers}"
    clock[0] += timedelta(seconds=3)  # the delay ran out: checked again, alike for both
    again = {name: _message(_at(app, "192.0.2.51", name, WRONG)) for name in (real, ghost)}
    assert set(again.values()) == {"401 用户名或密码错误"}, f"LEAK: answers after the delay: {again}"


def test_unknown_and_existing_names_take_comparable_time(app, ctx, make_user):
    """Loose on purpose (a shared 2-core machine): the same order of magnitude, not a benchmark."""
    real = make_user("staff").username

    def timed(name: str, i: int) -> float:
        started = time.perf_counter()
        _at(app, f"192.0.2.{60 + i}", name, WRONG)
        return time.perf_counter() - started

    times = {"existing": [], "unknown": []}
    for i in range(4):
        times["existing"].append(timed(real, i))
        times["unknown"].append(timed(f"ghost-{uuid.uuid4().hex[:8]}", i))
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = max(med.values()) / min(med.values())
    assert ratio < 3, f"LEAK: answer time tells names apart: medians {med} (ratio {ratio:.1f})"


# --- the security admin sees and lifts delays, all audited ---------------------------------------

def test_security_admin_lists_and_lifts_delays(app, ctx, make_user, admin):
    user = make_user("staff")
    ghost = f"ghost-{uuid.uuid4().hex[:8]}"
    addr = "198.51.100.90"
    for name in (user.username, ghost):
        for _ in range(app.config["LOGIN_MAX_FAILURES"]):
            _at(app, addr, name, WRONG)
    throttled = audit_records("auth.login", username=user.username)
    assert all(r.outcome == "denied" and r.client_addr == addr for r in throttled) and \
        len(throttled) == app.config["LOGIN_MAX_FAILURES"], "failed attempts were not all audited"
    _, sec = admin
    page = sec.get("/admin/throttles").get_data(as_text=True)
    assert user.username in page and addr in page, "the throttled list does not show the user"
    assert ghost not in page and "（无此用户" in page, \
        "the admin list shows an unknown typed name (or no longer tells unknown names apart)"
    staff = app.test_client()
    login(staff, make_user("staff").username)
    assert staff.get("/admin/throttles").status_code == 403, "staff can read the throttled list"

    key = keys_for(user.username, addr)[1]
    assert sec.post("/admin/throttles/lift", data={"key": key.id}).status_code == 302
    assert get_session().get(LoginThrottle, key.id) is None, "lifting left the delay"
    lifted = audit_records("auth.throttle_lift")
    assert lifted and lifted[-1].filters["target"] == user.username \
        and lifted[-1].filters["scope"] == "pair" and "client_addr" in lifted[-1].filters, \
        f"lifting was not audited with its target: {lifted[-1].filters if lifted else None}"
    sec.post(f"/admin/users/{user.id}/action", data={"action": "unlock"})  # the name-wide key too
    assert _at(app, addr, user.username).status_code == 302, "login still delayed after lifting"


def test_failures_behind_the_same_address_do_not_keep_its_regular_users_out(app, ctx, make_user,
                                                                           clock):
    """One office NAT (or a proxy) address: others spraying names from it delay strangers
    there, never an account that signs in from it regularly."""
    nat = "198.51.100.150"
    regular = make_user("staff")
    client = app.test_client()
    assert _at(app, nat, regular.username, client=client).status_code == 302
    client.post("/logout")
    for i in range(app.config["LOGIN_ADDR_MAX_FAILURES"] + 5):
        _at(app, nat, f"typo-{uuid.uuid4().hex[:6]}-{i}", WRONG)
    newcomer = make_user("staff")
    assert "请稍后再试" in _at(app, nat, newcomer.username).get_data(as_text=True), \
        "the sprayed address is not delayed for names never seen there"
    resp = _at(app, nat, regular.username)
    assert resp.status_code == 302, f"LOCK-OUT: a regular user of the address is delayed: {_message(resp)}"


def test_forgotten_keys_are_purged(app, ctx):
    from search_app.accounts.throttle import ThrottlePolicy, purge
    session = get_session()
    key = keys_for(f"old-{uuid.uuid4().hex[:6]}", "192.0.2.99")[0]
    session.add(LoginThrottle(key=key.id, scope=key.scope, username=key.username, failures=3,
                              last_failure_at=utcnow() - timedelta(hours=3)))
    session.commit()
    assert purge(session, ThrottlePolicy.from_config(app.config), utcnow()) >= 1
    assert session.get(LoginThrottle, key.id) is None, "a forgotten key was kept"
