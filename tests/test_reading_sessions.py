"""Reading sessions (issue 10, requirement 4) as an attacker and as a reader would use them:
pages are GET links that carry only the session id; a link outside its owner's live session
reads nothing; Back, reload and paging back come from the session's cache and write no new
audit record; every record names the session; the purpose is in no URL and no log line."""
from __future__ import annotations

import html
import logging
import re
from datetime import timedelta
from urllib.parse import quote, urlsplit

import pytest

from search_app.audit.service import Actor
from search_app.db import get_session
from search_app.grants.services import revoke
from search_app.reading.models import ReadingSession
from search_app.timeutil import utcnow
from tests.conftest import audit_records, meta, signed_in_client

pytestmark = pytest.mark.integration

PREFIX = "RS-"
FILE = "RS-2021-0007"
PHRASE = "阅读会话迁移证明"
PHONE = "13587654321"
# a purpose a reader might type, with a phone number in it: masked in the audit, never in a URL
PURPOSE = f"核实{PHRASE}登记，来电人电话{PHONE}"


@pytest.fixture()
def corpus(ingest):
    progress, _ = ingest([meta(FILE, year=2021, pages=[
        [f"{PHRASE} 第一页 户主登记内容足够长以使用文本层"],
        [f"第二页 {PHRASE} 附件材料内容足够长以使用文本层"],
        ["第三页 备考表 内容足够长以使用文本层 无关键词"]])])
    assert progress.files_failed == 0, progress.errors


def open_session(client, grant_id: int, purpose: str = PURPOSE, q: str = "") -> str:
    resp = client.post("/reading/open", data={"grant_id": grant_id, "purpose": purpose, "q": q})
    assert resp.status_code == 303, resp.get_data(as_text=True)[-800:]
    sid = re.search(r"[?&]s=([\w-]+)", resp.location)
    assert sid, f"the redirect after opening names no session: {resp.location}"
    return sid.group(1)


def _urls(body: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'(?:href|src|action)="([^"]*)"', body)]


def _page_link(body: str, doc_id: str) -> str:
    for url in _urls(body):
        if urlsplit(url).path == f"/pages/{quote(doc_id)}":
            return url
    raise AssertionError(f"the results do not link to {doc_id}")


def _mine(action: str, user) -> list:
    return audit_records(action, user_id=user.id)


