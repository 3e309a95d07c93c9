"""Guarantee: a search returns only documents its grant covers (DESIGN.md rules 2 and 5).

Checked against an independent oracle (plain Python over the corpus metadata), on the real
engine; a failure names every leaked document id.
"""
from __future__ import annotations

import itertools
import random

import pytest

from search_app.search import search_pages
from tests.conftest import ingest_specs, meta

pytestmark = pytest.mark.integration

CATEGORIES = ["户籍档案", "干部人事档案", "电子卷宗"]
UNITS = ["海淀分局", "朝阳分局", "组织部"]
LEVELS = {"公开": 0, "内部": 1, "秘密": 2, "机密": 3}
PHRASE = "权限矩阵测试"
SELF_ID = "110105197806201237"


@pytest.fixture(scope="module")
def corpus(app, tmp_path_factory):
    """One text-layer page per (category, unit, classification), plus one about a staff member."""
    specs = []
    for i, (cat, unit, cls) in enumerate(itertools.product(CATEGORIES, UNITS, LEVELS)):
        specs.append(meta(f"PM-{i:03d}", category=cat, unit=unit, classification=cls,
                          pages=[[f"{PHRASE} 文档编号 {i:03d} 内容足够长以使用文本层"]]))
    specs.append(meta("PM-SELF", category="干部人事档案", unit="组织部", classification="内部",
                      subject_id=SELF_ID, pages=[[f"{PHRASE} 本人的干部人事档案 内容足够长"]]))
    specs.append(meta("PM-MENTION", category="干部人事档案", unit="组织部", classification="内部",
                      pages=[[f"{PHRASE} 家属情况 配偶身份证号 {SELF_ID} 内容足够长"]]))
    folder = tmp_path_factory.mktemp("matrix")
    with app.app_context():
        progress, _ = ingest_specs(folder, specs, manifest="m.json", timeout=3600, poll=0.2)
    assert progress.files_done == len(specs), progress.errors
    return {s["archive_no"] + "#p0001": s for s in specs}


def oracle(corpus, categories, units, ceiling, archive_nos, *, reader_id=""):
    return {doc for doc, s in corpus.items()
            if s["category"] in categories and s["unit"] in units
            and LEVELS[s["classification"]] <= LEVELS[ceiling]
            and (not archive_nos or s["archive_no"] in archive_nos)
            and not (reader_id and (s.get("subject_id") == reader_id
                                    or reader_id in str(s["pages"])))}


def visible(user, grant) -> set[str]:
    out = search_pages(user=user, grant_id=grant.id, purpose="权限测试", query=PHRASE, page_size=100)
    assert out.total <= 100
    return {h.doc_id for h in out.hits}


def assert_same(seen: set[str], expected: set[str], label: str) -> None:
    leaked, missing = sorted(seen - expected), sorted(expected - seen)
    assert not leaked, f"{label}: LEAKED documents outside the grant: {leaked}"
    assert not missing, f"{label}: documents inside the grant not found: {missing}"


def test_randomized_grants_match_the_oracle(ctx, corpus, make_user, make_grant):
    rng = random.Random(20261121)
    user = make_user("staff")
    for n in range(60):
        cats = rng.sample(CATEGORIES, rng.randint(1, 3))
        units = rng.sample(UNITS, rng.randint(1, 3))
        ceiling = rng.choice(list(LEVELS))
        nos = sorted(rng.sample([s["archive_no"] for s in corpus.values()], 4)) if n % 5 == 0 else []
        grant = make_grant(user, categories=cats, units=units, classification=ceiling, archive_nos=nos)
        assert_same(visible(user, grant), oracle(corpus, cats, units, ceiling, nos),
                    f"grant {cats}/{units}/≤{ceiling}/{nos or 'any archive'}")


def test_two_users_with_different_grants_see_different_results(ctx, corpus, make_user, make_grant):
    a, b = make_user("staff"), make_user("staff", unit="组织部")
    ga = make_grant(a, categories=["户籍档案"], units=["海淀分局"], classification="内部")
    gb = make_grant(b, categories=["干部人事档案"], units=["组织部"], classification="秘密")
    seen_a, seen_b = visible(a, ga), visible(b, gb)
    assert seen_a and seen_b and not seen_a & seen_b, f"overlap: {sorted(seen_a & seen_b)}"
    assert_same(seen_a, oracle(corpus, ["户籍档案"], ["海淀分局"], "内部", []), "user A")
    assert_same(seen_b, oracle(corpus, ["干部人事档案"], ["组织部"], "秘密", []), "user B")


def test_staff_never_see_their_own_file(ctx, corpus, make_user, make_grant):
    me = make_user("staff", unit="组织部", id_number=SELF_ID)
    other = make_user("staff", unit="组织部")
    scope = dict(categories=["干部人事档案"], units=["组织部"], classification="秘密")
    mine = visible(me, make_grant(me, **scope))
    assert "PM-SELF#p0001" not in mine, \
        "LEAKED: staff member sees the personnel file about themselves (PM-SELF)"
    assert "PM-MENTION#p0001" not in mine, \
        "LEAKED: staff member sees a page carrying their own ID number (PM-MENTION)"
    assert {"PM-SELF#p0001", "PM-MENTION#p0001"} <= visible(other, make_grant(other, **scope))


def test_facet_counts_are_computed_under_the_filter(ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user, categories=["电子卷宗"], units=["朝阳分局"], classification="公开")
    out = search_pages(user=user, grant_id=grant.id, purpose="权限测试", query=PHRASE)
    assert dict(out.facets["category"]) == {"电子卷宗": 1}, f"facets leak other categories: {out.facets}"
    assert dict(out.facets["unit"]) == {"朝阳分局": 1}
