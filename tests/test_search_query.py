"""Query construction for the new constructs (unit tests, no engine): OCR-slip variants, no
bag-of-bigrams match, the grouped (file-level) bodies, file documents per access scope, and the
choke point's split between page and file documents."""
from __future__ import annotations

import json

import pytest

from indexer.index import FILE_KIND, build_file_documents
from search_app.search import QuerySyntaxError
from search_app.search._choke import ScopedIndex
from search_app.search._parse import Term, parse
from search_app.search._query import (build_file_pages_query, build_file_query, build_query,
                                      slip_variants, term_clause, units)


def _walk(node):
    if isinstance(node, dict):
        yield node
        for v in node.values():
            yield from _walk(v)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v)


def test_units_follow_the_unigram_tokens():
    assert units("2023年户口hj") == ["2023", "年", "户", "口", "hj"]
    assert units("户口·迁移 证明") == ["户", "口", "迁", "移", "证", "明"]


def test_slip_variants_leave_out_one_token_each():
    assert slip_variants("常住人口登记") == [" ".join(v) for v in (
        "住人口登记", "常人口登记", "常住口登记", "常住人登记", "常住人口记", "常住人口登")]
    assert slip_variants("户口迁移") == [], "a word under 5 characters is matched exactly only"
    assert slip_variants("甲" * 41) == [], "very long phrases keep their exact clauses only"


def test_long_words_tolerate_one_slip_and_nothing_matches_by_loose_bigrams():
    clause = term_clause(Term("常住人口登记卡"))
    text = json.dumps(clause, ensure_ascii=False)
    sloppy = [n for n in _walk(clause)
              if n.get("match_phrase", {}).get("text.uni", {}).get("slop") == 1]
    assert len(sloppy) == 7, "one slop-1 phrase per left-out character"
    assert '"text": {' not in text and "minimum_should_match\": \"75%" not in text, \
        "bigram-fraction matching is back (noise hits)"
    # jieba words only score: they sit beside the required clause, not in it
    assert clause["bool"]["must"][0]["bool"]["minimum_should_match"] == 1
    assert "text_jieba" in json.dumps(clause["bool"]["should"])


def test_quoted_phrases_are_exact():
    clause = term_clause(Term("常住人口登记卡", phrase=True))
    assert "slop" not in json.dumps(clause) and "text_jieba" not in json.dumps(clause)


def test_flat_body_keeps_its_shape():
    body = build_query(parse("户口 -迁移 年度:2020"), offset=20, size=10, sort="year_desc")
    assert body["from"] == 20 and body["sort"][0] == {"year": "desc"}
    assert body["query"]["bool"]["must_not"] and body["query"]["bool"]["filter"]


def test_grouped_bodies():
    q = parse("被告人 判决书 OR 裁定书 -调解 档号:HJ-2023")
    files = build_file_query(q, offset=10, size=10, sort="archive_no")
    assert files["collapse"] == {"field": "archive_no"}
    assert files["sort"] == [{"archive_no": "asc"}] and files["from"] == 10
    assert "cardinality" in files["aggs"]["files"]
    assert len(files["query"]["bool"]["must"]) == 2, "every word group is required of the file"
    pages = build_file_pages_query(q, ["HJ-2023-0001", "HJ-2023-0002"], per_file=3)
    bool_ = pages["query"]["bool"]
    assert {"terms": {"archive_no": ["HJ-2023-0001", "HJ-2023-0002"]}} in bool_["filter"]
    assert {"prefix": {"archive_no": "HJ-2023"}} in bool_["filter"]
    assert bool_["minimum_should_match"] == 1 and len(bool_["should"]) == 2
    assert bool_["must_not"], "NOT is not applied to the pages shown"
    assert pages["collapse"]["inner_hits"]["size"] == 3
    assert set(pages["aggs"]["per_file"]["aggs"]) == {"g0", "g1"}


