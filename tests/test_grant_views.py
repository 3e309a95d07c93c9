"""The grant forms as people fill them in: bad input is refused with a reason and nothing is
granted by accident (an unreadable or zero "approve for N days" must not approve the full
duration), nobody approves their own request through the inbox, denials need a reason and stay
visible in the requester's history."""
from __future__ import annotations

import pytest

from search_app.db import get_session
from search_app.grants.models import Grant
from tests.conftest import login, signed_in_client

pytestmark = pytest.mark.integration
UNIT = "北京市公安局海淀分局"
REQUEST = {"purpose_category": "户籍核查", "purpose": "核实户口登记", "categories": ["户籍档案"],
           "units": UNIT, "classification": "内部", "days": "2"}


def _latest(user) -> Grant | None:
    session = get_session()
    session.expire_all()
    return session.query(Grant).filter(Grant.user_id == user.id).order_by(Grant.id.desc()).first()


@pytest.fixture()
def pending(app, ctx, make_user, catalogued):
    staff = make_user("staff")
    client = signed_in_client(app, staff)
    resp = client.post("/grants/new", data=REQUEST)
    assert resp.status_code == 302, resp.get_data(as_text=True)[-500:]
    grant = _latest(staff)
    assert grant.status == "pending" and grant.requested_hours == 48
    return staff, client, grant


def _decide(client, grant, **form):
    resp = client.post(f"/grants/{grant.id}/decide", data=form)
    assert resp.status_code == 303
    return client.get(resp.location).get_data(as_text=True)


@pytest.mark.parametrize("days,message", [("abc", "不是数字"), ("0", "批准时长必须大于 0"),
                                          ("-1", "批准时长必须大于 0"), ("3", "不超过申请的 48 小时"),
                                          ("nan", "批准时长必须大于 0")])
def test_bad_approval_days_never_approve(days, message, app, pending, make_user):
    _, _, grant = pending
    approver = signed_in_client(app, make_user("approver"))
    page = _decide(approver, grant, decision="approve", days=days)
    assert message in page, f"days={days!r}: no reason shown"
    after = _latest(grant.user)
    assert after.status == "pending", \
        f"LEAK: approve with days={days!r} granted access ({after.status}, {after.requested_hours} h)"


def test_approver_may_shorten_the_duration(app, pending, make_user):
    _, _, grant = pending
    approver = signed_in_client(app, make_user("approver"))
    page = _decide(approver, grant, decision="approve", days="0.5")
    after = _latest(grant.user)
    assert after.status == "active" and after.approval_ref in page
    assert (after.valid_until - after.valid_from).total_seconds() == 12 * 3600


def test_blank_days_approves_the_requested_duration(app, pending, make_user):
    _, _, grant = pending
    approver = signed_in_client(app, make_user("approver"))
    _decide(approver, grant, decision="approve", days="")
    after = _latest(grant.user)
    assert after.status == "active" and (after.valid_until - after.valid_from).total_seconds() == 48 * 3600


def test_nobody_approves_their_own_request_in_the_ui(app, ctx, make_user, catalogued):
    both = make_user("staff,approver")
    client = signed_in_client(app, both)
    assert client.post("/grants/new", data=REQUEST).status_code == 302
    grant = _latest(both)
    page = client.get("/grants/inbox").get_data(as_text=True)
    inbox = page[page.index('<table id="inbox"'):].split("</table>")[0]
    assert grant.request_no not in inbox, "the requester's own request is in their inbox"
    page = _decide(client, grant, decision="approve", days="1")
    assert "不能由申请人本人批准" in page
    assert _latest(both).status == "pending", "LEAK: a request was approved by its requester"


def test_deny_needs_a_reason_and_stays_in_history(app, pending, make_user):
    staff, staff_client, grant = pending
    approver = signed_in_client(app, make_user("approver"))
    assert "驳回必须填写理由" in _decide(approver, grant, decision="deny", reason=" ")
    assert _latest(staff).status == "pending"
    _decide(approver, grant, decision="deny", reason="事由不充分")
    assert _latest(staff).status == "denied"
    history = staff_client.get("/grants/").get_data(as_text=True)
    assert grant.request_no in history and "事由不充分" in history, "a denied request vanished from history"


@pytest.mark.parametrize("field,value,message", [
    ("days", "两天", "申请时长（天）必须是数字"), ("days", "0", "授权时长必须大于 0"),
    ("categories", [], "档案门类必须从"), ("units", " ", "必须指定至少一个单位"),
    ("purpose", " ", "必须填写查询事由"), ("purpose_category", "闲看", "查询事由类别必须是"),
    ("classification", "绝密", "密级上限必须是"), ("subject_id", "12345", "15 或 18 位身份证号"),
])
def test_bad_requests_are_refused_with_a_reason(field, value, message, app, ctx, make_user, catalogued):
    staff = make_user("staff")
    client = signed_in_client(app, staff)
    resp = client.post("/grants/new", data={**REQUEST, field: value})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "申请未提交" in body and message in body, \
        f"{field}={value!r}: {resp.status_code}, reason {message!r} not shown"
    assert _latest(staff) is None, f"a request with a bad {field} was stored"



def test_irreversible_actions_need_an_explicit_confirmation(app, ctx, make_user, make_grant, admin):
    """放弃授权, 立即撤销 and 清除身份登记 cannot be undone: one stray click must not do them."""
    staff, approver = make_user("staff"), make_user("approver")
    grant = make_grant(staff)
    holder, boss = app.test_client(), app.test_client()
    login(holder, staff.username)
    login(boss, approver.username)
    session = get_session()
    for client, url, back in ((holder, f"/grants/{grant.id}/end", "/grants/"),
                              (boss, f"/grants/{grant.id}/revoke", "/grants/inbox")):
        client.post(url, data={"reason": "误点"})
        session.expire_all()
        assert session.get(Grant, grant.id).status == "active", f"{url} acted without confirmation"
        assert "请勾选“确认”" in client.get(back).get_data(as_text=True), f"{url}: no reason shown"
    assert holder.post(f"/grants/{grant.id}/end", data={"confirm": "yes"}).status_code == 303
    session.expire_all()
    assert session.get(Grant, grant.id).status == "revoked"
    _, sec = admin
    target = make_user("staff", id_number="110105198001011238")
    sec.post(f"/admin/users/{target.id}/action", data={"action": "clear_identity"})
    session.expire_all()
    assert session.get(type(target), target.id).id_number_hmac, "identity cleared without confirmation"
    sec.post(f"/admin/users/{target.id}/action", data={"action": "clear_identity", "confirm": "yes"})
    session.expire_all()
    assert session.get(type(target), target.id).id_number_hmac is None
