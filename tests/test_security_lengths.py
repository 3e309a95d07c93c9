"""Guarantee: over-long values are refused before anything is written, with the limit named,
and never silently shortened where they are stored as authoritative (issue 9, item 6).

The attack that was reproduced: a 20,015-character user name stored in a 64-character column
(SQLite does not enforce VARCHAR lengths). Each case below types such a value where the app
accepts text, then checks the database for what got in.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from search_app import limits
from search_app.accounts.models import User
from search_app.accounts.services import AccountError, create_user, update_user
from search_app.audit.models import AuditRecord
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.grants.services import (GrantError, Request, Scope, actor_of, deny, request_grant,
                                        revoke)
from search_app.search import QuerySyntaxError, ReadDenied, search_pages, view_page
from tests.conftest import PASSWORD, login

pytestmark = pytest.mark.integration
HUGE = "长" * 20_015


def _longest(column) -> int:
    return get_session().execute(select(func.max(func.length(column)))).scalar_one() or 0


def _last(user_id: int | None = None, username: str | None = None) -> AuditRecord:
    stmt = select(AuditRecord).order_by(AuditRecord.seq.desc())
    stmt = stmt.where(AuditRecord.user_id == user_id) if user_id else stmt.where(
        AuditRecord.username == username)
    return get_session().execute(stmt).scalars().first()


@pytest.mark.parametrize("field, value, limit", [
    ("username", "u" * 20_015, limits.USERNAME),
    ("display_name", HUGE, limits.DISPLAY_NAME),
    ("unit", HUGE, limits.UNIT),
])
def test_account_fields_are_refused_with_the_limit(ctx, field, value, limit):
    args = {"username": f"len-{field}", "password": PASSWORD, "role": "staff", field: value}
    before = get_session().execute(select(func.count()).select_from(User)).scalar_one()
    with pytest.raises(AccountError, match=f"最多 {limit} 个字符，收到 {len(value)} 个"):
        create_user(get_session(), **args)
    get_session().rollback()
    after = get_session().execute(select(func.count()).select_from(User)).scalar_one()
    assert after == before, f"STORED: a user with a {len(value)}-character {field} was created"


def test_admin_form_refuses_a_20015_character_user_name(admin):
    _, client = admin
    resp = client.post("/admin/users/new", data={"username": "x" * 20_015, "password": PASSWORD,
                                                 "roles": ["staff"]})
    assert resp.status_code == 400 and "最多 64 个字符" in resp.get_data(as_text=True)
    assert _longest(User.username) <= limits.USERNAME, "STORED: an over-long user name"
    refusal = _last(admin[0].id)
    assert (refusal.action, refusal.outcome) == ("user.create", "denied")
    assert len(refusal.filters["target"]) <= limits.USERNAME, \
        f"STORED: the refusal's audit record holds a {len(refusal.filters['target'])}-character name"


def test_update_refuses_before_changing_anything(ctx, make_user):
    by, user = make_user("security_admin"), make_user("staff", unit="海淀分局")
    with pytest.raises(AccountError, match=f"单位过长：最多 {limits.UNIT} 个字符"):
        update_user(get_session(), user, by=by, display_name="新名字", unit=HUGE)
    get_session().rollback()
    get_session().refresh(user)
    assert (user.unit, user.display_name) == ("海淀分局", user.username), \
        "a refused update still changed the account"


def test_login_with_a_huge_name_stores_no_huge_name(app, ctx):
    resp = login(app.test_client(), "x" * 20_015, "whatever-password")
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    assert _longest(AuditRecord.username) <= limits.USERNAME, \
        f"STORED: an audit record with a {_longest(AuditRecord.username)}-character user name"


def test_over_long_purpose_and_query_are_refused_and_audited_shortened(ctx, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    with pytest.raises(ReadDenied, match=f"查询事由过长：最多 {limits.PURPOSE} 个字符，收到 20015 个"):
        search_pages(user=user, grant_id=grant.id, purpose=HUGE, query="户籍")
    rec = _last(user.id)
    assert (rec.action, rec.outcome) == ("search", "denied"), "the refusal was not audited"
    assert len(rec.purpose) <= limits.PURPOSE and rec.purpose.endswith("…"), \
        f"STORED: the audit record holds a {len(rec.purpose)}-character purpose"
    with pytest.raises(ReadDenied, match=f"查询内容过长：最多 {limits.QUERY} 个字符"):
        view_page(user=user, grant_id=grant.id, purpose="核实", doc_id="D" * 20_015)
    rec = _last(user.id)
    assert (rec.action, rec.outcome) == ("page.view", "denied")
    assert len(rec.query) <= limits.QUERY and rec.query.endswith("…"), \
        f"STORED: the audit record holds a {len(rec.query)}-character query"
    before = _last(user.id).seq
    with pytest.raises(QuerySyntaxError, match="查询内容过长（最多 200 字）"):  # refused unparsed
        search_pages(user=user, grant_id=grant.id, purpose="核实", query="户籍 " * 5_000)
    assert _last(user.id).seq == before or len(_last(user.id).query) <= limits.QUERY


def test_api_refuses_an_over_long_purpose(app, ctx, make_user, make_grant):
    from search_app.accounts.services import issue_api_token

    user = make_user("staff")
    grant = make_grant(user)
    token = issue_api_token(get_session(), user)
    get_session().commit()
    resp = app.test_client().post("/api/v1/search", headers={"Authorization": f"Bearer {token}"},
                                  json={"grant_id": grant.id, "purpose": HUGE, "q": "户籍"})
    assert resp.status_code == 403 and "最多 500 个字符" in resp.get_json()["message"]


def test_grant_purpose_and_decision_reasons_are_capped(ctx, make_user, make_grant):
    staff, approver = make_user("staff"), make_user("approver")
    session = get_session()
    before = session.execute(select(func.count()).select_from(Grant)).scalar_one()
    req = Request(purpose_category="户籍核查", purpose=HUGE, hours=8,
                  scope=Scope(["户籍档案"], ["海淀分局"], "内部", []))
    with pytest.raises(GrantError, match=f"查询事由过长：最多 {limits.PURPOSE} 个字符"):
        request_grant(session, user=staff, req=req, actor=actor_of(staff))
    session.rollback()
    assert session.execute(select(func.count()).select_from(Grant)).scalar_one() == before, \
        "STORED: a grant request with a 20,015-character purpose"
    pending = request_grant(session, user=staff, actor=actor_of(staff),
                            req=Request(purpose_category="户籍核查", purpose="核查", hours=8,
                                        scope=Scope(["户籍档案"], ["海淀分局"], "内部", [])))
    session.commit()
    with pytest.raises(GrantError, match=f"驳回理由过长：最多 {limits.REASON} 个字符"):
        deny(session, pending, approver=approver, reason=HUGE, actor=actor_of(approver))
    session.rollback()
    session.refresh(pending)
    assert pending.status == "pending" and len(pending.decision_reason or "") == 0
    active = make_grant(staff)
    with pytest.raises(GrantError, match=f"撤销理由过长：最多 {limits.REASON} 个字符"):
        revoke(session, active, by=approver, reason=HUGE, actor=actor_of(approver))
    session.rollback()
    session.refresh(active)
    assert active.status == "active", "a refused revocation still changed the grant"