def test_unknown_group_is_a_syntax_error(ctx, make_user, make_grant):
    from search_app.search import search_pages
    user = make_user("staff")
    with pytest.raises(QuerySyntaxError, match="结果分组"):
        search_pages(user=user, grant_id=make_grant(user).id, purpose="核查", query="户口",
                     group="volume")


def _page(no, **kw):
    base = {"doc_id": f"A-1#p{no:04d}", "archive_no": "A-1", "title": "题", "category": "户籍档案",
            "unit": "甲", "year": 2020, "classification": "内部", "classification_level": 1,
            "page_no": no, "page_count": 3, "text": f"第{no}页", "text_jieba": "",
            "pii_kinds": [], "pii_hmac": [], "subject_hmac": []}
    return {**base, **kw}


def test_file_documents_one_per_access_scope():
    docs = build_file_documents([_page(2, pii_hmac=["h2"], pii_kinds=["name"]), _page(1),
                                 _page(3, unit="乙", classification="秘密", classification_level=2)])
    assert len(docs) == 2
    a = next(d for d in docs if d["unit"] == "甲")
    assert a["doc_kind"] == FILE_KIND and a["text"] == ["第1页", "第2页"], "pages in order"
    assert a["pii_hmac"] == ["h2"], "self-exclusion terms of every page are kept"
    b = next(d for d in docs if d["unit"] == "乙")
    assert b["classification_level"] == 2 and b["text"] == ["第3页"]
    assert all(isinstance(d[k], (str, int)) for d in docs
               for k in ("category", "unit", "classification_level")), \
        "a multi-valued permission field would match a grant covering any one value"
    assert "text_display" not in a, "file documents are never displayed"


def test_scoped_index_separates_pages_from_file_documents(monkeypatch):
    sent = []

    class Reader:
        def search(self, index, body, params=None):
            sent.append(body)
            return {}

    monkeypatch.setattr("search_app.search._choke.reader", lambda: Reader())
    monkeypatch.setattr("search_app.search._choke.alias", lambda: "x")
    scoped = ScopedIndex({"term": {"unit": "甲"}})
    scoped.search({"query": {"ids": {"values": ["A-1#file-0"]}}})
    scoped.search_files({"query": {"match_all": {}}})
    page_q, file_q = sent[0]["query"]["bool"], sent[1]["query"]["bool"]
    assert page_q["must_not"] == [{"exists": {"field": "doc_kind"}}], "a page read can hit a file doc"
    assert {"term": {"unit": "甲"}} in page_q["filter"] and {"term": {"unit": "甲"}} in file_q["filter"]
    assert {"term": {"doc_kind": FILE_KIND}} in file_q["filter"]


def test_chips_remove_one_condition_each():
    from search_app.search._refine import chips
    got = {c["label"]: c["without"] for c in chips("户口 -迁移 档号:HJ-2023 年度:2010-2015")}
    assert got == {"排除 迁移": "户口 档号:HJ-2023 年度:2010-2015",
                   "档号：HJ-2023": "户口 -迁移 年度:2010-2015",
                   "年度：2010-2015": "户口 -迁移 档号:HJ-2023"}
    got = {c["label"]: c["without"] for c in chips('年度:2020 OR 年度:2023 户口 NOT "迁移证明"')}
    assert got == {"年度：2020": '年度:2023 户口 NOT "迁移证明"',
                   "年度：2023": '年度:2020 户口 NOT "迁移证明"',
                   "排除 迁移证明": "年度:2020 OR 年度:2023 户口"}
    assert chips("HJ-2023-0001") == [{"label": "档号：HJ-2023-0001", "without": ""}], \
        "removing the only condition leaves nothing to search"
    assert chips('"未闭合') == [], "a query that does not parse has no chips"


