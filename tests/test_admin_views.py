"""The security admin's user management through the UI: identities become blind-index hashes at
once (no raw ID number in the users table, the audit log or the database file), bad numbers are
refused with a reason, a relative's file is excluded from the user's searches end to end, a
password reset ends sessions, and the list shows who is locked or disabled."""
from __future__ import annotations

import random
import subprocess
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from search_app.accounts.models import User
from search_app.audit.models import AuditRecord
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.timeutil import utcnow
from tests.conftest import PASSWORD, login, meta

pytestmark = pytest.mark.integration
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def new_id(region: str = "110108") -> str:
    """A fresh valid 18-digit ID number (GB 11643 check digit), unique to this test run."""
    rnd = random.Random(uuid.uuid4().int)
    body = f"{region}{rnd.randint(1950, 2000)}{rnd.randint(1, 12):02d}{rnd.randint(1, 28):02d}{rnd.randint(0, 999):03d}"
    return body + _CHECK[sum(int(d) * w for d, w in zip(body, _WEIGHTS)) % 11]


def _broken(id_number: str) -> str:
    """Same number with a wrong check digit."""
    wrong = [c for c in _CHECK if c != id_number[-1]][0]
    return id_number[:-1] + wrong


def confirm_pending(app, make_user, user: User) -> None:
    """A second security admin confirms every change waiting on `user` (dual control)."""
    from search_app.accounts.dual_control import pending_of

    second = app.test_client()
    assert login(second, make_user("security_admin").username).status_code == 302
    changes = pending_of(get_session(), user)
    assert changes, f"nothing is waiting for confirmation on {user.username}"
    for change in changes:
        resp = second.post(f"/admin/pending/{change.id}", data={"decision": "confirm"})
        assert resp.status_code == 303, resp.get_data(as_text=True)[-500:]
    get_session().expire_all()


def _by_name(username: str) -> User | None:
    session = get_session()
    session.expire_all()
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def _rows_text(table: str) -> str:
    rows = get_session().execute(text(f"SELECT * FROM {table}")).all()  # noqa: S608 (fixed names)
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def _db_bytes(app) -> bytes:
    """Everything the database holds, as bytes: the SQLite file and its WAL, or on PostgreSQL
    (TEST_DATABASE=postgresql) a plain pg_dump of the whole database."""
    url = app.config["DATABASE_URL"]
    if not url.startswith("sqlite:///"):
        from sqlalchemy.engine import make_url

        from search_app.backup._database import _pg_args
        parsed = make_url(url)
        args, env = _pg_args(parsed)
        dump = subprocess.run(["pg_dump", "-Fp", *args, parsed.database], env=env,
                              capture_output=True, check=True)
        assert b"COPY public.users" in dump.stdout, "pg_dump did not dump the users table"
        return dump.stdout
    path = Path(url.removeprefix("sqlite:///"))
    # Read by another process (cat), never open()ed here: closing any descriptor of the
    # database file drops every POSIX lock this process holds on it (SQLite's documented
    # hazard), so the next other process to close its connection believes it is the last one,
    # checkpoints and deletes the WAL under this process, whose later commits vanish
    # ('disk I/O error', a token another process cannot see).
    files = [str(p) for p in (path, Path(f"{path}-wal")) if p.exists()]
    assert files, f"no database file at {path}"
    return subprocess.run(["cat", *files], capture_output=True, check=True).stdout


def _leaks(numbers: list[str], haystack: str) -> list[str]:
    """Each number, and its first 17 digits (the number without its check digit)."""
    return [n for n in numbers if n in haystack or n[:17] in haystack]


