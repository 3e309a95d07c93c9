"""The reading-session JSON API (/api/v1/sessions…): open with a typed purpose, search, page with
its image URL, image, PDF export, close; another user's token reads nothing in the session."""
from __future__ import annotations

from urllib.parse import quote

import pymupdf
import pytest

from tests.api_check import check_response
from tests.conftest import audit_records, bearer_client, meta

pytestmark = pytest.mark.integration

FILE = "RA-2020-0009"


@pytest.fixture()
def corpus(ingest):
    progress, _ = ingest([meta(FILE, pages=[["接口会话测试 第一页 内容足够长以使用文本层"],
                                            ["接口会话测试 第二页 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors



def test_session_api_journey(app, ctx, corpus, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    api = bearer_client(app, user)
    bad = api.post("/api/v1/sessions", json={"grant_id": grant.id, "purpose": ""})
    assert bad.status_code == 400 and bad.is_json and "查询事由" in bad.json["message"]
    opened = api.post("/api/v1/sessions", json={"grant_id": grant.id, "purpose": "接口核实"})
    assert opened.status_code == 201, opened.get_data(as_text=True)
    sid = opened.json["id"]
    assert opened.json["approval_ref"] == grant.ref and opened.json["closed_at"] is None

    found = api.get(f"/api/v1/sessions/{sid}/search?q={quote('接口会话测试')}")
    assert found.status_code == 200, found.get_data(as_text=True)
    assert {h["id"] for h in found.json["hits"]} >= {f"{FILE}#p0001", f"{FILE}#p0002"}
    assert found.json["cached"] is False and found.json["session"] == sid
    assert api.get(f"/api/v1/sessions/{sid}/search?q={quote('接口会话测试')}").json["cached"] is True
    assert len(audit_records("search", user_id=user.id)) == 1

    page = api.get(f"/api/v1/sessions/{sid}/pages/{quote(FILE + '#p0001')}")
    assert page.status_code == 200, page.get_data(as_text=True)
    assert page.json["next"] == f"{FILE}#p0002" and page.json["previous"] is None
    img = api.get(page.json["image_url"])
    assert img.status_code == 200 and img.mimetype == "image/png"
    [rec] = audit_records("page.image", user_id=user.id)
    assert rec.filters["reading_session"] == sid

    pdf = api.post(f"/api/v1/sessions/{sid}/export", json={"archive_no": FILE})
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf", pdf.get_data(as_text=True)[:300]
    assert pymupdf.open(stream=pdf.data, filetype="pdf").page_count == 2
    assert int(pdf.headers["X-Audit-Seq"]) == audit_records("export.pdf", user_id=user.id)[0].seq

    other = bearer_client(app, make_user("staff"))
    for url in (f"/api/v1/sessions/{sid}/search?q=x", f"/api/v1/sessions/{sid}/pages/{quote(FILE + '#p0001')}",
                page.json["image_url"]):
        resp = other.get(url)
        assert resp.status_code == 403 and "不属于您" in resp.json["message"], \
            f"another user's token read {url} in the session"
    assert other.post(f"/api/v1/sessions/{sid}/close").status_code == 404

    closed = api.post(f"/api/v1/sessions/{sid}/close")
    assert closed.status_code == 200 and closed.json["closed_at"]
    after = api.get(f"/api/v1/sessions/{sid}/pages/{quote(FILE + '#p0001')}")
    assert after.status_code == 403 and "开启阅读会话" in after.json["message"]

    # every JSON answer above matches the OpenAPI document (/api/v1/openapi.json)
    page_path = f"/api/v1/sessions/{sid}/pages/{FILE}#p0001"
    for method, path, resp in [
            ("POST", "/api/v1/sessions", bad), ("POST", "/api/v1/sessions", opened),
            ("GET", f"/api/v1/sessions/{sid}/search", found), ("GET", page_path, page),
            ("POST", f"/api/v1/sessions/{sid}/close", closed), ("GET", page_path, after)]:
        check_response(app, method, path, resp.status_code, resp.json)
