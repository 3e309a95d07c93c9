"""Guarantee: every read returns only what its grant covers, minus the reader's own and their
relatives' files (DESIGN.md rules 2 and 5), over a randomized matrix of users × grants × queries
(> 1,000 reads through the choke point) checked against an independent oracle. A failure names
the leaked document ids and the combination that leaked them.
"""
from __future__ import annotations

import random

import pytest

from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.search import ReadDenied, search_pages, view_page
from tests.test_security_permission_filter import (CATEGORIES, LEVELS, PHRASE, SELF_ID, UNITS,
                                                   assert_same, corpus)  # noqa: F401 - fixture

pytestmark = pytest.mark.integration

# Every query carries the corpus phrase: other modules' pages share the session's index, and a
# bare 本人 would match theirs (in scope for the grant, but unknown to this oracle).
QUERIES = {PHRASE: None, f"{PHRASE} 文档编号": "文档编号", f"{PHRASE} 本人": "本人",
           f"{PHRASE} 家属情况": "家属情况", f"{PHRASE} 内容足够长": "内容足够长"}
OTHER_ID = "11010519491231002X"


def in_scope(s: dict, g: dict, reader_ids: set[str]) -> bool:
    text = str(s["pages"])
    return (s["category"] in g["categories"] and s["unit"] in g["units"]
            and LEVELS[s["classification"]] <= LEVELS[g["classification"]]
            and (not g["archive_nos"] or s["archive_no"] in g["archive_nos"])
            and (not g["subject_id"] or s.get("subject_id") == g["subject_id"])
            and not any(r == s.get("subject_id") or r in text for r in reader_ids))


def matches(s: dict, query: str) -> bool:
    needle = QUERIES[query]
    return PHRASE in str(s["pages"]) and (needle is None or needle in str(s["pages"]))


def test_randomized_users_grants_queries_match_the_oracle(ctx, corpus, make_user, make_grant):
    rng = random.Random(4_2026_1121)
    vault = vault_from_config(ctx.config)
    identities = [set(), {SELF_ID}, set(), {OTHER_ID}, set(), set(), set(), set()]
    users = []
    for i, ids in enumerate(identities):
        own = next(iter(ids)) if ids else ""
        user = make_user("staff", unit=rng.choice(UNITS), id_number=own)
        if i == 2:  # a relative of the person in PM-SELF / PM-MENTION
            user.relative_hmacs = [vault.blind_index("id_number", SELF_ID)]
            get_session().commit()
            ids = {SELF_ID}
        users.append((user, ids))
    docs = list(corpus)
    reads = 0
    for user, reader_ids in users:
        for n in range(25):
            g = {"categories": rng.sample(CATEGORIES, rng.randint(1, 3)),
                 "units": rng.sample(UNITS, rng.randint(1, 3)),
                 "classification": rng.choice(list(LEVELS)),
                 "archive_nos": sorted(rng.sample([s["archive_no"] for s in corpus.values()], 6))
                 if n % 5 == 0 else [],
                 "subject_id": SELF_ID if n % 9 == 4 else ""}
            grant = make_grant(user, categories=g["categories"], units=g["units"],
                               classification=g["classification"], archive_nos=g["archive_nos"],
                               subject_id=g["subject_id"])
            label = f"user#{user.id} ids={sorted(reader_ids) or '-'} grant={g}"
            scope = {d for d, s in corpus.items() if in_scope(s, g, reader_ids)}
            for query in QUERIES:
                out = search_pages(user=user, grant_id=grant.id, purpose="矩阵测试", query=query,
                                   page_size=100)
                reads += 1
                seen = {h.doc_id for h in out.hits}
                assert out.total == len(seen), f"{label} q={query}: total {out.total} ≠ hits"
                assert_same(seen, {d for d in scope if matches(corpus[d], query)},
                            f"{label} q={query!r}")
                counts = dict(out.facets["category"])
                assert sum(counts.values()) == out.total, f"{label}: facet counts leak: {counts}"
            for doc in rng.sample(docs, 3):
                reads += 1
                try:
                    page = view_page(user=user, grant_id=grant.id, purpose="矩阵测试", doc_id=doc)
                    assert doc in scope, f"{label}: LEAKED page view of {doc} outside the grant"
                    assert page.doc_id == doc
                except ReadDenied:
                    assert doc not in scope, f"{label}: page {doc} inside the grant was refused"
    assert reads >= 1000, reads
