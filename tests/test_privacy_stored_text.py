"""Attack replays (issue 8, requirement 4) on what the database keeps outside the audit log:
the account name typed at a failed login (login throttle rows), and the free text of grants,
retention, QA, account-change and register rows — as written now, and as older versions
stored it. Each test names the value found."""
from __future__ import annotations

import random
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from search_app.accounts.models import LoginThrottle, PendingAccountChange
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.grants.services import actor_of, revoke
from search_app.migrations import upgrade
from search_app.qa.models import QaScope
from search_app.register.models import UseEntry
from search_app.retention.models import DestroyedFile, DestructionRequest
from search_app.timeutil import utcnow
from tests.api_check import api_fixture
from tests.conftest import audit_records
from tests.privacy_data import ID_A, NAME_A, PHONE_A, id_number
from tests.test_privacy_attacks import folded_digits, leaks

pytestmark = pytest.mark.integration

TEXTS = {"id": f"核实{ID_A}的户籍", "phone": f"回电{PHONE_A}确认", "name": f"户主{NAME_A}申请迁出"}
WRONG = "not-the-password"
api = api_fixture(set())


def _fresh_id() -> str:
    return id_number("110108", f"19{random.randint(50, 99)}0{random.randint(1, 9)}1{random.randint(0, 9)}",
                     f"{random.randint(0, 999):03d}")


def _cells() -> list[tuple[str, str, object]]:
    """(table, column, raw stored value) of every cell in the database, read with plain SQL
    (no column type in between: what a copy of the database holds)."""
    session = get_session()
    session.commit()
    bind = session.get_bind()
    out = []
    for table in sa.inspect(bind).get_table_names():
        cols = [c["name"] for c in sa.inspect(bind).get_columns(table)]
        for row in session.execute(sa.text(f'SELECT * FROM "{table}"')):
            out.extend((table, c, v) for c, v in zip(cols, row) if v is not None)
    return out


def _found_in_db(typed: str) -> list[str]:
    needle, digits = typed.encode(), typed[6:]
    hits = []
    for table, col, value in _cells():
        raw = bytes(value) if isinstance(value, (bytes, memoryview)) else str(value).encode()
        if needle in raw or (not isinstance(value, (bytes, memoryview))
                             and digits in folded_digits(str(value))):
            hits.append(f"{table}.{col}")
    return hits


def test_an_id_typed_as_the_account_name_is_nowhere_in_the_database(app, ctx, admin):
    typed, addr = _fresh_id(), "198.51.100.171"
    client = app.test_client()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"username": typed, "password": WRONG},
                    environ_base={"REMOTE_ADDR": addr})
    held = client.post("/login", data={"username": typed, "password": WRONG},
                       environ_base={"REMOTE_ADDR": addr})
    assert "请稍后再试" in held.get_data(as_text=True), "the throttle no longer delays the typed name"
    hits = _found_in_db(typed)
    assert not hits, f"the ID number {typed} typed as an account name is stored in {hits}"
    _, sec = admin
    page = sec.get("/admin/throttles").get_data(as_text=True)
    assert typed not in page and typed[6:14] not in page, f"the throttle list shows {typed}"
    assert "（无此用户" in page, "the throttle list no longer lists the unknown name's delay"


def test_a_known_account_stays_listed_and_liftable_by_name(app, ctx, admin, make_user):
    user, addr = make_user("staff"), "198.51.100.172"
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        app.test_client().post("/login", data={"username": user.username, "password": WRONG},
                               environ_base={"REMOTE_ADDR": addr})
    session = get_session()
    session.expire_all()
    rows = session.execute(sa.select(LoginThrottle).where(LoginThrottle.username == user.username)).scalars().all()
    assert {r.scope for r in rows} == {"account", "pair"}, [r.scope for r in rows]
    _, sec = admin
    sec.post(f"/admin/users/{user.id}/action", data={"action": "unlock"})
    session.expire_all()
    assert not session.execute(sa.select(LoginThrottle).where(
        LoginThrottle.username == user.username)).first(), "unlock left the account's delay"


