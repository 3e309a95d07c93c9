"""The security admin's account screens over /api/v1/admin, against the real services, as a
security admin and as an attacker use them: creating a reader needs a second security admin
(the proposer, the target and the proposer's puppet cannot confirm), separation of duties
(三员分立) is refused with its reason, one's own account cannot be re-roled or disabled,
ending sessions ends the target's API token, and login delays are listed and lifted. Every
response goes through tests.api_check.ApiClient (validated against the OpenAPI document); each
route is refused to the other roles (the failure names what was allowed) and the audit records
are checked; the last test proves every operation here was called successfully."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest

from search_app.accounts.models import LoginThrottle
from search_app.accounts.throttle import keys_for
from search_app.db import get_session
from search_app.timeutil import utcnow
from tests.api_check import ApiClient, api_fixture, assert_role_refused, openapi_document
from tests.conftest import PASSWORD, audit_records, reloaded_user
from tests.test_admin_views import new_id

pytestmark = pytest.mark.integration
TAG = uuid.uuid4().hex[:6]
PREFIXES = ("api.accounts_",)
_SEEN: set[tuple[str, str, int]] = set()
api = api_fixture(_SEEN)


def _name(what: str) -> str:
    return f"acc{what}-{TAG}"


def _create(client: ApiClient, username: str, roles: list[str], **extra):
    return client.post("/api/v1/admin/users", json={"username": username, "password": PASSWORD,
                                                    "roles": roles, **extra})


def test_a_new_reader_needs_a_second_security_admin(make_user, api):
    sa1, sa2 = make_user("security_admin"), make_user("security_admin")
    a1, a2 = api(sa1), api(sa2)
    id_number = new_id()
    made = _create(a1, _name("reader"), ["staff"], display_name="接口读者", unit="档案馆",
                   id_number=id_number, relatives=new_id())
    assert made.status_code == 201, made.get_json()
    out = made.get_json()
    assert id_number not in made.get_data(as_text=True), "LEAK: the ID number is echoed back"
    user, (change,) = out["user"], out["pending"]
    assert not user["is_enabled"], "ALLOWED: a staff account works before a second admin confirmed it"
    assert user["identity_registered"] and user["relatives"] == 1 and user["created_by"] == sa1.username
    assert change["kind"] == "create" and change["status"] == "pending" and user["pending"]

    own = a1.post(f"/api/v1/admin/pending/{change['id']}", json={"decision": "confirm"})
    assert own.status_code == 403 and "由您本人提出" in own.get_json()["message"], \
        f"ALLOWED: the proposer confirmed their own new reader: {own.get_json()}"
    assert not reloaded_user(user["id"]).is_enabled
    listed = {c["id"]: c for c in a2.get("/api/v1/admin/pending").get_json()["changes"]}
    assert listed[change["id"]]["status"] == "pending"

    done = a2.post(f"/api/v1/admin/pending/{change['id']}", json={"decision": "confirm"})
    assert done.status_code == 200 and done.get_json()["change"]["status"] == "confirmed", done.get_json()
    assert a2.get(f"/api/v1/admin/users/{user['id']}").get_json()["is_enabled"]
    again = a2.post(f"/api/v1/admin/pending/{change['id']}", json={"decision": "reject", "reason": "晚了"})
    assert again.status_code == 409 and "已处理" in again.get_json()["message"], again.get_json()

    created = audit_records("user.create", username=sa1.username, outcome="allowed")
    assert [r.filters["target"] for r in created] == [_name("reader")]
    assert created[0].filters["pending_changes"] == [change["id"]]
    assert id_number not in json.dumps(created[0].filters, ensure_ascii=False) + created[0].reason
    assert [r.filters["change"] for r in audit_records("user.confirm_change", username=sa1.username,
                                                       outcome="denied")] == [change["id"]]
    assert [r.filters["change"] for r in audit_records("user.confirm_change", username=sa2.username,
                                                       outcome="allowed")] == [change["id"]]


def test_separation_of_duties_and_bad_input_are_refused_with_reasons(make_user, api):
    sa = make_user("security_admin")
    a = api(sa)
    both = _create(a, _name("both"), ["security_admin", "auditor"])
    assert both.status_code == 403 and "三员分立" in both.get_json()["message"], \
        f"ALLOWED: one account as security admin and auditor: {both.get_json()}"
    mixed = _create(a, _name("mixed"), ["system_admin", "staff"])
    assert mixed.status_code == 403 and "三员分立" in mixed.get_json()["message"], mixed.get_json()
    none = _create(a, _name("none"), [])
    assert none.status_code == 400 and "至少选择一个角色" in none.get_json()["message"]
    short = _create(a, _name("short"), ["auditor"], password="short")
    assert short.status_code == 400 and "密码至少 8 位" in short.get_json()["message"]
    bad_id = _create(a, _name("badid"), ["auditor"], id_number="110108199001011234")
    assert bad_id.status_code == 400 and "本人身份证号第 1 个无效" in bad_id.get_json()["message"]
    typo = a.post("/api/v1/admin/users", json={"usernmae": "x", "password": PASSWORD, "roles": ["staff"]})
    assert typo.status_code == 400 and "usernmae" in typo.get_json()["message"]
    assert _create(a, _name("aud"), ["auditor"]).status_code == 201  # no second admin needed
    dup = _create(a, _name("aud"), ["auditor"])
    assert dup.status_code == 409 and "已存在" in dup.get_json()["message"], dup.get_json()
    denied = [r.filters["target"] for r in audit_records("user.create", username=sa.username,
                                                         outcome="denied")]
    assert denied == [_name(w) for w in ("both", "mixed", "none", "short", "badid", "aud")], denied
    names = {u["username"] for u in a.get("/api/v1/admin/users").get_json()["users"]}
    assert not names & {_name("both"), _name("mixed")}, "ALLOWED: a refused account exists"


def test_the_puppet_of_the_proposer_cannot_confirm(make_user, api):
    """sa1 proposes a second security admin (sa3), sa2 confirms it; sa3 then cannot confirm what
    sa1 proposes: one person would control both keys."""
    sa1, sa2 = make_user("security_admin"), make_user("security_admin")
    a1, a2 = api(sa1), api(sa2)
    out = _create(a1, _name("puppet"), ["security_admin"]).get_json()
    assert a2.post(f"/api/v1/admin/pending/{out['pending'][0]['id']}",
                   json={"decision": "confirm"}).status_code == 200
    puppet = reloaded_user(out["user"]["id"])
    reader = _create(a1, _name("via-puppet"), ["approver"]).get_json()
    refused = api(puppet).post(f"/api/v1/admin/pending/{reader['pending'][0]['id']}",
                               json={"decision": "confirm"})
    assert refused.status_code == 403 and "防止一人操纵多个账号" in refused.get_json()["message"], \
        f"ALLOWED: the proposer's own puppet confirmed a new approver: {refused.get_json()}"
    no_reason = a2.post(f"/api/v1/admin/pending/{reader['pending'][0]['id']}", json={"decision": "reject"})
    assert no_reason.status_code == 400 and "理由" in no_reason.get_json()["message"]
    rejected = a2.post(f"/api/v1/admin/pending/{reader['pending'][0]['id']}",
                       json={"decision": "reject", "reason": "未经单位申请"})
    assert rejected.status_code == 200 and rejected.get_json()["change"]["status"] == "rejected"
    assert not reloaded_user(reader["user"]["id"]).is_enabled
    assert audit_records("user.reject_change", username=sa2.username, outcome="allowed")


def test_changes_and_actions_on_users(make_user, api):
    sa, auditor, staff = make_user("security_admin"), make_user("auditor"), make_user("staff")
    a = api(sa)
    changed = a.post(f"/api/v1/admin/users/{auditor.id}", json={"unit": f"审计处{TAG}"})
    assert changed.status_code == 200 and changed.get_json()["user"]["unit"] == f"审计处{TAG}"
    off = a.post(f"/api/v1/admin/users/{auditor.id}", json={"enabled": False})
    assert off.status_code == 200 and off.get_json()["changes"] == ["停用账号"], off.get_json()
    on = a.post(f"/api/v1/admin/users/{auditor.id}", json={"enabled": True})
    assert on.get_json()["user"]["is_enabled"] and not on.get_json()["pending"]
    me_off = a.post(f"/api/v1/admin/users/{sa.id}", json={"enabled": False})
    assert me_off.status_code == 403 and "不能停用自己的账号" in me_off.get_json()["message"], \
        f"ALLOWED: a security admin disabled their own account: {me_off.get_json()}"
    me_role = a.post(f"/api/v1/admin/users/{sa.id}", json={"roles": ["staff"]})
    assert me_role.status_code == 403 and "不能修改自己的角色" in me_role.get_json()["message"], \
        f"ALLOWED: a security admin re-roled themselves: {me_role.get_json()}"
    assert reloaded_user(sa.id).role == "security_admin" and reloaded_user(sa.id).is_enabled

    promote = a.post(f"/api/v1/admin/users/{staff.id}", json={"roles": ["staff", "approver"]}).get_json()
    assert promote["pending"] and reloaded_user(staff.id).role == "staff", \
        f"ALLOWED: a staff member became approver without a second admin: {promote}"
    twice = a.post(f"/api/v1/admin/users/{staff.id}", json={"roles": ["approver"]})
    assert twice.status_code == 409 and "待确认的变更" in twice.get_json()["message"], twice.get_json()
    reset = a.post(f"/api/v1/admin/users/{staff.id}/action",
                   json={"action": "reset_password", "password": "another-horse-7"})
    assert reset.status_code == 200 and "原密码仍然有效" in reset.get_json()["message"], reset.get_json()
    keep = a.post(f"/api/v1/admin/users/{staff.id}/action", json={"action": "clear_identity"})
    assert keep.status_code == 400 and "不可撤回" in keep.get_json()["message"]
    cleared = a.post(f"/api/v1/admin/users/{staff.id}/action",
                     json={"action": "clear_identity", "confirm": True})
    assert cleared.status_code == 200 and not cleared.get_json()["user"]["identity_registered"]
    unknown = a.post(f"/api/v1/admin/users/{staff.id}/action", json={"action": "delete"})
    assert unknown.status_code == 400 and "action" in unknown.get_json()["message"]
    assert a.post("/api/v1/admin/users/99999999", json={"unit": "x"}).status_code == 404
    assert a.get("/api/v1/admin/users/99999999").status_code == 404
    assert a.post("/api/v1/admin/pending/99999999", json={"decision": "confirm"}).status_code == 404

    theirs = api(reloaded_user(staff.id))
    assert theirs.get("/api/v1/me").status_code == 200
    ended = a.post(f"/api/v1/admin/users/{staff.id}/action", json={"action": "end_sessions"})
    assert ended.status_code == 200, ended.get_json()
    assert theirs.get("/api/v1/me").status_code == 401, "LEAK: end_sessions left the user's API token working"

    updates = audit_records("user.update", username=sa.username)
    assert [r.outcome for r in updates] == ["allowed"] * 3 + ["denied"] * 2 + ["allowed", "denied"], \
        [(r.outcome, r.reason) for r in updates]
    for action in ("user.reset_password", "user.end_sessions"):
        assert audit_records(action, username=sa.username, outcome="allowed"), action
    assert [r.outcome for r in audit_records("user.clear_identity", username=sa.username)] == \
        ["denied", "allowed"]


def test_login_delays_are_listed_unlocked_and_lifted(app, make_user, api):
    sa, staff = make_user("security_admin"), make_user("staff")
    a = api(sa)
    session = get_session()
    pair, address = keys_for(staff.username, "203.0.113.77", account=staff.username)[1:]
    for key in (pair, address):
        session.add(LoginThrottle(key=key.id, scope=key.scope, username=key.username,
                                  client_addr=key.client_addr, failures=9, last_failure_at=utcnow(),
                                  next_at=utcnow() + timedelta(minutes=10)))
    session.commit()
    rows = {t["key"]: t for t in a.get("/api/v1/admin/throttles").get_json()["throttles"]}
    assert rows[pair.id]["is_account"] and rows[pair.id]["username"] == staff.username
    assert rows[address.id]["scope"] == "address" and rows[address.id]["client_addr"] == "203.0.113.77"
    users = {u["username"]: u for u in a.get("/api/v1/admin/users").get_json()["users"]}
    assert users[staff.username]["login_delayed_until"], "a delayed account is not shown as delayed"

    unlocked = a.post(f"/api/v1/admin/users/{staff.id}/action", json={"action": "unlock"})
    assert unlocked.status_code == 200 and "（1 项）" in unlocked.get_json()["message"], unlocked.get_json()
    lifted = a.post("/api/v1/admin/throttles/lift", json={"key": address.id})
    assert lifted.status_code == 200 and lifted.get_json()["scope"] == "address"
    gone = a.post("/api/v1/admin/throttles/lift", json={"key": address.id})
    assert gone.status_code == 404 and "已不存在" in gone.get_json()["message"]
    left = {t["key"] for t in a.get("/api/v1/admin/throttles").get_json()["throttles"]}
    assert not left & {pair.id, address.id}, "a lifted delay is still listed"
    lifts = audit_records("auth.throttle_lift", username=sa.username, outcome="allowed")
    assert [r.filters["scope"] for r in lifts] == ["address"], [r.filters for r in lifts]
    assert audit_records("user.unlock", username=sa.username, outcome="allowed")


@pytest.mark.parametrize("role", ["staff", "approver", "system_admin", "auditor", "records_head"])
def test_other_roles_are_refused_every_account_route(make_user, api, role):
    who, target = make_user(role), make_user("auditor")
    client = api(who)
    for method, path, body in (
            ("GET", "/api/v1/admin/users", None),
            ("POST", "/api/v1/admin/users", {"username": _name(f"x{role}"), "password": PASSWORD,
                                             "roles": ["staff"]}),
            ("GET", f"/api/v1/admin/users/{target.id}", None),
            ("POST", f"/api/v1/admin/users/{target.id}", {"enabled": False}),
            ("POST", f"/api/v1/admin/users/{target.id}/action", {"action": "end_sessions"}),
            ("GET", "/api/v1/admin/pending", None),
            ("POST", "/api/v1/admin/pending/1", {"decision": "confirm"}),
            ("GET", "/api/v1/admin/throttles", None),
            ("POST", "/api/v1/admin/throttles/lift", {"key": "account:x"})):
        assert_role_refused(client, who, method, path, body)
    assert reloaded_user(target.id).is_enabled, f"ALLOWED: {role} disabled an account"
    assert not audit_records("user.create", username=who.username), f"ALLOWED: {role} created a user"


def test_every_operation_here_was_called_and_validated(app):
    """Runs last in this module: each account operation of the document answered a success
    through ApiClient above (its body validated)."""
    called = {endpoint for endpoint, _, status in _SEEN if status < 300}
    ops = [op["operationId"] for ops in openapi_document(app)["paths"].values() for op in ops.values()
           if op["operationId"].startswith(PREFIXES)]
    missing = sorted(set(ops) - called)
    assert len(ops) == 9 and not missing, f"operations never called successfully here: {missing}"
