"""Grouped (by file) search against the real engine: a file matches when every word occurs on
some page of it; the permission filter holds on the file-level documents and on the pages (a
file mixing access scopes is split, never widened); NOT/OR never widen; facets under the grant;
sort; the ingest path keeps the file documents current (pages dropped). And OCR-slip tolerance:
one misread character in a long word still finds the page, below exact pages, without noise.

Every query is scoped with 档号:SG- (this module's prefix) or words only this module writes."""
from __future__ import annotations

import pytest

from indexer.index import FILE_KIND
from search_app.search import search_pages
from search_app.search._backend import alias, bulk_index, writer
from search_app.search._files import refresh_file_docs
from tests.conftest import dump_index, ingest_specs, meta

HAIDIAN, CHAOYANG = "北京市公安局海淀分局", "北京市公安局朝阳分局"
PAD = "页面内容足够长以使用文本层"
READER_ID = "110108198503121233"  # the reader of the self-exclusion test (valid check digit)


def _page(*lines: str) -> list[str]:
    return [*lines, PAD]


@pytest.fixture(scope="module")
def corpus(app):
    """Ingested once for the module (through the real ingest path, text-layer PDFs)."""
    import tempfile
    from pathlib import Path

    specs = [
        # 被告人 on page 1, 判决书 on page 3: only the file holds both
        meta("SG-2019-0001", year=2019, pages=[_page("分组检索 被告人到庭陈述"),
                                                _page("分组检索 庭审笔录 第二页"),
                                                _page("分组检索 本院作出判决书如下")]),
        # both words on one page: found in both modes
        meta("SG-2021-0002", year=2021, pages=[_page("分组检索 被告人到庭 判决书送达")]),
        # only one of the words
        meta("SG-2022-0003", year=2022, pages=[_page("分组检索 被告人缺席"), _page("分组检索 调解书")]),
        # outside the ≤内部 / 海淀 grant, holding every word
        meta("SG-2023-0004", year=2023, classification="机密",
             pages=[_page("分组检索 被告人到庭"), _page("分组检索 判决书 机密")]),
        meta("SG-2023-0005", year=2023, unit=CHAOYANG,
             pages=[_page("分组检索 被告人到庭"), _page("分组检索 判决书 朝阳")]),
        # OCR slip: 常住人口登记卡 read as 常住人口登讫卡 on one page, exact on another
        meta("SG-2020-0006", year=2020, pages=[_page("分组检索 常住人口登记卡 正本")]),
        meta("SG-2020-0007", year=2020, pages=[_page("分组检索 常住人口登讫卡 副本")]),
        # the page dropped on re-ingest below carries 撤销
        meta("SG-2018-0008", year=2018, pages=[_page("分组检索 申请书"), _page("分组检索 撤销决定")]),
        # about the reader (subject), and naming the reader's ID number on its page 2
        meta("SG-2017-0010", year=2017, subject_id=READER_ID,
             pages=[_page("本人档案 自查词甲"), _page("本人档案 自查词乙")]),
        meta("SG-2017-0011", year=2017, pages=[_page("提及档案 自查词甲"),
                                                _page(f"提及档案 自查词乙 身份证号 {READER_ID}")]),
    ]
    with app.app_context(), tempfile.TemporaryDirectory() as tmp:
        progress, _ = ingest_specs(Path(tmp), specs)
        assert progress.files_failed == 0, progress.errors
    return specs


def _search(user, grant, q, **kw):
    return search_pages(user=user, grant_id=grant.id, purpose="分组测试", query=q, **kw)


def _files(user, grant, q, **kw) -> list[str]:
    return [f.archive_no for f in _search(user, grant, q, group="file", **kw).files]


def _pages(user, grant, q, **kw) -> list[str]:
    return [h.doc_id for h in _search(user, grant, q, **kw).hits]