def test_create_user_stores_only_blind_index_hashes(app, admin):
    me, client = admin
    own, spouse, parent = new_id(), new_id("110101"), new_id("310104")
    username = f"ui-{uuid.uuid4().hex[:8]}"
    resp = client.post("/admin/users/new", data={
        "username": username, "password": PASSWORD, "display_name": "王测试", "roles": ["staff"],
        "unit": "北京市公安局海淀分局", "id_number": f" {own[:6]} {own[6:14]} {own[14:]} ",
        "relatives": f"{spouse}\n{parent.lower()}，"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-800:]
    user = _by_name(username)
    vault = vault_from_config(app.config)
    assert user.id_number_hmac == vault.blind_index("id_number", own), "own ID hash is not the blind index"
    assert sorted(user.relative_hmacs) == sorted(vault.blind_index("id_number", n) for n in (spouse, parent)), \
        "relatives' hashes are not the blind index of their numbers"
    numbers = [own, spouse, parent]
    leaks = _leaks(numbers, _rows_text("users"))
    assert not leaks, f"LEAK: raw ID number stored in the users table: {leaks}"
    leaks = _leaks(numbers, _rows_text("audit_records"))
    assert not leaks, f"LEAK: raw ID number written to the audit log: {leaks}"
    raw = _db_bytes(app)
    leaks = [n for n in numbers if n.encode() in raw]
    assert not leaks, f"LEAK: raw ID number somewhere in the database file: {leaks}"
    rec = get_session().execute(select(AuditRecord).where(AuditRecord.action == "user.create",
                                                          AuditRecord.username == me.username)
                                .order_by(AuditRecord.seq.desc())).scalars().first()
    assert rec.filters["target"] == username and "亲属 2 人" in rec.filters["changes"], rec.filters
    page = client.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert not _leaks(numbers, page), "LEAK: the edit page shows a raw ID number"


def test_edit_adds_relatives_as_hashes(app, admin, make_user):
    _, client = admin
    target = make_user("staff")
    first, second = new_id(), new_id("440106")
    for number in (first, second):
        resp = client.post(f"/admin/users/{target.id}", data={
            "roles": ["staff"], "enabled": "on", "unit": target.unit, "relatives": number})
        assert resp.status_code == 302, resp.get_data(as_text=True)[-500:]
    vault = vault_from_config(app.config)
    assert sorted(_by_name(target.username).relative_hmacs) == sorted(
        vault.blind_index("id_number", n) for n in (first, second)), "a relative added later replaced the earlier one"
    assert not _leaks([first, second], _rows_text("users") + _rows_text("audit_records")), \
        "LEAK: raw relative ID number stored"


@pytest.mark.parametrize("field,value,message", [
    ("id_number", "bad-check", "本人身份证号第 1 个无效"),
    ("id_number", "1101081990", "本人身份证号第 1 个无效"),
    ("id_number", "two", "本人身份证号只能填写一个"),
    ("relatives", "good,bad-check", "亲属身份证号第 2 个无效"),
    ("relatives", "991234199001011234", "亲属身份证号第 1 个无效"),
])
def test_invalid_id_numbers_are_refused_with_a_reason(field, value, message, app, admin):
    _, client = admin
    good = new_id()
    value = {"bad-check": _broken(good), "good,bad-check": f"{new_id()},{_broken(good)}",
             "two": f"{good}\n{new_id()}"}.get(value, value)
    username = f"bad-{uuid.uuid4().hex[:8]}"
    resp = client.post("/admin/users/new", data={"username": username, "password": PASSWORD,
                                                 "roles": ["staff"], field: value})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "未创建" in body and message in body, \
        f"invalid {field} {value!r} not refused with {message!r}"
    assert _by_name(username) is None, f"LEAK: user created with an invalid {field}"
    assert good not in body and good[:17] not in body, "the refusal echoes the ID number back"
    denied = get_session().execute(select(AuditRecord).where(AuditRecord.action == "user.create",
                                                             AuditRecord.outcome == "denied")
                                   .order_by(AuditRecord.seq.desc())).scalars().first()
    assert denied.filters["target"] == username and message in denied.reason
    assert not _leaks([good], _rows_text("audit_records")), "LEAK: the refused ID number was audited"


def test_relative_and_own_files_are_excluded_end_to_end(app, admin, make_user, make_grant, ingest):
    _, client = admin
    own, relative = new_id(), new_id("110102")
    tag = f"回避{uuid.uuid4().hex[:6]}"
    nos = {kind: f"SE-{kind}-{uuid.uuid4().hex[:6]}" for kind in ("rel", "own", "other")}
    report, _ = ingest([
        meta(nos["rel"], subject_id=relative, pages=[[f"{tag} 亲属档案页面 内容足够长以使用文本层"]]),
        meta(nos["own"], subject_id=own, pages=[[f"{tag} 本人档案页面 内容足够长以使用文本层"]]),
        meta(nos["other"], subject_id=new_id("120101"), pages=[[f"{tag} 他人档案页面 内容足够长以使用文本层"]])])
    username = f"se-{uuid.uuid4().hex[:8]}"
    resp = client.post("/admin/users/new", data={
        "username": username, "password": PASSWORD, "roles": ["staff"], "unit": "北京市公安局海淀分局",
        "id_number": own, "relatives": relative})
    assert resp.status_code == 302
    user = _by_name(username)
    confirm_pending(app, make_user, user)  # a new staff account waits for a second admin
    colleague = make_user("staff")

    def found(person: User) -> set[str]:
        grant = make_grant(person, purpose="户籍核查：自我回避")
        c = app.test_client()
        assert login(c, person.username).status_code == 302
        r = c.post("/search", follow_redirects=True, data={"grant_id": grant.id, "purpose": "核实", "q": tag})
        assert r.status_code == 200, r.get_data(as_text=True)[-500:]
        body = r.get_data(as_text=True)
        return {no for no in nos.values() if no in body}

    mine = found(user)
    assert nos["rel"] not in mine, "LEAK: a relative's file was returned to the user (self-exclusion)"
    assert nos["own"] not in mine, "LEAK: the user's own file was returned to them (self-exclusion)"
    assert nos["other"] in mine, "the exclusion removed an unrelated person's file too"
    assert found(colleague) == set(nos.values()), "another user does not see the files the user is excluded from"


def test_password_reset_ends_sessions(app, admin, make_user):
    _, client = admin
    user = make_user("staff")
    theirs = app.test_client()
    login(theirs, user.username)
    assert theirs.get("/grants/").status_code == 200
    short = client.post(f"/admin/users/{user.id}/action", data={"action": "reset_password", "password": "short"})
    assert short.status_code == 302
    assert "密码至少 8 位" in client.get(short.location).get_data(as_text=True)
    assert theirs.get("/grants/").status_code == 200, "a refused reset still ended the sessions"
    resp = client.post(f"/admin/users/{user.id}/action",
                       data={"action": "reset_password", "password": "a-new-password-1"})
    assert resp.status_code == 302
    assert "待另一名安全管理员确认" in client.get(resp.location).get_data(as_text=True)
    assert theirs.get("/grants/").status_code == 200, "a reset still awaiting confirmation ended the sessions"
    assert login(app.test_client(), user.username, "a-new-password-1").status_code == 401, \
        "LEAK: a reset took effect before a second security admin confirmed it"
    confirm_pending(app, make_user, user)
    after = theirs.get("/grants/")
    assert after.status_code == 302 and "/login" in after.location, \
        "LEAK: the session survived a password reset"
    assert login(app.test_client(), user.username).status_code == 401, "the old password still works"
    assert login(app.test_client(), user.username, "a-new-password-1").status_code == 302


def test_admin_can_end_a_users_sessions(app, admin, make_user):
    _, client = admin
    user = make_user("staff")
    theirs = app.test_client()
    login(theirs, user.username)
    client.post(f"/admin/users/{user.id}/action", data={"action": "end_sessions"})
    resp = theirs.get("/grants/")
    assert resp.status_code == 302 and "/login" in resp.location, "LEAK: end_sessions left a session working"


def test_user_list_shows_login_delay_and_disabled_state(app, admin, make_user):
    from search_app.accounts.models import LoginThrottle
    from search_app.accounts.throttle import keys_for
    _, client = admin
    normal, limited, disabled = make_user("staff"), make_user("staff"), make_user("approver")
    session = get_session()
    key = keys_for(limited.username, "203.0.113.9", account=limited.username)[1]
    session.add(LoginThrottle(key=key.id, scope=key.scope, username=key.username,
                              client_addr=key.client_addr, failures=9, last_failure_at=utcnow(),
                              next_at=utcnow() + timedelta(minutes=10)))
    disabled.is_enabled = False
    session.commit()
    page = client.get("/admin/users").get_data(as_text=True)

    def row(user: User) -> str:
        return page[page.index(f">{user.username}<"):].split("</tr>")[0]
    assert "登录限速" in row(limited), "a delayed account is not shown as delayed"
    assert "已停用" in row(disabled), "a disabled account is not shown as disabled"
    assert "正常" in row(normal) and "限速" not in row(normal)
    stale = session.get(LoginThrottle, key.id)  # no failure for longer than the window: forgotten
    stale.last_failure_at = utcnow() - timedelta(minutes=app.config["LOGIN_FAILURE_WINDOW_MINUTES"] + 1)
    session.commit()
    page = client.get("/admin/users").get_data(as_text=True)
    assert "登录限速" not in row(limited), "a forgotten delay is still shown"


def test_user_without_roles_is_refused_with_a_plain_reason(admin):
    _, client = admin
    username = f"noroles-{uuid.uuid4().hex[:8]}"
    resp = client.post("/admin/users/new", data={"username": username, "password": PASSWORD})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "至少选择一个角色" in body and "未知角色" not in body, body[-600:]
    assert _by_name(username) is None
