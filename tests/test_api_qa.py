"""Digitisation QA and browsing over /api/v1, against the real engine, database and vault: the
security admin gives a reviewer a batch, the reviewer reads its queue and pages (masked, inside
the scope only) and accepts, corrects or sends back; staff browse 全宗 → 门类 → 年度 → 件 → 页 in
their reading session. Every response is validated against the OpenAPI document (ApiClient);
each route is refused to a role or user that must not use it, naming what was allowed, and the
audit records are checked; the last test proves every operation here was called successfully."""
from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from tests.api_check import api_fixture, assert_role_refused, openapi_document
from tests.conftest import audit_records, meta

pytestmark = pytest.mark.integration
TAG = uuid.uuid4().hex[:6]
ID = "110105197806201237"
PREFIXES = ("api.qa_", "api_reading.browse")
_SEEN: set[tuple[str, str, int]] = set()
api = api_fixture(_SEEN)


@pytest.fixture()
def batches(ingest):
    """Two batches of one text-layer file each: [(archive_no, doc_id, job_id)] ×2."""
    out = []
    for n in (1, 2):
        archive_no = f"QAPI-{TAG}-{n}"
        progress, job_id = ingest([meta(archive_no, pages=[[
            f"质检接口{TAG} 户口登记 第{n}批", f"公民身份号码 {ID}", "承办人签字 本页为质检接口文本层内容"]])])
        assert progress.files_failed == 0, progress.errors
        out.append((archive_no, f"{archive_no}#p0001", job_id))
    return out


def test_scope_queue_page_image_actions_and_stats(batches, make_user, api):
    (_, doc_id, job_id), (_, other_doc, _) = batches
    secadmin, reviewer, staff = make_user("security_admin"), make_user("qa_reviewer"), make_user("staff")
    sec, rv = api(secadmin), api(reviewer)

    assert_role_refused(rv, reviewer, "POST", "/api/v1/qa/scopes",
                  {"reviewer": reviewer.username, "job_ids": [job_id], "purpose": "自授", "days": 1})
    unknown = sec.post("/api/v1/qa/scopes", json={"reviewer": f"nobody-{TAG}", "job_ids": [job_id],
                                                   "purpose": "质检接口验收", "days": 7})
    assert unknown.status_code == 400 and "没有这个用户" in unknown.get_json()["message"]
    given = sec.post("/api/v1/qa/scopes", json={"reviewer": reviewer.username, "job_ids": [job_id],
                                                 "purpose": "质检接口验收", "days": 7})
    assert given.status_code == 201, given.get_json()
    scope = given.get_json()
    assert scope["reviewer"] == reviewer.username and scope["job_ids"] == [job_id]
    assert any(x["id"] == scope["id"] for x in sec.get("/api/v1/qa/scopes").get_json()["scopes"])

    assert_role_refused(api(staff), staff, "GET", "/api/v1/qa/queue")
    assert_role_refused(sec, secadmin, "GET", f"/api/v1/qa/pages/{quote(doc_id)}")
    queue = rv.get("/api/v1/qa/queue").get_json()
    assert queue["scope"] == scope["id"] and [p["doc_id"] for p in queue["pages"]] == [doc_id], queue
    page = rv.get(f"/api/v1/qa/pages/{quote(doc_id)}?scope={scope['id']}")
    assert page.status_code == 200, page.get_json()
    body = page.get_json()
    assert ID not in body["text"] and "110105" in body["text"], \
        f"the QA API shows an unmasked ID number: {body['text']!r}"
    image = rv.get(body["image_url"])
    assert image.status_code == 200 and image.mimetype == "image/png"
    outside = rv.get(f"/api/v1/qa/pages/{quote(other_doc)}?scope={scope['id']}")
    assert outside.status_code == 403 and TAG not in outside.get_json()["message"].replace(other_doc, ""), \
        f"ALLOWED: a page of a batch outside the scope: {outside.get_json()}"

    no_reason = rv.post(f"/api/v1/qa/pages/{quote(doc_id)}/action", json={"do": "rescan", "scope": scope["id"]})
    assert no_reason.status_code == 400 and "原因" in no_reason.get_json()["message"]
    wrong = rv.post(f"/api/v1/qa/pages/{quote(doc_id)}/action", json={"do": "delete"})
    assert wrong.status_code == 400 and "do" in wrong.get_json()["message"]
    fixed = rv.post(f"/api/v1/qa/pages/{quote(doc_id)}/action", json={
        "do": "correct", "scope": scope["id"],  # the text as shown, masked parts untouched
        "text": body["text"].replace("承办人签字", "承办人已更正签字")})
    assert fixed.status_code == 200, fixed.get_json()
    assert fixed.get_json()["review"]["status"] == "corrected" and fixed.get_json()["review"]["text_version"] == 2
    versions = rv.get(f"/api/v1/qa/pages/{quote(doc_id)}?scope={scope['id']}").get_json()["versions"]
    assert len(versions) == 1, "the replaced text version was not kept"
    old = rv.get(f"/api/v1/qa/pages/{quote(doc_id)}?scope={scope['id']}&v={versions[0]['id']}").get_json()
    assert "承办人签字" in old["text"] and "已更正" not in old["text"] and ID not in old["text"]
    accepted = rv.post(f"/api/v1/qa/pages/{quote(doc_id)}/action", json={"do": "accept", "scope": scope["id"]})
    assert accepted.get_json()["review"]["status"] == "accepted"
    [batch] = [b for b in rv.get("/api/v1/qa/stats").get_json()["batches"] if b["job_id"] == job_id]
    assert batch["pages"] == 1 and batch["accepted"] == 1

    revoked = sec.post(f"/api/v1/qa/scopes/{scope['id']}/revoke", json={"confirm": True})
    assert revoked.status_code == 200 and revoked.get_json()["inactive_reason"], revoked.get_json()
    assert sec.post(f"/api/v1/qa/scopes/{scope['id']}/revoke", json={}).status_code == 400
    assert sec.post("/api/v1/qa/scopes/99999999/revoke", json={"confirm": True}).status_code == 404
    after = rv.get(f"/api/v1/qa/pages/{quote(doc_id)}?scope={scope['id']}")
    assert after.status_code == 403, f"ALLOWED: a read under a revoked scope: {after.get_json()}"

    views = audit_records("qa.page_view", username=reviewer.username)
    assert [r.outcome for r in views].count("allowed") >= 2 and [r.outcome for r in views].count("denied") == 2
    assert audit_records("qa.page_image", username=reviewer.username, outcome="allowed")
    assert audit_records("qa.version_view", username=reviewer.username, outcome="allowed")
    assert [r.outcome for r in audit_records("qa.correct", username=reviewer.username)][-1] == "allowed"
    assert audit_records("qa.accept", username=reviewer.username, outcome="allowed")
    assert len(audit_records("qa.scope_grant", username=secadmin.username)) == 1
    assert len(audit_records("qa.scope_revoke", username=secadmin.username)) == 1


