"""The two-pass page search against the real engine (search_app.search._hits.flat_run): the
exact query first, the OCR-slip clauses (one character misread) in a second query only when the
exact matches leave the page short or number fewer than SEARCH_SLIP_BELOW.

What must hold: a garbled query (or a misread page) is still found; an exact query that fills
the page never runs the second pass; paging across the boundary between the exact and the
slip-only list neither repeats nor skips a page; the second pass runs under the same permission
filter (pages outside the grant never come back through it, nor count in totals or facets);
one audit record per search, saying whether the second pass ran.

Every query is scoped with 档号:TP- (this module's prefix) or words only this module writes."""
from __future__ import annotations

import json

import pytest

from search_app.search import search_pages
from tests.conftest import audit_records, ingest_specs, meta

HAIDIAN, CHAOYANG = "北京市公安局海淀分局", "北京市公安局朝阳分局"
PAD = "页面内容足够长以使用文本层"
WORD = "婚姻登记证明书"
EXACT = ["TP-2020-0001", "TP-2020-0002", "TP-2020-0003"]  # the word as written, in the grant
SLIP = ["TP-2020-0004", "TP-2020-0005"]  # one character misread, in the grant
OUTSIDE = {"TP-2020-0006": "朝阳分局 (unit outside the grant)",
           "TP-2020-0007": "机密 (above the grant's 内部 ceiling)",
           "TP-2020-0008": "朝阳分局, exact word (unit outside the grant)"}


def _page(*lines: str) -> list[str]:
    return [" ".join(("两遍检索", *lines)), PAD]


@pytest.fixture(scope="module")
def corpus(app):
    import tempfile
    from pathlib import Path

    specs = [
        meta("TP-2020-0001", pages=[_page(WORD, "正本")]),
        meta("TP-2020-0002", pages=[_page(WORD, "副本")]),
        meta("TP-2020-0003", pages=[_page(WORD, "存根")]),
        meta("TP-2020-0004", pages=[_page("婚姻登汜证明书", "抄件")]),
        meta("TP-2020-0005", pages=[_page("婚烟登记证明书", "复印")]),
        meta("TP-2020-0006", unit=CHAOYANG, pages=[_page("婚姻登讫证明书", "朝阳")]),
        meta("TP-2020-0007", classification="机密", pages=[_page("婚姻登讫证明书", "机要")]),
        meta("TP-2020-0008", unit=CHAOYANG, pages=[_page(WORD, "朝阳正本")]),
        meta("TP-2021-0009", year=2021, pages=[_page("独生子女光荣证", "领取")]),
    ]
    with app.app_context(), tempfile.TemporaryDirectory() as tmp:
        progress, _ = ingest_specs(Path(tmp), specs)
        assert progress.files_failed == 0, progress.errors
    return specs


def _search(user, grant, q, **kw):
    return search_pages(user=user, grant_id=grant.id, purpose="两遍检索测试", query=q, **kw)


def _nos(out) -> list[str]:
    return [h.doc_id.split("#")[0] for h in out.hits]


def _last_record(user):
    return audit_records("search", username=user.username)[-1]


@pytest.mark.integration
def test_a_garbled_query_still_finds_its_page_in_the_second_pass(ctx, corpus, make_user,
                                                                  make_grant):
    from search_app.accounts.services import issue_api_token
    from search_app.db import get_session

    user = make_user("staff")
    grant = make_grant(user)
    before = len(audit_records("search", username=user.username))
    out = _search(user, grant, "独生子女光菜证 档号:TP-")  # 荣 typed (or read) as 菜
    assert _nos(out) == ["TP-2021-0009"], f"the garbled query did not find its page: {_nos(out)}"
    assert out.slip_pass and out.hits[0].slip and out.total == 1
    records = audit_records("search", username=user.username)
    assert len(records) == before + 1, "a two-pass search must leave exactly one audit record"
    assert records[-1].filters.get("slip_pass") is True, \
        f"the audit record does not say the second pass ran: {records[-1].filters}"
    assert records[-1].returned_ids == [out.hits[0].doc_id]
    # pages whose OCR misread the word: found too, listed after every exact page
    out = _search(user, grant, f"{WORD} 档号:TP-")
    assert set(_nos(out)[:3]) == set(EXACT) and set(_nos(out)[3:]) == set(SLIP), _nos(out)
    assert [h.slip for h in out.hits] == [False] * 3 + [True] * 2
    assert out.total == 5 and out.slip_pass
    # the API says so as well
    token = issue_api_token(get_session(), user)
    get_session().commit()
    resp = ctx.test_client().post("/api/v1/search", headers={"Authorization": f"Bearer {token}"},
                                  json={"grant_id": grant.id, "purpose": "两遍检索测试",
                                        "q": "独生子女光菜证 档号:TP-"})
    body = json.loads(resp.data)
    assert resp.status_code == 200, body
    assert body["slip_pass"] is True and [h["slip"] for h in body["hits"]] == [True]


@pytest.mark.integration
def test_an_exact_query_that_fills_the_page_does_not_run_the_second_pass(ctx, corpus, make_user,
                                                                          make_grant, monkeypatch):
    user = make_user("staff")
    grant = make_grant(user)
    monkeypatch.setitem(ctx.config, "SEARCH_SLIP_BELOW", 0)
    out = _search(user, grant, f"{WORD} 档号:TP-", page_size=3)
    assert sorted(_nos(out)) == EXACT and not any(h.slip for h in out.hits)
    assert not out.slip_pass and out.total == 3, "the exact matches filled the page"
    assert _last_record(user).filters.get("slip_pass") is False, \
        "the audit record does not say the second pass did not run"
    # a word too short for OCR-slip clauses never runs it, however few its matches
    monkeypatch.setitem(ctx.config, "SEARCH_SLIP_BELOW", 50)
    out = _search(user, grant, "两遍检索 领取")
    assert _nos(out) == ["TP-2021-0009"] and not out.slip_pass
    assert _last_record(user).filters.get("slip_pass") is False


