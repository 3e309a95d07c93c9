"""Guarantee: the choke point applies the permission filter itself (a read cannot leave it out),
and only engine transport errors are reported as "engine unavailable" — a tampered ciphertext
or a bug is audited as an error and raised as what it is (DESIGN.md rules 2 and 6)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from search_app.audit.models import AuditRecord
from search_app.crypto import DecryptError
from search_app.db import get_session
from search_app.ingest.models import PageSecret
from search_app.search import SearchUnavailable, unmask_page
from search_app.search._choke import Found, guarded_read
from tests.conftest import meta

pytestmark = pytest.mark.integration

IN_SCOPE, OUT_OF_SCOPE = "CK-0001#p0001", "CK-0002#p0001"


@pytest.fixture()
def pages(ingest):
    progress, _ = ingest([
        meta("CK-0001", pages=[["扼要测试 户籍页面 内容足够长以使用文本层 联系电话 13745678912"]]),
        meta("CK-0002", category="干部人事档案", unit="组织部",
             pages=[["扼要测试 干部档案页面 内容足够长以使用文本层"]]),
    ])
    assert progress.files_failed == 0, progress.errors


def test_a_read_that_forgets_the_filter_still_sees_only_its_scope(ctx, pages, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)  # 户籍档案 / 海淀分局

    def careless(_grant, index):  # asks for everything, names no filter at all
        resp = index.search({"size": 100, "query": {"match_all": {}},
                             "aggs": {"units": {"terms": {"field": "unit"}}}})
        ids = [h["_id"] for h in resp["hits"]["hits"]]
        units = [b["key"] for b in resp["aggregations"]["units"]["buckets"]]
        return Found(units, ids, len(ids))

    _, found, _ = guarded_read(user=user, grant_id=grant.id, purpose="核实", action="search",
                               client_addr="", run=careless)
    assert OUT_OF_SCOPE not in found.returned_ids, \
        f"LEAKED {OUT_OF_SCOPE}: a match_all read outside the grant's 门类 was answered"
    assert IN_SCOPE in found.returned_ids
    assert "组织部" not in found.payload, "a facet counted a unit outside the grant"


def test_tampered_page_text_is_an_audited_error_not_engine_unavailable(ctx, pages, make_user,
                                                                       make_grant):
    user = make_user("staff")
    grant = make_grant(user, unmask_fields=["phone"])
    session = get_session()
    secret = session.get(PageSecret, IN_SCOPE)
    secret.ciphertext = secret.ciphertext[:-1] + bytes([secret.ciphertext[-1] ^ 1])
    session.commit()
    with pytest.raises(DecryptError) as caught:
        unmask_page(user=user, grant_id=grant.id, purpose="核实", doc_id=IN_SCOPE)
    assert not isinstance(caught.value, SearchUnavailable)
    rec = session.execute(select(AuditRecord).where(AuditRecord.user_id == user.id)
                          .order_by(AuditRecord.seq.desc())).scalars().first()
    assert (rec.action, rec.outcome) == ("page.unmask", "error"), \
        "the failed unmask of a tampered page left no error record"
    assert "DecryptError" in rec.reason and "检索服务" not in rec.reason, rec.reason