def test_facets_narrow_the_query_once():
    from search_app.search._refine import facet_query, refinements
    assert facet_query("户口", "unit", "北京市公安局海淀分局") == "户口 单位:北京市公安局海淀分局"
    assert facet_query("户口 年度:2020", "year", 2020) is None, "already filtered on"
    assert facet_query("户口", "category", "户籍档案") == "户口 门类:户籍档案"
    assert refinements("户口", {"year": [(2020, 3), (2021, 1)]}) == {
        "year": {"2020": "户口 年度:2020", "2021": "户口 年度:2021"}}
    long = "户" * 190
    assert facet_query(long, "unit", "北京市公安局海淀分局") is None, "would be over the length limit"


def test_relaxed_loosens_only_long_quoted_phrases():
    from search_app.search._query import relaxed
    q = parse('"常住人口登记卡" "户口" 迁移 -"迁移证明书"')
    loose = relaxed(q)
    assert loose.groups == [[Term("常住人口登记卡")], [Term("户口", phrase=True)], [Term("迁移")]]
    assert loose.excluded == q.excluded, "an exclusion must stay exact"
    assert relaxed(parse('"户口" 迁移')) is None


def test_totals_are_counted_exactly_only_up_to_the_deepest_page():
    """Exact counting of every match costs engine time on common words; past TOTAL_HITS_CAP
    (as deep as a reader can page) the total is a lower bound, flagged as such."""
    from search_app.search._hits import flat_run
    from search_app.search._parse import parse as parse_query
    from search_app.search._query import TOTAL_HITS_CAP, build_file_query, build_query

    assert build_query("档案", offset=0, size=20)["track_total_hits"] == TOTAL_HITS_CAP == 10_000
    assert build_file_query(parse_query("档案"), offset=0, size=20)["track_total_hits"] is False

    class Index:  # a unit-level stand-in for the scoped index: what the engine answers
        def __init__(self, relation):
            self.relation = relation

        def search(self, body):
            return {"hits": {"total": {"value": 10_000, "relation": self.relation}, "hits": []}}

    run = flat_run(parse_query("档案"), 0, 20, "relevance")
    assert run(None, Index("gte")).extra == {"total_at_least": True, "slip_pass": False}
    assert run(None, Index("eq")).extra == {"slip_pass": False}


@pytest.mark.parametrize("exact,slip,size,below", [(5, 3, 2, 0), (5, 3, 3, 0), (0, 4, 3, 0),
                                                   (5, 3, 2, 50), (7, 0, 3, 0)])
def test_two_pass_pages_are_one_list_exact_first(exact, slip, size, below):
    """flat_run's paging over an engine stand-in that answers from two fixed lists: every page
    of `size` is the slice of exact + slip-only at its offset, the second query is sent only
    when the page is short (or the exact count is under `below`), and with a full page it asks
    the second query for no hits (size 0: totals and facets only)."""
    from search_app.search._hits import flat_run
    from search_app.search._parse import parse as parse_query

    exact_ids = [f"E{i}" for i in range(exact)]
    slip_ids = [f"S{i}" for i in range(slip)]

    class Index:
        def __init__(self):
            self.bodies = []

        def search(self, body):
            self.bodies.append(body)
            ids = slip_ids if "post_filter" in body else exact_ids
            assert ("slop" in str(body["query"])) == ("post_filter" in body), \
                "the exact pass must hold no OCR-slip clause, the second pass all of them"
            page = ids[body["from"]:body["from"] + body["size"]]
            return {"hits": {"total": {"value": len(ids), "relation": "eq"},
                             "hits": [{"_id": i} for i in page]}, "aggregations": {}}

    whole = exact_ids + slip_ids
    for n in range(0, (len(whole) + size - 1) // size + 1):
        index = Index()
        found = flat_run(parse_query("常住人口登记表"), n * size, size, "relevance",
                         slip_below=below)(None, index)
        assert found.returned_ids == whole[n * size:(n + 1) * size], (n, found.returned_ids)
        second = exact < max((n + 1) * size, below)
        assert len(index.bodies) == 1 + second and found.extra["slip_pass"] is second
        assert found.total == (len(whole) if second else exact)
        if second and exact >= (n + 1) * size:
            assert index.bodies[1]["size"] == 0
