"""Guarantee: grants are requested by their holder, approved by someone else (two people for
秘密 and above), usable only from approval to expiry, revocable at once, and every step is in
the audit log (DESIGN.md rules 3 and 4). Failures name the grant state that leaked access."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from search_app.audit.models import AuditRecord
from search_app.db import get_session
from search_app.grants.models import Grant
from search_app.grants.services import (GrantError, Request, Scope, actor_of, approve, deny,
                                        expire_pending, inbox, request_grant, revoke)
from search_app.search import ReadDenied, search_pages
from search_app.timeutil import utcnow
from tests.conftest import login, meta

pytestmark = pytest.mark.integration
PHRASE = "授权流程测试页"


def _request(user, classification="内部", hours=24.0, **kw) -> Request:
    return Request(purpose_category="户籍核查", purpose="核实户籍登记", hours=hours,
                   scope=Scope(["户籍档案"], ["北京市公安局海淀分局"], classification, []), **kw)


def _new(user, **kw):
    session = get_session()
    grant = request_grant(session, user=user, req=_request(user, **kw), actor=actor_of(user))
    session.commit()
    return grant


def _can_search(user, grant) -> bool:
    try:
        search_pages(user=user, grant_id=grant.id, purpose="核实", query=PHRASE)
        return True
    except ReadDenied:
        return False


def _actions(grant) -> list[tuple[str, str]]:
    rows = get_session().execute(select(AuditRecord).where(AuditRecord.grant_id == grant.id)
                                 .order_by(AuditRecord.seq)).scalars()
    return [(r.action, r.username) for r in rows if r.action.startswith("grant.")]


def test_requester_can_never_approve_their_own_request(ctx, make_user):
    both = make_user("staff,approver")
    grant = _new(both)
    assert grant not in inbox(get_session(), both), "own request offered in the approver inbox"
    with pytest.raises(GrantError, match="申请人本人"):
        approve(get_session(), grant, approver=both, actor=actor_of(both))
    get_session().rollback()
    assert grant.status == "pending" and not _can_search(both, grant), \
        "LEAK: a self-approved grant became usable"


def test_pending_and_first_approved_secret_grants_give_no_access(ctx, make_user):
    staff, a1, a2 = make_user("staff"), make_user("approver"), make_user("approver")
    grant = _new(staff, classification="秘密")
    assert not _can_search(staff, grant), "LEAK: a pending request was usable"
    session = get_session()
    approve(session, grant, approver=a1, actor=actor_of(a1))
    session.commit()
    assert grant.status == "pending_second" and grant.approval_ref is None
    assert not _can_search(staff, grant), "LEAK: a 秘密 grant was usable after one approval"
    with pytest.raises(GrantError, match="另一名审批人"):
        approve(session, grant, approver=a1, actor=actor_of(a1))
    session.rollback()
    assert grant not in inbox(session, a1) and grant in inbox(session, a2)
    approve(session, grant, approver=a2, actor=actor_of(a2))
    session.commit()
    assert grant.status == "active" and grant.approval_ref.startswith("SP-")
    assert _can_search(staff, grant)
    assert [a for a, _ in _actions(grant)][:3] == ["grant.request", "grant.approve", "grant.approve"]


def test_approver_may_shorten_but_not_lengthen(ctx, make_user):
    staff, approver = make_user("staff"), make_user("approver")
    long = _new(staff, hours=48)
    with pytest.raises(GrantError, match="不超过"):
        approve(get_session(), long, approver=approver, actor=actor_of(approver), hours=72)
    get_session().rollback()
    approve(get_session(), long, approver=approver, actor=actor_of(approver), hours=2)
    get_session().commit()
    assert long.valid_until - long.valid_from == timedelta(hours=2)


def test_denied_request_is_unusable_and_the_reason_is_kept(ctx, make_user):
    staff, approver = make_user("staff"), make_user("approver")
    grant = _new(staff)
    with pytest.raises(GrantError, match="理由"):
        deny(get_session(), grant, approver=approver, reason=" ", actor=actor_of(approver))
    get_session().rollback()
    deny(get_session(), grant, approver=approver, reason="事由不充分", actor=actor_of(approver))
    get_session().commit()
    with pytest.raises(ReadDenied, match="事由不充分"):
        search_pages(user=staff, grant_id=grant.id, purpose="核实", query=PHRASE)
    with pytest.raises(GrantError):
        approve(get_session(), grant, approver=approver, actor=actor_of(approver))
    get_session().rollback()


def test_unanswered_requests_lapse(ctx, make_user):
    staff, approver = make_user("staff"), make_user("approver")
    grant = _new(staff)
    grant.created_at = utcnow() - timedelta(hours=ctx.config["PENDING_REQUEST_HOURS"] + 1)
    get_session().commit()
    with pytest.raises(GrantError, match="逾期未审批"):
        approve(get_session(), grant, approver=approver, actor=actor_of(approver))
    get_session().commit()  # the lapse itself is kept (and audited)
    assert grant.status == "lapsed", "LEAK: a stale request could still be approved"
    assert ("grant.lapse", "system") in _actions(grant)
    assert expire_pending(get_session()) == 0


def test_revocation_takes_effect_on_the_next_read(app, ctx, make_user, make_grant, ingest):
    ingest([meta("GR-0001", pages=[[f"{PHRASE} 内容足够长以使用文本层"]])])
    staff, approver = make_user("staff"), make_user("approver")
    grant = make_grant(staff)
    assert _can_search(staff, grant)
    # The revocation comes from another request (the approver's browser), not this session.
    client = app.test_client()
    login(client, approver.username)
    resp = client.post(f"/grants/{grant.id}/revoke", data={"reason": "案件已办结", "confirm": "yes"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    with pytest.raises(ReadDenied, match="已被撤销：案件已办结"):
        search_pages(user=staff, grant_id=grant.id, purpose="核实", query=PHRASE)
    denied = get_session().execute(select(AuditRecord).where(AuditRecord.user_id == staff.id)
                                   .order_by(AuditRecord.seq.desc())).scalars().first()
    assert (denied.outcome, denied.approval_ref) == ("denied", grant.approval_ref)


def test_expired_and_revoked_grants_stay_in_the_history(app, ctx, make_user, make_grant):
    staff = make_user("staff")
    old = make_grant(staff)
    old.valid_until = utcnow() - timedelta(minutes=1)
    gone = make_grant(staff)
    revoke(get_session(), gone, by=staff, reason="", actor=actor_of(staff))
    get_session().commit()
    client = app.test_client()
    login(client, staff.username)
    html = client.get("/grants/").get_data(as_text=True)
    assert old.approval_ref in html and "过期" in html
    assert gone.approval_ref in html and "已撤销" in html


def test_request_and_decision_through_the_ui(app, ctx, make_user):
    staff, a1, a2 = make_user("staff"), make_user("approver"), make_user("approver")
    c_staff, c_a1, c_a2 = app.test_client(), app.test_client(), app.test_client()
    for c, u in ((c_staff, staff), (c_a1, a1), (c_a2, a2)):
        login(c, u.username)
    bad = c_staff.post("/grants/new", data={"purpose_category": "户籍核查", "purpose": "",
                                            "categories": ["户籍档案"], "units": "海淀分局",
                                            "classification": "机密", "days": "1"})
    assert bad.status_code == 400 and "必须填写查询事由" in bad.get_data(as_text=True)
    ok = c_staff.post("/grants/new", data={"purpose_category": "政审", "purpose": "政审核实",
                                           "categories": ["户籍档案"], "units": "海淀分局",
                                           "classification": "机密", "days": "2",
                                           "unmask_fields": ["phone"]})
    assert ok.status_code == 302
    grant = get_session().execute(select(AuditRecord).where(AuditRecord.username == staff.username,
                                                            AuditRecord.action == "grant.request")
                                  ).scalars().one()
    gid = grant.grant_id
    assert "政审核实" in c_a1.get("/grants/inbox").get_data(as_text=True)
    staff_inbox = c_staff.get("/grants/inbox")
    assert staff_inbox.status_code == 403, \
        f"a staff member without the approver role opened the approval inbox ({staff_inbox.status_code})"
    assert "政审核实" not in staff_inbox.get_data(as_text=True)
    c_a1.post(f"/grants/{gid}/decide", data={"decision": "approve", "days": "1"})
    session = get_session()
    session.expire_all()
    assert session.get(Grant, gid).status == "pending_second", "机密 was active after one approval"
    pending_a1 = c_a1.get("/grants/inbox").get_data(as_text=True).split("我处理过的申请")[0]
    assert "政审核实" not in pending_a1, "the first approver is offered the second approval too"
    again = c_a1.post(f"/grants/{gid}/decide", data={"decision": "approve", "days": "1"})
    session.expire_all()
    assert again.status_code == 303 and session.get(Grant, gid).status == "pending_second", \
        "the first approver's second click activated the grant alone"
    c_a2.post(f"/grants/{gid}/decide", data={"decision": "approve", "days": "1"})
    mine = c_staff.get("/grants/").get_data(as_text=True)
    assert "SP-" in mine and "有效" in mine
    actions = [a for a, _ in _actions(type("G", (), {"id": gid})())]
    assert actions.count("grant.approve") == 2