@pytest.mark.integration
def test_all_words_across_the_pages_of_a_file(ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    out = _search(user, grant, "档号:SG- 被告人 判决书", group="file")
    assert [f.archive_no for f in out.files] == ["SG-2021-0002", "SG-2019-0001"] or \
        sorted(f.archive_no for f in out.files) == ["SG-2019-0001", "SG-2021-0002"], \
        f"files holding both words: {[f.archive_no for f in out.files]}"
    assert out.total == 2
    spread = next(f for f in out.files if f.archive_no == "SG-2019-0001")
    assert {p.fields["page_no"] for p in spread.pages} == {1, 3}, \
        "the best pages of the file are not the pages holding the words"
    assert spread.matched_pages == 2
    assert all(any("<mark>" in s for s in p.snippets) for p in spread.pages), \
        "a best page shows no highlighted snippet"
    # flat mode stays: no single page of SG-2019-0001 holds both words
    flat = _pages(user, grant, "档号:SG- 被告人 判决书")
    assert flat == ["SG-2021-0002#p0001"], f"flat mode: {flat}"
    # the audit record names the pages shown and the files
    assert set(out.filters["files"]) == {"SG-2019-0001", "SG-2021-0002"}


@pytest.mark.integration
def test_file_level_documents_never_widen_the_grant(ctx, corpus, make_user, make_grant):
    """SG-2023-0004 (机密) and SG-2023-0005 (朝阳) hold every word; a ≤内部 海淀 grant must not
    reach them through their file-level documents, whatever is typed; a second account whose
    grant covers them does see them."""
    user = make_user("staff")
    grant = make_grant(user)
    hidden = {"SG-2023-0004", "SG-2023-0005"}
    for q in ("档号:SG- 被告人 判决书", "被告人 判决书 OR 机密 OR 朝阳", "档号:SG-2023",
              "分组检索 -调解书", "NOT 调解书 分组检索", "密级:机密", f"单位:{CHAOYANG}",
              "分组检索 OR 机密", "年度:1900-2099 分组检索"):
        leaked = hidden & set(_files(user, grant, q))
        assert not leaked, f"LEAKED {sorted(leaked)} through the grouped search for {q!r}"
        leaked = hidden & {d.split("#")[0] for d in _pages(user, grant, q)}
        assert not leaked, f"LEAKED {sorted(leaked)} through the flat search for {q!r}"
    other = make_user("staff")
    wide = make_grant(other, units=(HAIDIAN, CHAOYANG), classification="机密")
    assert hidden <= set(_files(other, wide, "档号:SG- 被告人 判决书")), \
        "a grant covering the files does not find them grouped"


@pytest.mark.integration
def test_a_file_mixing_scopes_is_split_not_widened(ctx, corpus, make_user, make_grant):
    """Page 1 of SG-2024-0009 is 海淀/内部, page 2 朝阳/机密 (a file caught mid re-ingest under
    changed metadata): its file documents carry one scope each, so a 海淀 ≤内部 grant does not
    find the file by a word that only the 朝阳 page holds, nor both words together."""
    base = {"archive_no": "SG-2024-0009", "title": "混合范围", "category": "户籍档案",
            "year": 2024, "page_count": 2, "pii_kinds": [], "pii_hmac": [], "subject_hmac": []}
    pages = [
        {**base, "doc_id": "SG-2024-0009#p0001", "page_no": 1, "unit": HAIDIAN,
         "classification": "内部", "classification_level": 1, "text": "范围检索 混合甲词 海淀页",
         "text_jieba": "分组 检索 混合 甲词", "text_display": "范围检索 混合甲词 海淀页"},
        {**base, "doc_id": "SG-2024-0009#p0002", "page_no": 2, "unit": CHAOYANG,
         "classification": "机密", "classification_level": 3, "text": "范围检索 混合乙词 朝阳页",
         "text_jieba": "分组 检索 混合 乙词", "text_display": "范围检索 混合乙词 朝阳页"},
    ]
    bulk_index(writer(), alias(), pages, refresh=True)
    assert refresh_file_docs("SG-2024-0009") == 2, "one file document per access scope"
    files = [d for d in dump_index(ctx, files=True)
             if d["archive_no"] == "SG-2024-0009" and d.get("doc_kind") == FILE_KIND]
    assert sorted((d["unit"], d["classification_level"]) for d in files) == \
        sorted([(HAIDIAN, 1), (CHAOYANG, 3)])
    user = make_user("staff")
    grant = make_grant(user)
    assert _files(user, grant, "混合乙词") == [], "LEAKED the 朝阳/机密 page's word via the file"
    assert _files(user, grant, "混合甲词 混合乙词") == [], "LEAKED: matched words across scopes"
    assert _files(user, grant, "混合甲词") == ["SG-2024-0009"]
    shown = _search(user, grant, "混合甲词", group="file").files[0]
    assert [p.doc_id for p in shown.pages] == ["SG-2024-0009#p0001"]


@pytest.mark.integration
def test_facets_and_sort_of_the_grouped_search(ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    out = _search(user, grant, "档号:SG- 被告人", group="file")
    assert sorted(f.archive_no for f in out.files) == ["SG-2019-0001", "SG-2021-0002",
                                                       "SG-2022-0003"]
    facets = {k: dict(v) for k, v in out.facets.items()}
    assert "机密" not in facets["classification"], f"facets count a file outside the grant: {facets}"
    assert CHAOYANG not in facets["unit"], f"facets count a file outside the grant: {facets}"
    assert facets["year"] == {2019: 1, 2021: 1, 2022: 1}, "facets do not count files"
    assert _files(user, grant, "档号:SG- 被告人", sort="year_desc") == \
        ["SG-2022-0003", "SG-2021-0002", "SG-2019-0001"]
    assert _files(user, grant, "档号:SG- 分组检索", sort="archive_no") == \
        ["SG-2018-0008", "SG-2019-0001", "SG-2020-0006", "SG-2020-0007", "SG-2021-0002",
         "SG-2022-0003"]
    paged = _search(user, grant, "档号:SG- 分组检索", group="file", sort="archive_no", page=2,
                    page_size=4)
    assert [f.archive_no for f in paged.files] == ["SG-2021-0002", "SG-2022-0003"]
    assert paged.total == 6


@pytest.mark.integration
def test_dropped_pages_leave_the_file_document(ctx, corpus, ingest, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    assert _files(user, grant, "申请书 撤销决定") == ["SG-2018-0008"]
    progress, _ = ingest([meta("SG-2018-0008", year=2018, pages=[_page("分组检索 申请书")])])
    assert progress.files_failed == 0, progress.errors
    assert _files(user, grant, "撤销决定") == [], "the file document still holds a dropped page"
    assert _files(user, grant, "申请书") == ["SG-2018-0008"]


@pytest.mark.integration
def test_one_misread_character_still_finds_the_page_below_exact(ctx, corpus, make_user,
                                                                 make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    for group in ("page", "file"):
        got = [x.split("#")[0] for x in (_pages(user, grant, "常住人口登记卡") if group == "page"
                                         else _files(user, grant, "常住人口登记卡"))]
        assert got[:2] == ["SG-2020-0006", "SG-2020-0007"], \
            f"{group}: exact first, then the page with one character misread: {got}"
    assert _pages(user, grant, '"常住人口登记卡" 档号:SG-') == ["SG-2020-0006#p0001"], \
        "a quoted phrase is exact"
    out = _search(user, grant, '"常住人口登己卡" 档号:SG-')  # exact nowhere: one slip, said so
    assert out.relaxed and {h.doc_id for h in out.hits} == {"SG-2020-0006#p0001",
                                                          "SG-2020-0007#p0001"}
    assert out.filters.get("relaxed") is True, "the audit record does not say the phrase was relaxed"
    out = _search(user, grant, '"常住人口户籍卡片副" 档号:SG-')
    assert out.total == 0 and not out.relaxed
    for q in ("常住登记人口卡", "人口登记常住卡", "常住人口户籍卡片副"):
        assert _pages(user, grant, f"{q} 档号:SG-") == [], f"noise hit for {q!r}"


@pytest.mark.integration
def test_results_page_grouped_with_chips_facets_and_pager(ctx, corpus, make_user, make_grant,
                                                          monkeypatch):
    import html
    import re

    from tests.conftest import login
    user = make_user("staff")
    grant = make_grant(user)
    client = ctx.test_client()
    assert login(client, user.username).status_code == 302
    form = {"grant_id": grant.id, "purpose": "分组测试", "q": "档号:SG- 分组检索 -调解书",
            "sort": "archive_no", "group": "file", "page": 1}
    resp = client.post("/search", follow_redirects=True, data=form)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200, page[:500]
    assert 'data-group="file"' in page and "个案卷命中" in page
    shown = re.findall(r'data-archive-no="([^"]+)"', page)
    assert shown == ["SG-2018-0008", "SG-2019-0001", "SG-2020-0006", "SG-2020-0007",
                     "SG-2021-0002"], f"grouped files on the page: {shown}"
    assert "SG-2022-0003" not in shown, "NOT 调解书 kept a file holding it"
    # chips: each removable, the remove button re-searches the query without it
    # (the one-step form answers 303 to its reading session's GET page: these are links there)
    chips = html.unescape(page[page.index('id="filter-chips"'):page.index('id="export"')])
    assert "档号：SG-" in chips and "排除 调解书" in chips
    assert "档号:SG- 分组检索" in _targets(chips), "the 排除 chip does not remove the exclusion"
    # facets are re-search links narrowing the query, counted in files
    facets = html.unescape(page[page.index('id="facets"'):page.index('class="hits"')])
    assert "档号:SG- 分组检索 -调解书 年度:2020" in _targets(facets)
    assert "2020（2）" in facets, "the 年度 facet does not count files"
    # the toggle and sort carry every field; the flat mode is one click away
    assert re.search(r'name="group" value="page"', page) or "group=page" in html.unescape(page)
    assert '按页' in page and '相关度' in page and '档号' in page
    monkeypatch.setitem(ctx.config, "SEARCH_PAGE_SIZE", 4)
    resp = client.post("/search", follow_redirects=True, data={**form, "q": "档号:SG- 分组检索", "group": "page",
                                        "page": 2})
    flat = resp.get_data(as_text=True)
    assert 'data-group="page"' in flat and "页命中" in flat
    pager = html.unescape(flat[flat.index('id="pager"'):])
    assert "第 2/" in pager and "上一页" in pager and "下一页" in pager, "no pagination"
    assert ("page=3" in pager or 'name="page" value="3"' in pager) and "档号:SG- 分组检索" in _targets(pager)


def _targets(region: str) -> set[str]:
    """The query each re-search control in `region` asks for (a link's q=, or a form's q field)."""
    import re
    from urllib.parse import parse_qs, urlsplit

    out = set(re.findall(r'name="q" value="([^"]*)"', region))
    for href in re.findall(r'href="([^"]+)"', region):
        out.update(parse_qs(urlsplit(href).query).get("q", []))
    return out


@pytest.mark.integration
def test_api_search_grouped(ctx, corpus, make_user, make_grant):
    from search_app.accounts.services import issue_api_token
    from search_app.db import get_session
    user = make_user("staff")
    grant = make_grant(user)
    token = issue_api_token(get_session(), user)
    get_session().commit()
    client = ctx.test_client()
    body = {"grant_id": grant.id, "purpose": "分组测试", "q": "档号:SG- 被告人 判决书", "group": "file"}
    resp = client.post("/api/v1/search", json=body, headers={"Authorization": f"Bearer {token}"})
    data = resp.get_json()
    assert resp.status_code == 200, data
    assert data["group"] == "file" and data["total"] == 2
    spread = next(f for f in data["files"] if f["archive_no"] == "SG-2019-0001")
    assert [p["page_no"] for p in spread["pages"]] in ([1, 3], [3, 1])
    assert all("<mark>" in "".join(p["snippets"]) for p in spread["pages"])
    resp = client.post("/api/v1/search", json={**body, "group": "volume"},
                       headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 400 and "结果分组" in resp.get_json()["message"]


@pytest.mark.integration
def test_self_exclusion_on_both_levels(ctx, corpus, make_user, make_grant):
    """The reader's own file is hidden on both levels; a file with one page naming the reader's
    ID number is hidden as a file (its file document carries every page's blind-index terms:
    narrower than the pages, never wider), while its other page stays findable page by page."""
    me = make_user("staff", id_number=READER_ID)
    other = make_user("staff")
    mine, theirs = make_grant(me), make_grant(other)
    leaked = set(_files(me, mine, "自查词甲 自查词乙")) | set(_files(me, mine, "自查词甲"))
    assert not leaked, f"LEAKED to the reader through the file level: {sorted(leaked)}"
    flat = set(_pages(me, mine, "自查词甲 OR 自查词乙"))
    assert flat == {"SG-2017-0011#p0001"}, f"flat mode for the reader: {sorted(flat)}"
    assert set(_files(other, theirs, "自查词甲 自查词乙")) == {"SG-2017-0010", "SG-2017-0011"}


@pytest.mark.integration
def test_a_stale_file_document_alone_never_shows_a_file(ctx, corpus, make_user, make_grant):
    """The page changed after its file document was built (a crash between the two writes):
    the grouped search checks the pages the grant covers, so the file is not shown for the word
    the page no longer holds."""
    page = {"doc_id": "SG-2024-0012#p0001", "archive_no": "SG-2024-0012", "title": "陈旧",
            "category": "户籍档案", "unit": HAIDIAN, "year": 2024, "classification": "内部",
            "classification_level": 1, "page_no": 1, "page_count": 1, "pii_kinds": [],
            "pii_hmac": [], "subject_hmac": [], "text": "陈旧检索 旧词原文", "text_jieba": ""}
    bulk_index(writer(), alias(), [page], refresh=True)
    refresh_file_docs("SG-2024-0012")
    user = make_user("staff")
    grant = make_grant(user)
    assert _files(user, grant, "旧词原文") == ["SG-2024-0012"]
    bulk_index(writer(), alias(), [{**page, "text": "陈旧检索 新词改写"}], refresh=True)
    out = _search(user, grant, "旧词原文", group="file")
    assert out.files == [] and out.total == 0, "shown from the stale file document alone"
    refresh_file_docs("SG-2024-0012")
    assert _files(user, grant, "新词改写") == ["SG-2024-0012"]


@pytest.mark.integration
def test_ensure_index_backfills_file_documents_of_an_older_index(ctx):
    """An index built before the grouped search (no doc_kind field): `flask ensure-index` adds
    the field and the file documents of every 档号 already in it."""
    import uuid

    from search_app.search._backend import ensure_index, index_body, make_client
    client = make_client(ctx.config, "admin")  # index administration, as ensure-index runs
    name = f"test-pages-{uuid.uuid4().hex[:8]}"
    body = index_body()
    del body["mappings"]["properties"]["doc_kind"]
    client.indices.create(index=f"{name}-v1", body=body)
    try:
        client.indices.put_alias(index=f"{name}-v1", name=name)
        pages = [{"doc_id": f"SG-OLD-0001#p000{n}", "archive_no": "SG-OLD-0001", "title": "旧",
                  "category": "户籍档案", "unit": HAIDIAN, "year": 2010, "classification": "内部",
                  "classification_level": 1, "page_no": n, "page_count": 2, "text": t}
                 for n, t in ((1, "旧索引甲"), (2, "旧索引乙"))]
        bulk_index(client, name, pages, refresh=True)
        ensure_index(client, name)
        client.indices.refresh(index=name)
        docs = client.search(index=name, body={"query": {"term": {"doc_kind": FILE_KIND}}})
        (doc,) = [h["_source"] for h in docs["hits"]["hits"]]
        assert doc["archive_no"] == "SG-OLD-0001" and doc["text"] == ["旧索引甲", "旧索引乙"]
    finally:
        client.indices.delete(index=f"{name}-v1", ignore_unavailable=True)


@pytest.mark.integration
def test_reocr_rewrites_the_file_document(ctx, ingest, make_user, make_grant):
    """Re-OCR (search_app.ingest.reocr) rebuilds the file's file-level document: deleted here
    first, it is back after the re-OCR, with the page's new text."""
    from search_app.ingest.reocr import reocr
    progress, _ = ingest([meta("SG-2016-0013", year=2016,
                               pages=[_page("重新识别 档案材料 复核")])])
    assert progress.files_failed == 0, progress.errors

    def file_docs():
        return [d for d in dump_index(ctx, files=True)
                if d["archive_no"] == "SG-2016-0013" and d.get("doc_kind") == FILE_KIND]

    (doc,) = file_docs()
    writer().delete(index=alias(), id=doc["doc_id"], refresh=True)
    assert file_docs() == []
    reocr("SG-2016-0013", page_no=1)
    (again,) = file_docs()
    page = next(d for d in dump_index(ctx) if d["doc_id"] == "SG-2016-0013#p0001")
    assert again["text"] == [page["text"]], "the file document does not hold the re-read text"