def test_journey_by_get_links_audits_each_new_read_once(app, ctx, corpus, make_user, make_grant,
                                                        caplog):
    caplog.set_level(logging.DEBUG)
    user = make_user("staff")
    grant = make_grant(user)
    client = signed_in_client(app, user)
    sid = open_session(client, grant.id)
    [opened] = _mine("reading.open", user)
    assert opened.filters["reading_session"] == sid and opened.approval_ref == grant.ref
    assert PHONE not in opened.purpose, f"LEAKED the phone {PHONE} in the session's audit purpose"

    url = f"/search?s={sid}&q={quote(PHRASE)}"
    first = client.get(url)
    body = first.get_data(as_text=True)
    assert first.status_code == 200, body[-800:]
    assert f"{FILE}#p0001" in body and f"{FILE}#p0002" in body, "the search misses the file's pages"
    [search] = _mine("search", user)
    assert search.filters.get("reading_session") == sid, "the search record does not name the session"
    assert search.approval_ref == grant.ref and search.purpose == opened.purpose

    again = client.get(url)  # reload / Back
    assert again.status_code == 200 and f"{FILE}#p0001" in again.get_data(as_text=True)
    assert 'id="from-cache"' in again.get_data(as_text=True)
    assert len(_mine("search", user)) == 1, "a reload of the results was audited as a new search"

    page_url = _page_link(body, f"{FILE}#p0001")
    view = client.get(page_url)
    page = view.get_data(as_text=True)
    assert view.status_code == 200, page[-800:]
    assert f"<mark>{PHRASE}</mark>" in page, "the query words are not marked in the page text"
    assert 'id="next-page"' in page and 'id="back-to-results"' in page
    assert client.get(page_url).status_code == 200
    [pv] = _mine("page.view", user)
    assert pv.filters.get("reading_session") == sid and pv.returned_ids == [f"{FILE}#p0001"]

    next_url = html.unescape(re.search(r'id="next-page"[^>]*href="([^"]+)"|href="([^"]+)" id="next-page"', page).group(2) or "")
    assert f"/pages/{quote(FILE + '#p0002')}" in next_url, next_url
    second = client.get(next_url).get_data(as_text=True)
    assert 'id="prev-page"' in second and f"第 2/3 页" in second
    back = html.unescape(re.search(r'href="([^"]+)" id="back-to-results"', second).group(1))
    assert client.get(back).status_code == 200
    assert len(_mine("search", user)) == 1, "返回结果 searched again instead of using the cache"

    img_url = html.unescape(re.search(r'id="page-image"[^>]*src="([^"]+)"', page).group(1))
    for _ in range(2):
        img = client.get(img_url)
        assert img.status_code == 200 and img.mimetype == "image/png", img.get_data(as_text=True)[:300]
    thumb = client.get(img_url + "&thumb=1")
    assert thumb.status_code == 200 and thumb.mimetype == "image/png"
    images = _mine("page.image", user)
    assert len(images) == 1, f"one image read became {len(images)} audit records"
    assert images[0].filters.get("reading_session") == sid

    # the purpose is in no URL the pages carry and no log line of the whole journey
    for text in (body, page, second):
        for u in _urls(text):
            assert PURPOSE not in u and quote(PURPOSE) not in u and PHONE not in u, \
                f"LEAK: the purpose travels in a URL: {u}"
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert PHONE not in logged and "来电人电话" not in logged, "LEAK: the purpose reached the log"
    row = get_session().get(ReadingSession, sid)
    assert PHONE.encode() not in row.purpose_ciphertext, "the session row stores the purpose in clear"


def test_purpose_is_required_typed_and_capped(app, ctx, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user, purpose="授权申请事由")
    client = signed_in_client(app, user)
    form = client.get("/search").get_data(as_text=True)
    assert re.search(r'id="purpose" name="purpose" value=""', form), "查询事由 is pre-filled"
    assert "授权申请事由" not in form.split('id="purpose"')[1][:200]
    for purpose, why in (("", "必须填写"), ("  ", "必须填写"), ("x" * 501, "过长")):
        resp = client.post("/reading/open", data={"grant_id": grant.id, "purpose": purpose})
        assert resp.status_code == 400 and why in resp.get_data(as_text=True), \
            f"purpose {purpose[:10]!r} answered {resp.status_code}"
    other = make_grant(make_user("staff"))
    resp = client.post("/reading/open", data={"grant_id": other.id, "purpose": "核实"})
    assert resp.status_code == 403 and "不属于您" in resp.get_data(as_text=True), \
        "a session was opened under another user's grant"
    assert get_session().query(ReadingSession).filter_by(user_id=user.id).count() == 0


