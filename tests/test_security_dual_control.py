"""Guarantee: no single administrator can bring about a read (DESIGN.md rule 7).

Attack: one security admin makes a staff account and two approver accounts (so knows all three
passwords), or resets the passwords of a real staff member and a real approver, then requests a
秘密 grant as the one and approves as the others. Dual control makes every such account change
wait for a second security admin; the puppet rule refuses an approval by an account made or reset
by whoever made or reset the requester's. Each failure names the grant or account that got through.
"""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from search_app.accounts.models import PendingAccountChange, User
from search_app.db import get_session
from search_app.grants.models import Grant
from tests.conftest import PASSWORD, audit_records, login, reloaded_user

pytestmark = pytest.mark.integration
UNIT = "市委组织部"


def _by_name(username: str) -> User | None:
    session = get_session()
    session.expire_all()
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()




def _pending(user: User) -> list[PendingAccountChange]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(PendingAccountChange).where(
        PendingAccountChange.user_id == user.id, PendingAccountChange.status == "pending")).scalars())


def _signed_in(app, username: str, password: str = PASSWORD):
    client = app.test_client()
    resp = login(client, username, password)
    return client, resp


def _create_via_ui(client, role: str) -> tuple[str, str]:
    username, password = f"puppet-{role}-{uuid.uuid4().hex[:6]}", f"known-to-admin-{uuid.uuid4().hex[:4]}"
    resp = client.post("/admin/users/new", data={"username": username, "password": password,
                                                 "roles": [role], "unit": UNIT})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-600:]
    return username, password


def _confirm(client, change_id: int):
    return client.post(f"/admin/pending/{change_id}", data={"decision": "confirm"})


def _confirm_all(client, user: User) -> None:
    for change in _pending(user):
        assert _confirm(client, change.id).status_code == 303


def _active_grants(user: User) -> list[Grant]:
    session = get_session()
    session.expire_all()
    return [g for g in session.execute(select(Grant).where(Grant.user_id == user.id)).scalars()
            if g.status == "active"]