def test_browse_in_a_reading_session(batches, make_user, make_grant, api):
    (archive_no, doc_id, _), _ = batches
    staff, intruder, auditor = make_user("staff"), make_user("staff"), make_user("auditor")
    grant = make_grant(staff)
    s = api(staff)
    sid = s.post("/api/v1/sessions", json={"grant_id": grant.id, "purpose": "分级浏览接口核对"}).get_json()["id"]
    top = s.get(f"/api/v1/sessions/{sid}/browse").get_json()
    assert top["level"] == "fonds_no" and top["cached"] is False
    fonds = next(e["key"] for e in top["entries"] if e["key"] == "-")
    cats = s.get(f"/api/v1/sessions/{sid}/browse?fonds={quote(fonds)}").get_json()
    assert cats["level"] == "category" and "户籍档案" in [e["key"] for e in cats["entries"]]
    years = s.get(f"/api/v1/sessions/{sid}/browse?fonds={quote(fonds)}&category={quote('户籍档案')}").get_json()
    assert 2020 in [e["key"] for e in years["entries"]]
    base = f"/api/v1/sessions/{sid}/browse?fonds={quote(fonds)}&category={quote('户籍档案')}&year=2020"
    files = s.get(base).get_json()
    assert archive_no in [e["key"] for e in files["entries"]], "the file is not listed under its year"
    pages = s.get(f"{base}&archive_no={quote(archive_no)}").get_json()
    assert pages["level"] == "page_no" and [e["doc_id"] for e in pages["entries"]] == [doc_id]
    again = s.get(f"{base}&archive_no={quote(archive_no)}").get_json()
    assert again["cached"] is True and again["audit_seq"] == pages["audit_seq"]
    bad = s.get(f"/api/v1/sessions/{sid}/browse?year=20x0")
    assert bad.status_code == 400 and "四位数字" in bad.get_json()["message"]

    stolen = api(intruder).get(f"/api/v1/sessions/{sid}/browse")
    assert stolen.status_code == 403, f"ALLOWED: another user's token browsed in the session: {stolen.get_json()}"
    assert_role_refused(api(auditor), auditor, "GET", f"/api/v1/sessions/{sid}/browse")
    mine = audit_records("browse", user_id=staff.id, outcome="allowed")
    assert len(mine) == 5, f"{len(mine)} browse records for 5 new levels (one cached)"
    assert all(r.filters["reading_session"] == sid and r.approval_ref == grant.ref for r in mine)
    assert audit_records("browse", username=intruder.username, outcome="denied")


def test_every_operation_here_was_called_and_validated(app):
    called = {endpoint for endpoint, _, status in _SEEN if status < 300}
    ops = [op["operationId"] for ops in openapi_document(app)["paths"].values() for op in ops.values()
           if op["operationId"].startswith(PREFIXES)]
    missing = sorted(set(ops) - called)
    assert ops and not missing, f"operations never called successfully here: {missing}"
