"""The one-step search form (grant, typed purpose and query posted together to /search) answers
303 to the GET results page of a reading session opened for it: Back and reload then repeat a
GET (no "Confirm Form Resubmission", no 405), the page is cached in the session (no second
audited read), and its results open pages by GET links. A grant that cannot be used is refused
by the read itself, audited, and opens no session."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from search_app.db import get_session
from search_app.reading.models import ReadingSession
from tests.conftest import audit_records, login, meta

pytestmark = pytest.mark.integration
FILE = "PF-2021-0001"
PHRASE = "一步表单重定向测试"


@pytest.fixture()
def corpus(ingest):
    progress, _ = ingest([meta(FILE, pages=[[f"{PHRASE} 户籍登记 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors


def test_posted_search_redirects_to_the_session_results(app, ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    resp = client.post("/search", data={"grant_id": grant.id, "purpose": "一步表单核实", "q": PHRASE})
    assert resp.status_code == 303, f"the one-step form answered {resp.status_code}, not 303 to a GET"
    target = urlsplit(resp.location)
    args = parse_qs(target.query)
    assert target.path == "/search" and args["q"] == [PHRASE] and args["s"], resp.location
    assert "purpose" not in args and "grant_id" not in args, f"the purpose travels in the URL: {resp.location}"
    first = client.get(resp.location)
    again = client.get(resp.location)  # reload / Back: the same GET
    for shown in (first, again):
        page = shown.get_data(as_text=True)
        assert shown.status_code == 200 and FILE in page, page[:400]
        assert 'method="post" action="/pages/' not in page, "results still open pages by POST"
    records = audit_records("search", user_id=user.id)
    assert len(records) == 1, f"{len(records)} search records for one search shown twice"
    assert records[0].filters["reading_session"] == args["s"][0] and records[0].purpose == "一步表单核实"


def test_posted_search_with_a_foreign_grant_is_refused_and_opens_nothing(app, ctx, corpus, make_user,
                                                                         make_grant):
    owner, thief = make_user("staff"), make_user("staff")
    grant = make_grant(owner)
    client = app.test_client()
    assert login(client, thief.username).status_code == 302
    resp = client.post("/search", data={"grant_id": grant.id, "purpose": "借用他人授权", "q": PHRASE})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 403 and FILE not in page, \
        f"ALLOWED: another user's grant answered {resp.status_code}"
    assert audit_records("search", user_id=thief.id, outcome="denied"), "the refusal was not audited"
    opened = get_session().execute(select(func.count()).select_from(ReadingSession).where(
        ReadingSession.user_id == thief.id)).scalar_one()
    assert opened == 0, "a refused one-step form opened a reading session"