@pytest.mark.integration
@pytest.mark.parametrize("sort", ["relevance", "archive_no", "year_desc"])
def test_paging_across_the_pass_boundary_neither_repeats_nor_skips(ctx, corpus, make_user,
                                                                    make_grant, monkeypatch, sort):
    user = make_user("staff")
    grant = make_grant(user)
    q = f"{WORD} 档号:TP-"
    whole = _search(user, grant, q, page_size=10, sort=sort)
    assert whole.slip_pass and whole.total == 5
    monkeypatch.setitem(ctx.config, "SEARCH_SLIP_BELOW", 0)  # the second pass only when short
    pages = [_search(user, grant, q, page=n, page_size=2, sort=sort) for n in (1, 2, 3, 4)]
    seen = [d for p in pages for d in (h.doc_id for h in p.hits)]
    assert len(seen) == len(set(seen)), f"a page repeats across pages 1–4: {seen}"
    assert seen == [h.doc_id for h in whole.hits], \
        f"pages of 2 ({seen}) are not the one list ({[h.doc_id for h in whole.hits]})"
    assert [p.slip_pass for p in pages] == [False, True, True, True]
    assert pages[0].total == 3, "page 1 (exact matches only) counts the exact matches"
    assert [p.total for p in pages[1:]] == [5, 5, 5]
    if sort == "archive_no":
        assert [d.split("#")[0] for d in seen] == EXACT + SLIP
    monkeypatch.setitem(ctx.config, "SEARCH_SLIP_BELOW", 50)  # short lists: counted in full
    again = [_search(user, grant, q, page=n, page_size=2, sort=sort) for n in (1, 2, 3)]
    assert [d for p in again for d in (h.doc_id for h in p.hits)] == seen
    assert [p.total for p in again] == [5, 5, 5] and all(p.slip_pass for p in again)


def _leaks(out) -> list[str]:
    """What a result shows from outside the grant: hits, and facet values of other scopes."""
    got = [f"hit {n}: {OUTSIDE[n]}" for n in _nos(out) if n in OUTSIDE]
    got += [f"facet unit {v} ({c})" for v, c in out.facets.get("unit", []) if v == CHAOYANG]
    got += [f"facet classification {v} ({c})" for v, c in out.facets.get("classification", [])
            if v == "机密"]
    return got


@pytest.mark.integration
@pytest.mark.parametrize("q", [
    "婚姻登讫证明书 档号:TP-",  # exact only outside the grant: the second pass must run
    "婚姻登讫证明书",
    "婚姻登讫证明书 OR 朝阳",
    "婚姻登讫证明书 单位:北京市公安局朝阳分局",
    "婚姻登讫证明书 密级:机密",
    "婚姻登讫证明书 -正本 -副本 -存根",
    "婚姻登讫证明书 OR 档号:TP-2020-0006",
])
def test_the_second_pass_runs_under_the_grants_filter(ctx, corpus, make_user, make_grant, q):
    attacker = make_user("staff")
    grant = make_grant(attacker)  # 户籍档案, 海淀分局, up to 内部
    out = _search(attacker, grant, q)
    assert not _leaks(out), f"{q!r} reached outside the grant through the second pass: {_leaks(out)}"
    rec = _last_record(attacker)
    assert not [d for d in rec.returned_ids if d.split("#")[0] in OUTSIDE], rec.returned_ids
    if q.endswith("档号:TP-"):
        assert out.slip_pass, "the exact pass found nothing in the grant: the second pass must run"
        assert sorted(_nos(out)) == EXACT + ["TP-2020-0004"] and out.total == 4, _nos(out)
    # control: a grant over the other scopes does reach those pages through the same query form
    wide_user = make_user("staff")
    wide = make_grant(wide_user, units=(HAIDIAN, CHAOYANG), classification="机密")
    got = set(_nos(_search(wide_user, wide, "婚姻登讫证明书 档号:TP-", page_size=20)))
    assert {"TP-2020-0006", "TP-2020-0007"} <= got, f"control grant did not find them: {got}"


@pytest.mark.integration
def test_the_results_page_labels_the_second_pass_hits(app, corpus, make_user, make_grant):
    """A reader must be able to tell a page that holds the word from one whose OCR misread it."""
    from urllib.parse import quote

    from tests.conftest import signed_in_client
    from tests.test_reading_sessions import open_session

    user = make_user("staff")
    grant = make_grant(user)
    client = signed_in_client(app, user)
    sid = open_session(client, grant.id, purpose="两遍检索测试")
    body = client.get(f"/search?s={sid}&q={quote(WORD + ' 档号:TP-')}").get_data(as_text=True)
    assert 'id="slip-note"' in body, "the results page does not say the second pass ran"
    assert body.count("近似匹配（可能为识别错误）") == len(SLIP), \
        f"expected {len(SLIP)} slip hits labelled, found {body.count('近似匹配（可能为识别错误）')}"
    body = client.get(f"/search?s={sid}&q={quote('两遍检索 领取')}").get_data(as_text=True)
    assert 'id="slip-note"' not in body and "近似匹配（可能为识别错误）" not in body, \
        "an exact search is labelled as a second-pass one"