def _attempt_secret_grant(app, staff: tuple[str, str], approvers: list[tuple[str, str]]) -> list[str]:
    """The admin, holding every password, requests as staff and approves as each approver.
    Returns what each approver was told."""
    client, resp = _signed_in(app, *staff)
    if resp.status_code != 302:
        return [f"staff login refused ({resp.status_code})"]
    resp = client.post("/grants/new", data={
        "purpose_category": "考察", "purpose": "干部考察：任前审查", "categories": ["干部人事档案"],
        "units": UNIT, "classification": "秘密", "days": "1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)[-600:]
    grant = get_session().execute(select(Grant).where(Grant.user_id == _by_name(staff[0]).id)
                                  .order_by(Grant.id.desc())).scalars().first()
    told = []
    for approver in approvers:
        c, r = _signed_in(app, *approver)
        if r.status_code != 302:
            told.append(f"approver {approver[0]} login refused ({r.status_code})")
            continue
        r = c.post(f"/grants/{grant.id}/decide", data={"decision": "approve"})
        told.append(c.get(r.location).get_data(as_text=True))
    return told


def _assert_no_grant(user: User, context: str) -> None:
    active = _active_grants(user)
    assert not active, (f"LEAK ({context}): grant(s) "
                        + ", ".join(f"#{g.id} {g.approval_ref} ({g.categories}, 密级≤{g.classification_ceiling})"
                                    for g in active)
                        + f" got approved for {user.username} by a single security admin's accounts")


@pytest.fixture()
def two_admins(app, ctx, make_user):
    a, b = make_user("security_admin"), make_user("security_admin")
    ca, _ = _signed_in(app, a.username)
    cb, _ = _signed_in(app, b.username)
    return (a, ca), (b, cb)


def test_puppets_wait_for_a_second_admin_and_cannot_log_in(app, two_admins, catalogued):
    (a, ca), _ = two_admins
    staff, p1, p2 = (_create_via_ui(ca, r) for r in ("staff", "approver", "approver"))
    for username, password in (staff, p1, p2):
        user = _by_name(username)
        assert not user.is_enabled and _pending(user), f"LEAK: {username} took effect without a second admin"
        _, resp = _signed_in(app, username, password)
        assert resp.status_code != 302, f"LEAK: pending account {username} logged in"
    told = _attempt_secret_grant(app, staff, [p1, p2])
    assert "login refused" in told[0], told
    _assert_no_grant(_by_name(staff[0]), "nobody confirmed the accounts")
    rec = audit_records("user.create", username=a.username)[-1]
    assert "待另一名安全管理员确认" in rec.reason and rec.filters["pending_changes"], rec.reason


def test_puppet_scenario_with_an_innocent_second_admin_ends_with_no_grant(app, two_admins, catalogued):
    (a, ca), (b, cb) = two_admins
    staff, p1, p2 = (_create_via_ui(ca, r) for r in ("staff", "approver", "approver"))
    for username, _ in (staff, p1, p2):
        _confirm_all(cb, _by_name(username))  # B confirms, trusting A
        assert reloaded_user(_by_name(username).id).is_enabled
    told = _attempt_secret_grant(app, staff, [p1, p2])
    user = _by_name(staff[0])
    _assert_no_grant(user, "accounts confirmed by an innocent second admin")
    assert "审批被拒绝" in told[0] and a.username in told[0], \
        f"the approver was not told why the approval was refused: {told[0][-800:]}"
    denied = audit_records("grant.approve", outcome="denied", username=p1[0])
    assert denied and a.username in denied[-1].reason and denied[-1].filters["rule"] == "puppet", \
        "the refused approval was not audited with its reason"


def test_reset_passwords_of_real_staff_and_approvers_do_not_give_a_grant(app, two_admins, catalogued, make_user):
    (a, ca), (b, cb) = two_admins
    real_staff = make_user("staff", unit=UNIT)
    real_approvers = [make_user("approver"), make_user("approver")]
    secrets = {}
    for user in (real_staff, *real_approvers):
        secrets[user.username] = f"admin-knows-{uuid.uuid4().hex[:6]}"
        resp = ca.post(f"/admin/users/{user.id}/action",
                       data={"action": "reset_password", "password": secrets[user.username]})
        assert resp.status_code == 302
        _, r = _signed_in(app, user.username, secrets[user.username])
        assert r.status_code != 302, f"LEAK: {user.username}'s reset took effect before confirmation"
        _, r = _signed_in(app, user.username)
        assert r.status_code == 302, f"a pending reset changed {user.username}'s password"
        _confirm_all(cb, user)
        assert reloaded_user(user.id).last_reset_by == a.username
    _attempt_secret_grant(app, (real_staff.username, secrets[real_staff.username]),
                          [(u.username, secrets[u.username]) for u in real_approvers])
    _assert_no_grant(real_staff, "passwords reset by one admin, confirmed by another")


def test_proposer_cannot_confirm_own_change(app, two_admins):
    (a, ca), _ = two_admins
    staff, _ = _create_via_ui(ca, "staff")
    change = _pending(_by_name(staff))[0]
    resp = _confirm(ca, change.id)
    assert resp.status_code == 303
    assert "由您本人提出" in ca.get(resp.location).get_data(as_text=True)
    assert not _by_name(staff).is_enabled, "LEAK: the proposer confirmed their own account"
    rec = audit_records("user.confirm_change", outcome="denied", username=a.username)
    assert rec and "由您本人提出" in rec[-1].reason, "the refused confirmation was not audited"


def test_puppet_security_admin_cannot_confirm_its_creators_changes(app, two_admins):
    """A makes a second security admin (B confirms it innocently) to confirm A's own proposals."""
    (a, ca), (b, cb) = two_admins
    puppet_admin, password = _create_via_ui(ca, "security_admin")
    _, r = _signed_in(app, puppet_admin, password)
    assert r.status_code != 302, "LEAK: a pending security admin logged in"
    _confirm_all(cb, _by_name(puppet_admin))
    cp, r = _signed_in(app, puppet_admin, password)
    assert r.status_code == 302
    staff, _ = _create_via_ui(ca, "staff")
    resp = _confirm(cp, _pending(_by_name(staff))[0].id)
    page = cp.get(resp.location).get_data(as_text=True)
    assert not _by_name(staff).is_enabled, \
        f"LEAK: {puppet_admin}, created by {a.username}, confirmed {a.username}'s new account"
    assert f"您的账号由 {a.username} 创建或重置密码" in page, page[-800:]


def test_role_change_and_re_enable_wait_for_confirmation(app, two_admins, make_user):
    (a, ca), (b, cb) = two_admins
    auditor = make_user("auditor")
    resp = ca.post(f"/admin/users/{auditor.id}", data={"roles": ["approver"], "enabled": "on"})
    assert resp.status_code == 302
    assert reloaded_user(auditor.id).role == "auditor", "LEAK: auditor became approver without a second admin"
    staff = make_user("staff")
    ca.post(f"/admin/users/{staff.id}", data={"roles": ["staff"]})  # disabling is immediate
    assert not reloaded_user(staff.id).is_enabled
    ca.post(f"/admin/users/{staff.id}", data={"roles": ["staff"], "enabled": "on"})
    assert not reloaded_user(staff.id).is_enabled, "LEAK: a disabled staff account re-enabled by one admin"
    _confirm_all(cb, auditor)
    _confirm_all(cb, staff)
    assert reloaded_user(auditor.id).role == "approver" and reloaded_user(staff.id).is_enabled
    confirmed = audit_records("user.confirm_change", outcome="allowed", username=b.username)
    assert {r.filters["kind"] for r in confirmed[-2:]} == {"role", "enable"}


def test_rejected_account_stays_disabled(app, two_admins):
    (a, ca), (b, cb) = two_admins
    staff, password = _create_via_ui(ca, "staff")
    change = _pending(_by_name(staff))[0]
    no_reason = cb.post(f"/admin/pending/{change.id}", data={"decision": "reject"})
    assert "驳回必须填写理由" in cb.get(no_reason.location).get_data(as_text=True)
    cb.post(f"/admin/pending/{change.id}", data={"decision": "reject", "reason": "无此人员"})
    assert not _by_name(staff).is_enabled
    assert _signed_in(app, staff, password)[1].status_code != 302
    rec = audit_records("user.reject_change", username=b.username)[-1]
    assert rec.outcome == "allowed" and "无此人员" in rec.reason
    page = cb.get("/admin/pending").get_data(as_text=True)
    assert f"#{change.id}" in page and "已驳回" in page


def test_admin_and_auditor_accounts_take_effect_at_once(app, two_admins):
    (a, ca), _ = two_admins
    for role in ("auditor", "system_admin"):
        username, password = _create_via_ui(ca, role)
        assert _by_name(username).is_enabled and not _pending(_by_name(username))
        assert _signed_in(app, username, password)[1].status_code == 302
        assert _by_name(username).created_by == a.username


# --- the operations CLI obeys the same rules ---

def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def test_cli_has_no_command_that_approves_a_grant(app):
    result = _cli(app, "create-grant", "--user", "x", "--approver", "y", "--purpose", "p",
                  "--category", "户籍档案", "--unit", "u")
    assert result.exit_code != 0 and "No such command" in result.output, \
        f"LEAK: the CLI still approves grants in an approver's name:\n{result.output}"
    assert "create-grant" not in _cli(app, "--help").output


def test_cli_staff_account_waits_for_a_security_admin_and_is_audited(app, ctx, two_admins):
    from search_app.cli import cli_principal

    (a, ca), _ = two_admins
    username = f"cli-staff-{uuid.uuid4().hex[:6]}"
    result = _cli(app, "create-user", username, "--role", "staff", "--password", PASSWORD,
                  "--unit", UNIT)
    assert result.exit_code == 0, result.output
    user = _by_name(username)
    assert not user.is_enabled and _pending(user), "LEAK: a CLI-made staff account took effect at once"
    assert _signed_in(app, username)[1].status_code != 302, "LEAK: the pending CLI account logged in"
    rec = audit_records("user.create", username=cli_principal())[-1]
    assert rec.role == "cli" and rec.filters["target"] == username and rec.filters["pending_changes"]
    _confirm_all(ca, user)  # any security admin may confirm an operator's proposal
    assert reloaded_user(user.id).is_enabled and reloaded_user(user.id).created_by == cli_principal()
    assert _signed_in(app, username)[1].status_code == 302


def test_cli_bootstraps_administrators_directly(app, ctx):
    username = f"cli-secadmin-{uuid.uuid4().hex[:6]}"
    result = _cli(app, "create-user", username, "--role", "security_admin", "--password", PASSWORD)
    assert result.exit_code == 0 and "created user" in result.output, result.output
    assert _by_name(username).is_enabled


def test_cli_refuses_invalid_id_numbers_like_the_admin_form(app, ctx):
    from search_app.cli import cli_principal

    username = f"cli-badid-{uuid.uuid4().hex[:6]}"
    result = _cli(app, "create-user", username, "--role", "auditor", "--password", PASSWORD,
                  "--id-number", "110108199001011235")  # wrong check digit
    assert result.exit_code == 1 and "本人身份证号第 1 个无效" in result.output, result.output
    assert _by_name(username) is None, "LEAK: user created with an invalid ID number"
    rec = audit_records("user.create", outcome="denied", username=cli_principal())[-1]
    assert rec.filters["target"] == username and "无效" in rec.reason
    assert "110108199001011235" not in str(rec.filters) + rec.reason, "the refused number was audited"


def test_cli_token_issue_is_audited(app, ctx, make_user):
    from search_app.cli import cli_principal

    user = make_user("staff")
    result = _cli(app, "issue-token", user.username)
    assert result.exit_code == 0 and result.output.startswith("ast_")
    rec = audit_records("user.issue_token", username=cli_principal())[-1]
    assert rec.filters["target"] == user.username and result.output.strip() not in str(rec.filters)


def test_demo_refuses_outside_a_demo_deployment(app, ctx):
    from search_app.cli import cli_principal

    assert not app.config["DEMO_MODE"]
    result = _cli(app, "demo", "--sync")
    assert result.exit_code == 1 and "DEMO_MODE=true" in result.output, result.output
    for username in ("zhangsan", "shenpi", "anquan"):
        assert _by_name(username) is None, f"LEAK: demo account {username} (public password) created"
    assert audit_records("cli.demo", outcome="denied", username=cli_principal())


def test_a_puppet_security_admin_does_not_launder_accounts(app, two_admins, catalogued):
    """A makes a second security admin Z (B confirms it), lets Z make the staff account (B
    confirms) and makes the approvers themself (B confirms): S's account is Z's, the approvers'
    are A's, but Z is A's, so the approval is still refused; and A cannot confirm Z's proposals."""
    (a, ca), (b, cb) = two_admins
    z_name, z_password = _create_via_ui(ca, "security_admin")
    _confirm_all(cb, _by_name(z_name))
    cz, _ = _signed_in(app, z_name, z_password)
    staff = _create_via_ui(cz, "staff")
    resp = _confirm(ca, _pending(_by_name(staff[0]))[0].id)
    assert f"提出人 {z_name} 的账号由您创建或重置密码" in ca.get(resp.location).get_data(as_text=True)
    assert not _by_name(staff[0]).is_enabled, f"LEAK: {a.username} confirmed their puppet {z_name}'s proposal"
    _confirm_all(cb, _by_name(staff[0]))
    approvers = [_create_via_ui(ca, "approver") for _ in range(2)]
    for username, _ in approvers:
        _confirm_all(cb, _by_name(username))
    told = _attempt_secret_grant(app, staff, approvers)
    _assert_no_grant(_by_name(staff[0]), f"staff made by {z_name}, a security admin made by {a.username}")
    assert a.username in told[0] and "审批被拒绝" in told[0], told[0][-600:]
