"""Guarantee: separation of duties (三员分立). No account holds two administrator duties or an
administrator duty plus archive access (staff + approver is the one allowed pair); nobody changes
their own roles or disables themselves; auditors and security admins read no archives; nobody
can alter the log. Each failure names what leaked."""
from __future__ import annotations

import ast
import uuid
from itertools import combinations
from pathlib import Path

import pytest
from sqlalchemy import func, select

from search_app.accounts.models import User
from search_app.accounts.services import AccountError, create_user
from search_app.audit.models import AuditRecord
from search_app.db import get_session
from search_app.permissions import Role
from tests.conftest import PASSWORD, audit_records, login

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {frozenset({Role.STAFF, Role.APPROVER})}
PAIRS = [frozenset(p) for p in combinations(list(Role), 2)]
REFUSED = [p for p in PAIRS if p not in ALLOWED]


def _name(roles) -> str:
    return "+".join(sorted(r.value for r in roles))


def _exists(username: str) -> bool:
    session = get_session()
    session.expire_all()
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none() is not None




@pytest.mark.parametrize("roles", REFUSED, ids=_name)
def test_create_user_refuses_conflicting_roles(roles, ctx):
    username = f"sod-{uuid.uuid4().hex[:8]}"
    session = get_session()
    with pytest.raises(AccountError) as err:
        create_user(session, username=username, password=PASSWORD, role=[r.value for r in roles])
        session.commit()
        pytest.fail(f"LEAK: {_name(roles)} account created")
    session.rollback()
    assert "三员分立" in str(err.value) or "不能" in str(err.value), f"no reason given: {err.value}"
    assert not _exists(username), f"LEAK: {_name(roles)} account row written"


def test_refusal_reasons_name_the_conflict(ctx):
    session = get_session()
    reasons = {}
    for roles in ([Role.SECURITY_ADMIN, Role.AUDITOR], [Role.SYSTEM_ADMIN, Role.AUDITOR],
                  [Role.SECURITY_ADMIN, Role.STAFF], [Role.AUDITOR, Role.STAFF],
                  [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN]):
        with pytest.raises(AccountError) as err:
            create_user(session, username=f"sod-{uuid.uuid4().hex[:8]}", password=PASSWORD,
                        role=[r.value for r in roles])
        session.rollback()
        reasons[_name(roles)] = str(err.value)
    assert "安全管理员和安全审计员" in reasons["auditor+security_admin"], reasons
    assert "安全审计员只能审阅日志" in reasons["auditor+system_admin"], reasons
    assert "安全审计员只能审阅日志" in reasons["auditor+staff"], reasons
    assert "安全管理员不能兼任" in reasons["security_admin+staff"], reasons
    both = reasons["security_admin+system_admin"]
    assert "安全管理员" in both and "系统管理员" in both and "不能兼任" in both, reasons


def test_three_roles_including_the_allowed_pair_are_refused(ctx):
    session = get_session()
    with pytest.raises(AccountError):
        create_user(session, username=f"sod-{uuid.uuid4().hex[:8]}", password=PASSWORD,
                    role="staff,approver,auditor")
    session.rollback()


def test_staff_and_approver_may_be_combined(ctx):
    session = get_session()
    user = create_user(session, username=f"sod-{uuid.uuid4().hex[:8]}", password=PASSWORD,
                       role=["approver", "staff"])
    session.commit()
    assert user.role == "staff,approver"


@pytest.mark.parametrize("roles", [(Role.SECURITY_ADMIN, Role.AUDITOR), (Role.SYSTEM_ADMIN, Role.AUDITOR),
                                   (Role.SECURITY_ADMIN, Role.STAFF), (Role.AUDITOR, Role.STAFF)],
                         ids=_name)
def test_admin_ui_refuses_conflicting_roles_and_writes_nothing(roles, admin):
    _, client = admin
    username = f"ui-sod-{uuid.uuid4().hex[:8]}"
    before = len(audit_records("user.create", outcome="allowed"))
    resp = client.post("/admin/users/new", data={"username": username, "password": PASSWORD,
                                                 "roles": [r.value for r in roles]})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400, f"LEAK: {_name(roles)} accepted by the admin UI ({resp.status_code})"
    assert "未创建" in body and "三员分立" in body, "the admin UI does not show why it refused"
    assert not _exists(username), f"LEAK: {_name(roles)} account created through the admin UI"
    assert len(audit_records("user.create", outcome="allowed")) == before, "a refused creation was audited as done"
    refusal = audit_records("user.create", outcome="denied")[-1]
    assert refusal.filters["target"] == username and "三员分立" in refusal.reason, \
        "the refused creation was not audited with its reason"


def test_admin_ui_refuses_adding_a_conflicting_role_to_an_existing_user(admin, make_user):
    _, client = admin
    target = make_user("staff")
    resp = client.post(f"/admin/users/{target.id}", data={"roles": ["staff", "auditor"],
                                                          "enabled": "on", "unit": target.unit})
    assert resp.status_code == 400 and "三员分立" in resp.get_data(as_text=True)
    session = get_session()
    session.expire_all()
    assert session.get(User, target.id).role == "staff", "LEAK: staff+auditor saved through the edit form"


