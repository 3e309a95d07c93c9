"""Ingest and reads fail safe (issue 14 requirement 4): a page reaches the index only after the
commit that makes it durable, a page that should vanish but cannot be deleted from the index stops
the file instead of staying searchable, and a read that fails for a reason other than the engine
(a tampered ciphertext) is a 500 with a Chinese message, not "engine unavailable"."""
from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from search_app import create_app
from search_app.db import get_session
from search_app.ingest.models import PageSecret
from search_app.ingest.finish import drop_vanished_pages
from search_app.search._backend import make_client
from tests.conftest import dump_index, login, meta

pytestmark = pytest.mark.integration


def _docs(app, archive_no: str) -> list[str]:
    return sorted(d["doc_id"] for d in dump_index(app) if d["archive_no"] == archive_no)


def test_a_page_whose_commit_fails_is_not_searchable(app, ctx, ingest):
    """The commit of the page's encrypted text fails (disk full, lost connection: the flush went
    through, the COMMIT did not). Nothing may be searchable that the database does not hold."""
    session = get_session()
    flushed: list[PageSecret] = []

    def note(sess, _flush_context, _instances) -> None:
        flushed.extend(o for o in sess.new if isinstance(o, PageSecret) and o.archive_no == "DU-0001")

    def fail(_sess) -> None:
        if flushed:
            flushed.clear()
            raise OperationalError("COMMIT", {}, Exception("disk full"))
    event.listen(session, "before_flush", note)
    event.listen(session, "before_commit", fail)
    try:
        progress, _ = ingest([meta("DU-0001", pages=[["持久化测试页 提交失败 内容足够长以使用文本层"]])])
    finally:
        event.remove(session, "before_flush", note)
        event.remove(session, "before_commit", fail)
    assert progress.files_failed == 1, "the page whose commit failed was reported done"
    assert _docs(app, "DU-0001") == [], \
        "LEAKED DU-0001#p0001 into the index: indexed before the commit that failed"


def test_a_vanished_page_that_cannot_be_deleted_stops_the_file(app, ctx, ingest):
    progress, _ = ingest([meta("DU-0002", pages=[["消失页测试 第一页 内容足够长以使用文本层"],
                                                 ["消失页测试 第二页 内容足够长以使用文本层"]])])
    assert progress.files_done == 1, progress.errors
    admin = make_client(app.config, "admin")
    index = app.config["OPENSEARCH_INDEX"]
    session = get_session()
    admin.indices.put_settings(index=index, body={"index.blocks.write": True})
    try:
        with pytest.raises(RuntimeError, match="未能从索引删除") as caught:
            drop_vanished_pages(session, "DU-0002", 1)  # the file now has one page
    finally:
        admin.indices.put_settings(index=index, body={"index.blocks.write": None})
        session.rollback()
    assert "DU-0002" in str(caught.value), caught.value
    assert _docs(app, "DU-0002") == ["DU-0002#p0001", "DU-0002#p0002"]
    session.expire_all()
    assert session.get(PageSecret, "DU-0002#p0002") is not None, \
        "the page's encrypted text was dropped although its index document stayed searchable"


def test_a_tampered_page_is_a_500_in_chinese_not_engine_unavailable(settings, ingest, make_user,
                                                                     make_grant):
    progress, _ = ingest([meta("DU-0003", pages=[["篡改测试页 联系电话 13745678123 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors
    user = make_user("staff")
    grant = make_grant(user, unmask_fields=["phone"])
    session = get_session()
    secret = session.get(PageSecret, "DU-0003#p0001")
    secret.ciphertext = secret.ciphertext[:-1] + bytes([secret.ciphertext[-1] ^ 1])
    session.commit()
    # The error pages a user really sees (TESTING re-raises instead); CSRF is tested elsewhere.
    served = create_app({**settings, "TESTING": False, "WTF_CSRF_ENABLED": False})
    client = served.test_client()
    login(client, user.username)
    resp = client.post(f"/pages/{quote('DU-0003#p0001')}", data={"grant_id": grant.id, "purpose": "核实",
                                                     "unmask": "1"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 500, f"a tampered ciphertext answered {resp.status_code}"
    assert "服务器内部错误" in page and "检索服务暂时不可用" not in page, page[:500]
    assert "13745678123" not in page
