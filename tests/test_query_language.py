"""The staff query language: every construct and every error (parser unit tests), and against
the real engine that OR, NOT, field filters and sorting do what they say — and that none of
them widens what the grant covers."""
from __future__ import annotations

import pytest

from search_app.search import QuerySyntaxError, search_pages
from search_app.search._parse import Filter, Term, parse
from tests.conftest import meta


@pytest.mark.parametrize("raw,groups,excluded", [
    ("户口 迁移", [[Term("户口")], [Term("迁移")]], []),
    ('"户口迁移证明"', [[Term("户口迁移证明", phrase=True)]], []),
    ("“户口 迁移”", [[Term("户口 迁移", phrase=True)]], []),
    ("迁移 OR 迁出", [[Term("迁移"), Term("迁出")]], []),
    ("户口 迁移 OR 迁出", [[Term("户口")], [Term("迁移"), Term("迁出")]], []),
    ("户口 -迁移", [[Term("户口")]], [Term("迁移")]),
    ("户口 NOT 迁移", [[Term("户口")]], [Term("迁移")]),
    ('户口 -"迁移证明"', [[Term("户口")]], [Term("迁移证明", phrase=True)]),
    ("户口 AND 迁移", [[Term("户口")], [Term("迁移")]], []),
    ("檔案", [[Term("档案")]], []),
    ("档号:HJ-2023-0001", [[Filter("archive_no", "HJ-2023-0001")]], []),
    ("hj-2023", [[Filter("archive_no", "HJ-2023")]], []),
    ("题名:迁移证明", [[Filter("title", "迁移证明")]], []),
    ("门类:户籍档案 户口", [[Filter("category", "户籍档案")], [Term("户口")]], []),
    ("单位:海淀分局", [[Filter("unit", "海淀分局")]], []),
    ("年度:2010-2015", [[Filter("year", (2010, 2015))]], []),
    ("年度：2023", [[Filter("year", (2023, 2023))]], []),
    ("密级:内部", [[Filter("classification", "内部")]], []),
    ("年度:2020 OR 年度:2023", [[Filter("year", (2020, 2020)), Filter("year", (2023, 2023))]], []),
    ("户口 -门类:电子卷宗", [[Term("户口")]], [Filter("category", "电子卷宗")]),
])
def test_constructs(raw, groups, excluded):
    q = parse(raw)
    assert (q.groups, q.excluded) == (groups, excluded)


@pytest.mark.parametrize("raw,says", [
    ("", "请输入"), ("   ", "请输入"), ('"户口', "引号没有闭合"), ('""', "没有内容"),
    ("OR 迁移", "OR 两边"), ("迁移 OR", "OR 后面缺少"), ("迁移 OR OR 迁出", "OR 两边"),
    ("户口 NOT", "NOT 后面缺少"), ("户口 -", "“-”后面"), ("-迁移", "只有排除条件"),
    ("NOT 迁移", "只有排除条件"), ("年度:二〇二三", "年度应为"), ("年度:2015-2010", "起始年大于"),
    ("门类:房产档案", "门类“房产档案”不存在"), ("密级:绝密", "密级“绝密”不存在"), ("档号:", "缺少"),
    ("作者:", "未知的筛选字段"), ("迁移 OR -迁出", "不能直接跟排除"), ("x" * 201, "过长"),
])
def test_errors_are_explained(raw, says):
    with pytest.raises(QuerySyntaxError, match=says):
        parse(raw)


HAIDIAN, CHAOYANG = "北京市公安局海淀分局", "北京市公安局朝阳分局"


@pytest.fixture()
def corpus(ingest):
    progress, _ = ingest([
        meta("QL-2019-0001", year=2019, pages=[["语法测试 户口迁移证明 页面内容足够长以使用文本层"]]),
        meta("QL-2021-0002", year=2021, pages=[["语法测试 户口登记 迁出 页面内容足够长以使用文本层"]]),
        meta("QL-2023-0003", year=2023, pages=[["语法测试 婚姻登记 页面内容足够长以使用文本层"]]),
        meta("QL-2023-0004", year=2023, unit=CHAOYANG,
             pages=[["语法测试 户口迁移 朝阳 页面内容足够长以使用文本层"]]),
        meta("QL-2023-0005", year=2023, classification="机密",
             pages=[["语法测试 户口迁移 机密 页面内容足够长以使用文本层"]]),
    ])
    assert progress.files_failed == 0, progress.errors


def _files(ctx, user, grant, q, **kw) -> list[str]:
    out = search_pages(user=user, grant_id=grant.id, purpose="语法测试", query=q, **kw)
    return [h.fields["archive_no"] for h in out.hits]


@pytest.mark.integration
def test_or_not_filters_and_sort_against_the_engine(ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)  # 户籍档案 / 海淀分局 / ≤内部
    files = lambda q, **kw: _files(ctx, user, grant, q, **kw)  # noqa: E731
    assert sorted(files("语法测试 户口 -迁移")) == ["QL-2021-0002"], "NOT kept pages with 迁移"
    assert sorted(files("语法测试 迁移 OR 迁出")) == ["QL-2019-0001", "QL-2021-0002"]
    assert sorted(files("语法测试 年度:2021-2023")) == ["QL-2021-0002", "QL-2023-0003"]
    assert files("语法测试 2019") == ["QL-2019-0001"], "a bare year does not find its file"
    assert files("档号:QL-2021") == ["QL-2021-0002"]  # 档号s are unique to this module
    assert files("QL-2023-0003") == ["QL-2023-0003"], "a bare 档号 is not recognised"
    assert files('"户口迁移证明" 语法测试') == ["QL-2019-0001"]
    assert files("语法测试", sort="year_desc") == ["QL-2023-0003", "QL-2021-0002", "QL-2019-0001"]
    assert files("语法测试", sort="archive_no") == ["QL-2019-0001", "QL-2021-0002", "QL-2023-0003"]
    with pytest.raises(QuerySyntaxError):
        files("语法测试", sort="random")


@pytest.mark.integration
def test_or_and_not_never_widen_the_grant(ctx, corpus, make_user, make_grant):
    """QL-2023-0004 (朝阳分局) and QL-2023-0005 (机密) are outside this grant whatever is typed."""
    user = make_user("staff")
    grant = make_grant(user)
    hidden = {"QL-2023-0004", "QL-2023-0005"}
    for q in ("户口迁移 OR 朝阳", "语法测试 -婚姻", "NOT 婚姻 语法测试", f"单位:{CHAOYANG}",
              "密级:机密", "档号:QL-2023", "语法测试 OR 机密 OR 朝阳", "语法测试 -单位:海淀分局",
              "年度:1900-2099"):
        leaked = hidden & set(_files(ctx, user, grant, q))
        assert not leaked, f"LEAKED {sorted(leaked)} outside the grant for the query {q!r}"