def test_security_admin_cannot_change_own_roles(admin):
    me, client = admin
    resp = client.post(f"/admin/users/{me.id}", data={"roles": ["staff"], "enabled": "on"})
    assert resp.status_code == 400 and "不能修改自己的角色" in resp.get_data(as_text=True)
    session = get_session()
    session.expire_all()
    assert session.get(User, me.id).role == "security_admin", \
        "LEAK: a security admin changed their own roles (could grant themselves archive access)"
    assert audit_records("user.update", outcome="denied", username=me.username), "self role change not audited"


def test_security_admin_cannot_disable_themselves(admin):
    me, client = admin
    resp = client.post(f"/admin/users/{me.id}", data={"roles": ["security_admin"]})  # no "enabled"
    assert resp.status_code == 400 and "不能停用自己的账号" in resp.get_data(as_text=True)
    session = get_session()
    session.expire_all()
    assert session.get(User, me.id).is_enabled, "LEAK: a security admin disabled their own account"


SEARCH_READS = [("GET", "/search"), ("POST", "/search"), ("GET", "/lookup"), ("POST", "/lookup"),
                ("POST", "/search/export"), ("POST", "/pages/HJ-0000-0000%23p0001")]


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SECURITY_ADMIN, Role.SYSTEM_ADMIN])
def test_administrators_cannot_search_archives(role, app, ctx, make_user):
    client = app.test_client()
    login(client, make_user(role.value).username)
    data = {"grant_id": "1", "purpose": "越权尝试", "q": "档案"}
    for method, url in SEARCH_READS:
        resp = client.open(url, method=method, data=data if method == "POST" else None)
        assert resp.status_code == 403, f"LEAK: {role} reached {method} {url} ({resp.status_code})"
    post = client.post("/search", data=data)
    assert post.status_code == 403 and "archive:pages:search" in post.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/grants/", "/grants/inbox", "/grants/all", "/grants/new", "/audit/"])
def test_security_admin_sees_no_grants_and_no_log(url, app, ctx, make_user):
    client = app.test_client()
    login(client, make_user("security_admin").username)
    resp = client.get(url)
    assert resp.status_code == 403, f"LEAK: a security admin reached {url} ({resp.status_code})"


def test_auditor_cannot_manage_users(app, ctx, make_user):
    client = app.test_client()
    login(client, make_user("auditor").username)
    assert client.get("/admin/users").status_code == 403, "LEAK: an auditor reached user management"
    resp = client.post("/admin/users/new", data={"username": "x-by-auditor", "password": PASSWORD,
                                                 "roles": ["auditor"]})
    assert resp.status_code == 403 and not _exists("x-by-auditor"), "LEAK: an auditor created a user"


# Audit routes that accept POST only to keep a typed PII value out of the URL; they hash it and
# redirect to the read-only listing (tests/test_privacy_audit.py proves they write nothing).
READ_ONLY_POSTS = frozenset({"audit.match", "api.audit_match"})


def test_no_route_changes_the_audit_log(app):
    audit_rules = [r for r in app.url_map.iter_rules()
                   if r.rule.startswith(("/audit", "/api/v1/audit"))]
    assert audit_rules, "no audit routes found"
    for rule in audit_rules:
        writable = set(rule.methods) - {"GET", "HEAD", "OPTIONS"}
        if rule.endpoint in READ_ONLY_POSTS:  # takes a typed value by POST (kept out of URLs), writes nothing
            writable -= {"POST"}
        assert not writable, f"LEAK: {rule.rule} accepts {sorted(writable)}: the log could be altered"
    for rule in app.url_map.iter_rules():
        name = rule.endpoint.lower()
        assert "audit" not in name or rule.endpoint.startswith("audit.") \
            or (rule.endpoint.startswith("api.audit_") and rule.rule.startswith("/api/v1/audit/")), \
            f"audit-related route outside the read-only audit blueprint: {rule.rule}"


def test_no_code_updates_or_deletes_audit_records():
    """Only audit.service appends; no module issues UPDATE/DELETE against audit_records."""
    offenders = []
    for path in (ROOT / "search_app").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                    and node.func.id in ("update", "delete") and node.args \
                    and isinstance(node.args[0], ast.Name) and node.args[0].id == "AuditRecord":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}(AuditRecord)")
        text = path.read_text("utf-8").lower()
        for needle in ("update audit_records", "delete from audit_records"):
            if needle in text:
                offenders.append(f"{path.relative_to(ROOT)}: {needle}")
    assert not offenders, f"LEAK: code that alters the audit log: {offenders}"


def test_auditor_reading_the_log_leaves_it_intact(app, ctx, make_user):
    client = app.test_client()
    login(client, make_user("auditor").username)
    session = get_session()
    count = session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    assert client.get("/audit/?verify=1").status_code == 200
    session.expire_all()
    after = session.execute(select(func.count()).select_from(AuditRecord)).scalar_one()
    assert after == count + 1, "viewing the log must append exactly its own record and change nothing"
