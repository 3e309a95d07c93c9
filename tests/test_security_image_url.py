"""Guarantee: a page image is served only through the short-lived signed link that the page
view minted for that user, grant, page and audit record; no purpose is ever in a URL (issue 9,
item 6).

Reproduced before: GET /pages/<doc>/image?grant_id=..&purpose=.. performed an audited read with
a purpose chosen by whoever wrote the link (an <img> on any page the victim opens), and the
purpose landed in access logs and browser history.
"""
from __future__ import annotations

import time
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select

from search_app.audit.models import AuditRecord
from search_app.db import get_session
from search_app.grants.services import actor_of, revoke
from tests.conftest import image_url, login, meta

pytestmark = pytest.mark.integration
P1, P2 = "SU-0001#p0001", "SU-0001#p0002"
PURPOSE = "核实户籍信息（图像签名测试）"


@pytest.fixture()
def pages(ingest):
    progress, _ = ingest([meta("SU-0001", fmt="png", pages=[["签名链接测试 第一页", "海淀分局"],
                                                            ["签名链接测试 第二页", "海淀分局"]])])
    assert progress.files_failed == 0, progress.errors


@pytest.fixture()
def reader(app, ctx, pages, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    client = app.test_client()
    login(client, user.username)
    return user, grant, client


def _last(user) -> AuditRecord:
    return get_session().execute(select(AuditRecord).where(AuditRecord.user_id == user.id)
                                 .order_by(AuditRecord.seq.desc())).scalars().first()


def _refused(resp, what: str, expect: str) -> None:
    assert resp.mimetype != "image/png" and resp.status_code in (400, 403), \
        f"ALLOWED: {what} was served the image ({resp.status_code})"
    assert expect in resp.get_data(as_text=True), resp.get_data(as_text=True)


def test_signed_link_carries_no_purpose_and_reads_under_the_view_record(reader):
    user, grant, client = reader
    url = image_url(client, P1, grant.id, purpose=PURPOSE)
    view = _last(user)
    assert (view.action, view.purpose) == ("page.view", PURPOSE)
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"t"}, f"the image URL carries more than its token: {sorted(query)}"
    assert "purpose" not in url and quote(PURPOSE) not in url and PURPOSE not in url, \
        f"LEAK: the purpose is in the image URL {url}"
    resp = client.get(url)
    assert resp.status_code == 200 and resp.mimetype == "image/png", resp.get_data(as_text=True)
    rec = _last(user)
    assert (rec.action, rec.outcome, rec.purpose, rec.grant_id, rec.returned_ids) == \
        ("page.image", "allowed", PURPOSE, grant.id, [P1])
    assert rec.filters["page_view_record"] == view.seq, "the image read does not name its page view"


def test_a_link_with_a_purpose_is_refused_and_audited(reader):
    user, grant, client = reader
    legacy = f"/pages/{quote(P1)}/image?grant_id={grant.id}&purpose=%E5%8F%91%E9%80%81"
    _refused(client.get(legacy), "an attacker-written link with grant_id and purpose", "不得包含")
    rec = _last(user)
    assert (rec.action, rec.outcome) == ("page.image", "denied"), "the refusal was not audited"
    signed = image_url(client, P1, grant.id)
    _refused(client.get(signed + "&purpose=x"), "a signed link with a purpose added", "purpose")


def test_another_users_link_is_refused(app, reader, make_user, make_grant):
    _, grant, client = reader
    url = image_url(client, P1, grant.id)
    other = make_user("staff")
    make_grant(other)  # B may read the page under B's own grant, but not through A's link
    b = app.test_client()
    login(b, other.username)
    _refused(b.get(url), "user B with user A's signed link", "另一名用户")
    assert _last(other).outcome == "denied"


def test_a_link_for_one_page_does_not_open_another(reader):
    _, grant, client = reader
    token = parse_qs(urlsplit(image_url(client, P1, grant.id)).query)["t"][0]
    _refused(client.get(f"/pages/{quote(P2)}/image", query_string={"t": token}),
             f"the link of {P1} used for {P2}", "另一个页面")
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    _refused(client.get(f"/pages/{quote(P1)}/image", query_string={"t": forged}),
             "a link with a forged signature", "签名无效")
    _refused(client.get(f"/pages/{quote(P1)}/image"), "a link without a token", "缺少签名")


def test_an_expired_link_is_refused(app, settings, ctx, pages, make_user, make_grant):
    from search_app import create_app

    short = create_app({**settings, "IMAGE_URL_SECONDS": 1})
    try:
        user = make_user("staff")
        grant = make_grant(user)
        client = short.test_client()
        login(client, user.username)
        url = image_url(client, P1, grant.id)
        assert client.get(url).status_code == 200
        time.sleep(2.2)
        _refused(client.get(url), "a link older than IMAGE_URL_SECONDS", "已过期")
    finally:
        app.extensions["celery"].set_current()
        app.extensions["celery"].set_default()


def test_a_link_stops_working_when_the_grant_is_revoked(reader, make_user):
    user, grant, client = reader
    url = image_url(client, P1, grant.id)
    assert client.get(url).status_code == 200
    approver = make_user("approver")
    revoke(get_session(), grant, by=approver, reason="调查结束", actor=actor_of(approver))
    get_session().commit()
    _refused(client.get(url), "a link minted before its grant was revoked", "已被撤销")
    assert _last(user).outcome == "denied"