def test_other_users_link_reads_nothing(app, ctx, corpus, make_user, make_grant):
    owner, other = make_user("staff"), make_user("staff")
    grant = make_grant(owner)
    make_grant(other)  # the second account has a grant of its own, for the same scope
    mine, theirs = signed_in_client(app, owner), signed_in_client(app, other)
    sid = open_session(mine, grant.id)
    q = f"/search?s={sid}&q={quote(PHRASE)}"
    assert FILE in mine.get(q).get_data(as_text=True)  # cached for the owner now
    doc = quote(f"{FILE}#p0001")
    mine.get(f"/pages/{doc}?s={sid}")
    mine.get(f"/pages/{doc}/image?s={sid}")
    before = len(audit_records("search", user_id=other.id, outcome="allowed"))
    for url in (q, f"/pages/{doc}?s={sid}", f"/pages/{doc}/image?s={sid}",
                f"/pages/{doc}/image?s={sid}&thumb=1", f"/pages/{doc}?s={sid}&unmask=1"):
        resp = theirs.get(url)
        text = resp.get_data(as_text=True) if not resp.mimetype.startswith("image") else "<png>"
        assert resp.status_code == 403, f"{url} answered {resp.status_code} to the second account"
        assert FILE not in text.replace(doc, "") and PHRASE not in text and "<png>" != text, \
            f"LEAK: the owner's cached read was served to the second account at {url}"
        assert "开启阅读会话" in text and "不属于您" in text, text[:400]
    pdf = theirs.post("/reading/export.pdf", data={"s": sid, "doc": f"{FILE}#p0001"})
    assert pdf.status_code == 403 and pdf.mimetype != "application/pdf", "another user exported"
    assert len(audit_records("search", user_id=other.id, outcome="allowed")) == before
    denied = audit_records("search", user_id=other.id, outcome="denied")
    assert denied and denied[-1].filters.get("reading_session") == sid and denied[-1].grant_id is None, \
        "the refused link is not audited, or its record names the owner's grant"