def _raw(table: str, column: str, pk: str, ident) -> str:
    session = get_session()
    session.commit()
    return session.execute(sa.text(f"SELECT {column} FROM {table} WHERE {pk} = :i"),
                           {"i": ident}).scalar_one()


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_grant_purpose_and_decision_reason_are_stored_and_shown_masked(app, ctx, make_user,
                                                                      make_grant, api, kind):
    text = TEXTS[kind]
    staff, approver = make_user("staff"), make_user("approver")
    grant = make_grant(staff, purpose=text)
    session = get_session()
    revoke(session, grant, by=approver, reason=f"撤销：{text}", actor=actor_of(approver))
    session.commit()
    for column in ("purpose", "decision_reason"):
        stored = _raw("grants", column, "id", grant.id)
        assert not leaks(stored), f"grants.{column} stores {leaks(stored)}: {stored!r}"
    revoked = audit_records("grant.revoke")[-1]
    assert revoked.filters.get("pii_hmacs"), "the revoke record lost the value's keyed hash"
    body = api(staff).get("/api/v1/grant-requests").get_data(as_text=True)
    assert not leaks(body), f"the requester's grant list JSON shows {leaks(body)}"


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_older_rows_stored_as_typed_are_masked_when_read(app, ctx, make_user, make_grant, api, kind):
    text = TEXTS[kind]
    staff = make_user("staff")
    grant = make_grant(staff)
    session = get_session()
    session.execute(sa.text("UPDATE grants SET purpose = :t, decision_reason = :t WHERE id = :i"),
                    {"t": text, "i": grant.id})
    session.commit()
    session.expire_all()
    again = session.get(Grant, grant.id)
    shown = f"{again.purpose} {again.decision_reason}"
    assert not leaks(shown), f"an older grant row reads back {leaks(shown)}"
    body = api(staff).get("/api/v1/grant-requests").get_data(as_text=True)
    assert not leaks(body), f"an older grant row's purpose is shown in the API as {leaks(body)}"


@pytest.mark.parametrize("kind", sorted(TEXTS))
def test_retention_qa_account_and_register_text_is_stored_and_read_masked(app, ctx, make_user, kind):
    text = TEXTS[kind]
    user, session = make_user("security_admin"), get_session()
    now = utcnow()
    no = f"PRIV9-{uuid.uuid4().hex[:8]}"
    rows = {
        ("destruction_requests", ("reasons", "decision_reason", "error")): DestructionRequest(
            requested_by_id=user.id, requested_by=user.username, reasons=text, decision_reason=text,
            error=text, archive_nos=[no]),
        ("destruction_register", ("title", "reasons")): DestroyedFile(
            archive_no=no, title=text, request_id=0, requested_by=user.username, reasons=text,
            executed_by=user.username, destroyed_at=now),
        ("qa_scopes", ("purpose",)): QaScope(user_id=user.id, purpose=text, granted_by=user.username,
                                             expires_at=now + timedelta(days=1)),
        ("pending_account_changes", ("decision_reason",)): PendingAccountChange(
            kind="enable", user_id=user.id, proposed_by=user.username, decision_reason=text),
        ("use_register", ("purpose", "outcome")): UseEntry(
            session_id=uuid.uuid4().hex, user_id=user.id, username=user.username, grant_id=0,
            opened_at=now, purpose=text, outcome=text),
    }
    session.add_all(rows.values())
    session.commit()
    for (table, columns), row in rows.items():
        for column in columns:
            stored = _raw(table, column, "id", row.id)
            assert not leaks(stored), f"{table}.{column} stores {leaks(stored)}: {stored!r}"
            session.execute(sa.text(f"UPDATE {table} SET {column} = :t WHERE id = :i"),
                            {"t": text, "i": row.id})  # as an older version stored it
    session.commit()
    session.expire_all()
    for (table, columns), row in rows.items():
        fresh = session.get(type(row), row.id)
        for column in columns:
            shown = getattr(fresh, column)
            assert not leaks(shown), f"an older {table}.{column} reads back {leaks(shown)}"


def test_the_upgrade_masks_text_stored_by_earlier_releases(tmp_path):
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    upgrade(url, "0013")
    engine = sa.create_engine(url)
    now = utcnow()
    text = f"{TEXTS['id']}，{TEXTS['phone']}，{TEXTS['name']}"
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (id, username, display_name, password_hash, role, unit, "
                             "is_enabled, created_at) VALUES (1, 'zhang', 'z', 'x', 'staff', '海淀', 1, :t)"),
                     {"t": now})
        conn.execute(sa.text(
            "INSERT INTO grants (id, user_id, request_no, approval_ref, purpose, categories, units, "
            "classification_ceiling, archive_nos, unmask_fields, valid_from, valid_until, status, "
            "created_at, decision_reason) VALUES (1, 1, 'SQ-1', 'SP-1', :p, '[]', '[]', 1, '[]', '[]', "
            ":t, :t, 'active', :t, :p)"), {"p": text, "t": now})
        conn.execute(sa.text("INSERT INTO login_throttles (key, scope, username, client_addr, failures) "
                             "VALUES ('account:x', 'account', :u, '', 3)"), {"u": ID_A})
    upgrade(url, "head")
    with engine.connect() as conn:
        purpose, reason = conn.execute(sa.text("SELECT purpose, decision_reason FROM grants")).one()
        names = conn.execute(sa.text("SELECT username FROM login_throttles")).scalars().all()
    assert not leaks(purpose) and not leaks(reason), f"the upgrade left {leaks(purpose + reason)}"
    assert ID_A not in names, f"the upgrade left the typed name {ID_A} in login_throttles"