def test_expired_idle_closed_sessions_ask_to_open(app, ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    client = signed_in_client(app, user)
    doc = quote(f"{FILE}#p0001")
    cases = {"idle": "无操作", "expired": "到期", "closed": "已于"}
    for case, why in cases.items():
        sid = open_session(client, grant.id)
        assert client.get(f"/pages/{doc}?s={sid}").status_code == 200
        row = get_session().get(ReadingSession, sid)
        if case == "idle":
            row.last_used_at = utcnow() - timedelta(minutes=app.config["READING_IDLE_MINUTES"] + 1)
        elif case == "expired":
            row.expires_at = utcnow() - timedelta(seconds=1)
        get_session().commit()
        if case == "closed":
            assert client.post("/reading/close", data={"s": sid}).status_code == 303
            assert audit_records("reading.close", user_id=user.id)
        resp = client.get(f"/pages/{doc}?s={sid}")
        text = resp.get_data(as_text=True)
        assert resp.status_code == 403 and why in text and "开启阅读会话" in text, (case, text[:500])
        assert PHRASE not in text, f"LEAK: a {case} session still served the cached page"


def test_revoked_grant_mid_session(app, ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    client = signed_in_client(app, user)
    sid = open_session(client, grant.id)
    q = f"/search?s={sid}&q={quote(PHRASE)}"
    assert FILE in client.get(q).get_data(as_text=True)
    revoke(get_session(), grant, by=user, reason="", actor=Actor(user.id, user.username, "staff"))
    get_session().commit()
    for url in (q, f"/pages/{quote(FILE + '#p0001')}?s={sid}"):
        resp = client.get(url)
        text = resp.get_data(as_text=True)
        assert resp.status_code == 403 and "已被撤销" in text, f"{url} after revocation: {resp.status_code}"
        assert PHRASE not in text, "LEAK: cached results were served after the grant was revoked"
    assert get_session().get(ReadingSession, sid).close_reason == "grant"


def test_lookup_in_session_links_to_page_and_reposts_nothing(app, ctx, ingest, make_user,
                                                             make_grant):
    id_no = "110105198203045671"
    progress, _ = ingest([meta("RS-LK-0001", subject_id=id_no,
                               pages=[[f"查找测试 身份证号 {id_no} 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors
    user = make_user("staff")
    grant = make_grant(user, unmask_fields=("id_number",), allow_lookup=True)
    client = signed_in_client(app, user)
    resp = client.post("/reading/open", data={"grant_id": grant.id, "purpose": "核实身份",
                                               "next": "lookup"})
    assert resp.status_code == 303 and resp.location.startswith("/lookup?s=")
    sid = re.search(r"s=([\w-]+)", resp.location).group(1)
    posted = client.post("/lookup", data={"s": sid, "kind": "id_number", "value": id_no})
    assert posted.status_code == 303, posted.get_data(as_text=True)[-500:]
    assert id_no not in posted.location, "LEAK: the looked-up value is in the redirect URL"
    shown = client.get(posted.location).get_data(as_text=True)
    link = _page_link(shown, "RS-LK-0001#p0001")
    assert f"s={sid}" in link
    assert client.get(posted.location).status_code == 200  # reload: from the cache
    assert len(audit_records("pii.lookup", user_id=user.id)) == 1
    page = client.get(link)
    assert page.status_code == 200 and "RS-LK-0001" in page.get_data(as_text=True)
    back = html.unescape(re.search(r'href="([^"]+)" id="back-to-results"',
                                   page.get_data(as_text=True)).group(1))
    assert back.startswith("/lookup?") and client.get(back).status_code == 200


def test_every_link_of_the_session_pages_is_a_get_that_answers(app, ctx, corpus, make_user,
                                                              make_grant):
    """What Back, reload, a new tab or a colleague's bookmark does: GET the URL again. Every link
    on the results and page views answers 200 (never 405), and every form they post answers
    with a redirect (open, close: 303, tested above) or a download, never a page that a reload
    would post again."""
    user = make_user("staff")
    client = signed_in_client(app, user)
    sid = open_session(client, make_grant(user).id)
    start = f"/search?s={sid}&q={quote(PHRASE)}"
    seen, todo, posts = set(), [start], set()
    while todo:
        url = todo.pop()
        if url in seen or not (url.startswith("/search") or url.startswith("/pages/")):
            continue
        seen.add(url)
        resp = client.get(url)
        assert resp.status_code == 200, f"GET {url} answered {resp.status_code}"
        if resp.mimetype == "text/html":
            body = resp.get_data(as_text=True)
            posts |= set(re.findall(r'<form method="post" action="([^"]+)"', body))
            todo += [html.unescape(u) for u in re.findall(r'(?:href|src)="([^"]*)"', body)
                     if "unmask=1" not in u]
    assert any(u.startswith("/pages/") and "image" not in u for u in seen), "no page view reached"
    assert posts <= {"/reading/open", "/reading/close", "/reading/export.pdf", "/search/export", "/logout",
                     "/logout-all"}, f"a session page posts to {posts}"
    exported = client.post("/reading/export.pdf", data={"s": sid, "doc": f"{FILE}#p0001"})
    assert exported.status_code == 200 and "attachment" in exported.headers["Content-Disposition"]
    assert client.post("/reading/close", data={"s": sid}).status_code == 303


def test_a_cache_entry_moved_to_another_session_is_not_served(app, ctx, corpus, make_user,
                                                              make_grant):
    """Someone with Redis access copies user A's cached results under user B's session key:
    the entry is bound to its key (AES-GCM associated data), so B's request reads afresh under
    B's own grant and audit record instead of being shown A's results."""
    from search_app.reading import cache

    a, b = make_user("staff"), make_user("staff")
    ca, cb = signed_in_client(app, a), signed_in_client(app, b)
    sa, sb = open_session(ca, make_grant(a).id), open_session(cb, make_grant(b).id)
    url = f"/search?q={quote(PHRASE)}"
    assert FILE in ca.get(f"{url}&s={sa}").get_data(as_text=True)
    params = sorted([("q", PHRASE)])
    stolen = cache._client().get(cache.key(sa, "results", params))
    assert stolen and PHRASE.encode() not in stolen, "the cached results are stored in clear"
    cache._client().set(cache.key(sb, "results", params), stolen, ex=60)
    body = cb.get(f"{url}&s={sb}").get_data(as_text=True)
    assert 'id="from-cache"' not in body, "an entry copied from another session was served"
    [rec] = audit_records("search", user_id=b.id)
    assert rec.filters["reading_session"] == sb
