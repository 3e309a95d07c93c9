"""The API as its users and attackers call it, against the real services: grant requests, the
approver inbox and decisions (same rules as the web UI), audit queries, who-am-I, and the reads.
Every response goes through tests.api_check.ApiClient, which validates it against the OpenAPI
document; the last test proves every documented operation was called here (or where noted)."""
from __future__ import annotations

from urllib.parse import quote

import pytest

from search_app.db import get_session
from tests.api_check import ApiClient, api_fixture, openapi_document
from tests.conftest import audit_records, meta

pytestmark = pytest.mark.integration
UNIT = "北京市公安局海淀分局"
FILE = "AP-2024-0001"
SECRET_FILE = "AP-2024-0002"
ID = "110105197806201237"
PHRASE = "接口测试户口登记簿"
_SEEN: set[tuple[str, str, int]] = set()
# Operations whose responses other modules validate with ApiClient (operationId -> module).
# Reading-session routes are exercised (statuses, bodies, refusals) in tests/test_reading_api.py
# and tests/test_reading_export.py; their JSON answers are validated there against this document.
ELSEWHERE: dict[str, str] = {
    f"api_reading.{name}": "tests/test_reading_api.py"
    for name in ("open_", "close", "search", "page", "image", "export")}
# The issue-13 areas: each of these modules ends with a test that every operation of its
# prefixes answered a success through ApiClient there.
ELSEWHERE_PREFIXES: dict[str, str] = {
    "api.catalogue_": "tests/test_api_records.py", "api.register_": "tests/test_api_records.py",
    "api.retention_": "tests/test_api_records.py", "api.qa_": "tests/test_api_qa.py",
    "api_reading.browse": "tests/test_api_qa.py", "api.accounts_": "tests/test_api_accounts.py",
    "api.ingest_upload": "tests/test_api_ingest_uploads.py",
    **{op: "tests/test_api_session_reads.py" for op in (
        "api_reading.sessions", "api_reading.lookup", "api_reading.export_csv", "api.audit_user",
        "api.audit_export", "api.ingest_jobs", "api.ingest_review", "api.ingest_mark_reviewed")}}


api = api_fixture(_SEEN)


@pytest.fixture()
def files(ingest):
    progress, _ = ingest([
        meta(FILE, unit=UNIT, pages=[[f"{PHRASE} 第一页", f"公民身份号码 {ID}"]]),
        meta(SECRET_FILE, unit=UNIT, classification="秘密", pages=[[f"{PHRASE} 秘密卷"]]),
    ])
    assert progress.files_failed == 0, progress.errors
    return progress


def _request(client: ApiClient, **over):
    body = {"purpose_category": "户籍核查", "purpose": "核查接口测试户口", "categories": ["户籍档案"],
            "units": [UNIT], "classification": "内部", "days": 1, "archive_nos": [FILE], **over}
    return client.post("/api/v1/grant-requests", json=body)


def test_request_approve_search_read(app, files, make_user, make_grant, api):
    staff, approver = make_user("staff"), make_user("approver")
    s, a = api(staff), api(approver)
    catalogue = s.get("/api/v1/grant-requests/catalogue").get_json()
    assert UNIT in catalogue["units"] and FILE in catalogue["archive_nos"]
    made = _request(s)
    assert made.status_code == 201, made.get_json()
    req = made.get_json()
    assert req["status"] == "pending" and req["status_label"] == "待审批" and req["approval_ref"] is None
    assert any(r["id"] == req["id"] for r in s.get("/api/v1/grant-requests").get_json()["requests"])
    assert s.get("/api/v1/grants").get_json()["grants"] == [], "a pending request is not a grant"
    assert any(r["id"] == req["id"] for r in a.get("/api/v1/inbox").get_json()["requests"])
    done = a.post(f"/api/v1/grant-requests/{req['id']}/decision", json={"decision": "approve", "days": 0.5})
    assert done.status_code == 200 and done.get_json()["status"] == "active", done.get_json()
    assert done.get_json()["approval_ref"].startswith("SP-") and done.get_json()["requested_hours"] == 12
    again = a.post(f"/api/v1/grant-requests/{req['id']}/decision", json={"decision": "approve"})
    assert again.status_code == 409 and "已批准" in again.get_json()["message"]
    grants = s.get("/api/v1/grants").get_json()["grants"]
    assert [g["id"] for g in grants] == [req["id"]]
    found = s.post("/api/v1/search", json={"grant_id": req["id"], "purpose": "核查", "q": PHRASE})
    hits = found.get_json()["hits"]
    assert found.status_code == 200 and [h["archive_no"] for h in hits] == [FILE], \
        f"the grant names {FILE} only, got {[h['archive_no'] for h in hits]}"
    by_file = s.post("/api/v1/search", json={"grant_id": req["id"], "purpose": "核查", "q": PHRASE,
                                             "group": "file"}).get_json()
    assert by_file["group"] == "file" and [f["archive_no"] for f in by_file["files"]] == [FILE], by_file
    assert s.post("/api/v1/search", json={"grant_id": req["id"], "purpose": "核查", "q": PHRASE,
                                          "group": "卷"}).status_code == 400
    page = s.post(f"/api/v1/pages/{quote(hits[0]['id'])}", json={"grant_id": req["id"], "purpose": "核查"})
    assert page.status_code == 200 and ID not in page.get_json()["text"]
    looked = s.post("/api/v1/lookup", json={"grant_id": req["id"], "purpose": "核查",
                                            "kind": "id_number", "value": ID})
    assert looked.status_code == 403 and "未批准精确查找" in looked.get_json()["message"]
    wider = make_grant(staff, archive_nos=[FILE], unmask_fields=["id_number"], allow_lookup=True)
    looked = s.post("/api/v1/lookup", json={"grant_id": wider.id, "purpose": "核查",
                                            "kind": "id_number", "value": ID})
    assert looked.status_code == 200 and {h["archive_no"] for h in looked.get_json()["hits"]} == {FILE}
    assert ID not in str(looked.get_json()), "a look-up answer carried the value in clear"
    bad_q = s.post("/api/v1/search", json={"grant_id": req["id"], "purpose": "核查", "q": '"未闭合'})
    assert bad_q.status_code == 400
    assert s.post("/api/v1/search", json={"grant_id": str(req["id"]), "q": "x"}).status_code == 400
    assert s.post("/api/v1/pages/x", json={"grant_id": "1"}).status_code == 400
    assert s.post("/api/v1/lookup", json={"grant_id": 1}).status_code == 400


def test_validation_errors_are_400_and_name_the_field(files, make_user, api):
    s = api(make_user("staff"))
    cases = [({"units": ["不存在的分局"]}, "不存在的分局"), ({"archive_nos": ["AP-9999-0000"]}, "AP-9999-0000"),
             ({"days": "1"}, "days"), ({"grnat": 1}, "grnat"), ({"categories": []}, "categories"),
             ({"classification": "绝密"}, "密级"), ({"purpose": "  "}, "查询事由"),
             ({"archive_nos": [FILE], "units": [UNIT], "categories": ["干部人事档案"]}, FILE)]
    for over, named in cases:
        resp = _request(s, **over)
        body = resp.get_json()
        assert resp.status_code == 400, f"{over} was answered {resp.status_code} {body}"
        assert named in body["message"] and body["error"] == "请求无效", body
    not_json = s.post("/api/v1/grant-requests", data="x", content_type="text/plain")
    assert not_json.status_code == 400 and "JSON" in not_json.get_json()["message"]
    assert s.get("/api/v1/grant-requests").get_json()["requests"] == [], "a refused request was written"


def test_dual_control_and_self_exclusion(files, make_user, api):
    """秘密 needs two approvers; nobody approves their own request, nor twice."""
    both = make_user("staff,approver")
    first, second = make_user("approver"), make_user("approver")
    me, a1, a2 = api(both), api(first), api(second)
    req = _request(me, classification="秘密", archive_nos=[SECRET_FILE]).get_json()
    assert req["needs_second_approval"] and req["status"] == "pending"
    assert all(r["id"] != req["id"] for r in me.get("/api/v1/inbox").get_json()["requests"]), \
        "the requester's own request is in their inbox"
    own = me.post(f"/api/v1/grant-requests/{req['id']}/decision", json={"decision": "approve"})
    assert own.status_code == 403 and "申请人本人" in own.get_json()["message"], \
        f"the requester approved their own request: {own.get_json()}"
    step = a1.post(f"/api/v1/grant-requests/{req['id']}/decision", json={"decision": "approve"}).get_json()
    assert step["status"] == "pending_second" and step["approval_ref"] is None
    twice = a1.post(f"/api/v1/grant-requests/{req['id']}/decision", json={"decision": "approve"})
    assert twice.status_code == 403 and "另一名审批人" in twice.get_json()["message"], \
        f"one approver gave both approvals of a 秘密 grant: {twice.get_json()}"
    assert all(r["id"] != req["id"] for r in a1.get("/api/v1/inbox").get_json()["requests"])
    final = a2.post(f"/api/v1/grant-requests/{req['id']}/decision", json={"decision": "approve"}).get_json()
    assert final["status"] == "active" and final["second_approved_by"] == second.username
    assert [r.outcome for r in audit_records("grant.approve", grant_id=req["id"])] == ["allowed", "allowed"]


def test_deny_and_withdraw(files, make_user, api):
    staff, other, approver = make_user("staff"), make_user("staff"), make_user("approver")
    s, o, a = api(staff), api(other), api(approver)
    req = _request(s).get_json()
    no_reason = a.post(f"/api/v1/grant-requests/{req['id']}/decision", json={"decision": "deny"})
    assert no_reason.status_code == 400 and "理由" in no_reason.get_json()["message"]
    wrong = a.post(f"/api/v1/grant-requests/{req['id']}/decision", json={"decision": "maybe"})
    assert wrong.status_code == 400 and "decision" in wrong.get_json()["message"]
    denied = a.post(f"/api/v1/grant-requests/{req['id']}/decision",
                    json={"decision": "deny", "reason": "事由不充分"}).get_json()
    assert denied["status"] == "denied" and "事由不充分" in denied["inactive_reason"]
    pending = _request(s).get_json()
    unconfirmed = s.post(f"/api/v1/grant-requests/{pending['id']}/withdraw", json={})
    assert unconfirmed.status_code == 400 and "confirm" in unconfirmed.get_json()["message"]
    theirs = o.post(f"/api/v1/grant-requests/{pending['id']}/withdraw", json={"confirm": True})
    assert theirs.status_code == 404, "another user's request must look absent, not refusable"
    gone = s.post(f"/api/v1/grant-requests/{pending['id']}/withdraw", json={"confirm": True})
    assert gone.status_code == 200 and gone.get_json()["status"] == "withdrawn"
    again = s.post(f"/api/v1/grant-requests/{pending['id']}/withdraw", json={"confirm": True})
    assert again.status_code == 409
    missing = a.post("/api/v1/grant-requests/99999999/decision", json={"decision": "approve"})
    assert missing.status_code == 404 and "不存在" in missing.get_json()["message"]


@pytest.mark.parametrize("role,method,path,body", [
    ("staff", "GET", "/api/v1/inbox", None),
    ("staff", "POST", "/api/v1/grant-requests/1/decision", {"decision": "approve"}),
    ("staff", "GET", "/api/v1/audit/records", None),
    ("approver", "POST", "/api/v1/grant-requests", {}),
    ("approver", "GET", "/api/v1/audit/records", None),
    ("auditor", "POST", "/api/v1/search", {"grant_id": 1, "q": "户口"}),
    ("auditor", "POST", "/api/v1/pages/AP-2024-0001%23p0001", {"grant_id": 1}),
    ("auditor", "POST", "/api/v1/grant-requests/1/decision", {"decision": "approve"}),
    ("security_admin", "GET", "/api/v1/audit/records", None),
    ("system_admin", "POST", "/api/v1/search", {"grant_id": 1, "q": "户口"}),
])
def test_roles_are_refused_with_403_and_audited(role, method, path, body, make_user, api):
    """An attacker with the wrong role gets 403 naming the permission, whatever the body says
    (the role check runs before the body is read), and the refusal is audited."""
    user = make_user(role)
    resp = api(user).open(method, path, **({"json": body} if body is not None else {}))
    assert resp.status_code == 403, f"{role} reached {method} {path}: {resp.status_code}"
    assert "没有此项权限" in resp.get_json()["message"]
    assert audit_records("route:" + _endpoint(path, method), username=user.username), \
        "the refusal was not audited"


def _endpoint(path: str, method: str) -> str:
    from flask import current_app

    return current_app.url_map.bind("localhost").match(path, method=method)[0]


def test_auditor_queries_are_filtered_paginated_masked_and_audited(files, make_user, make_grant, api):
    staff, auditor = make_user("staff"), make_user("auditor")
    grant = make_grant(staff, archive_nos=[FILE])
    s, au = api(staff), api(auditor)
    for purpose in (f"核实{ID}的户籍", "第二次核查", "第三次核查"):
        assert s.post("/api/v1/search", json={"grant_id": grant.id, "purpose": purpose,
                                              "q": PHRASE}).status_code == 200
    page1 = au.get("/api/v1/audit/records", query_string={"username": staff.username,
                                                          "action": "search", "page_size": 2}).get_json()
    assert page1["total"] == 3 and len(page1["records"]) == 2 and page1["next_page"] == 2
    page2 = au.get("/api/v1/audit/records", query_string={"username": staff.username, "action": "search",
                                                          "page_size": 2, "page": 2}).get_json()
    assert len(page2["records"]) == 1 and page2["next_page"] is None
    rows = page1["records"] + page2["records"]
    text = str(rows)
    assert ID not in text, "the audit API returned an ID number typed into a purpose"
    first = rows[-1]
    assert first["action_label"] == "检索" and first["outcome_label"] == "允许"
    assert first["role_label"] == "查询人员" and first["ts"].endswith("Z") and "UTC+8" in first["ts_local"]
    hashes = au.post("/api/v1/audit/match", json={"value": ID}).get_json()["pii"]
    by_value = au.get("/api/v1/audit/records", query_string={"pii": ",".join(hashes)}).get_json()
    assert [r["seq"] for r in by_value["records"] if r["username"] == staff.username] == [first["seq"]]
    assert audit_records("audit.view", username=auditor.username)[-1].seq == by_value["audit_seq"]
    today = first["ts_local"][:10]
    dated = au.get("/api/v1/audit/records", query_string={"username": staff.username, "since": today,
                                                          "until": today}).get_json()
    assert dated["total"] >= 3
    bad = au.get("/api/v1/audit/records", query_string={"since": "2026/01/01"})
    assert bad.status_code == 400 and "YYYY-MM-DD" in bad.get_json()["message"]
    assert au.get("/api/v1/audit/records", query_string={"page": "x"}).status_code == 400
    assert au.get("/api/v1/audit/records", query_string={"colour": "red"}).status_code == 400


def test_revoke_and_give_up(files, make_user, make_grant, api):
    staff, other, approver = make_user("staff"), make_user("staff"), make_user("approver")
    s, o, a = api(staff), api(other), api(approver)
    kept, dropped = make_grant(staff, archive_nos=[FILE]), make_grant(staff, archive_nos=[FILE])
    listed = {r["id"] for r in a.get("/api/v1/grants/active").get_json()["requests"]}
    assert {kept.id, dropped.id} <= listed
    no_reason = a.post(f"/api/v1/grants/{kept.id}/revoke", json={"confirm": True})
    assert no_reason.status_code == 400 and "理由" in no_reason.get_json()["message"]
    stray = a.post(f"/api/v1/grants/{kept.id}/revoke", json={"reason": "越权"})
    assert stray.status_code == 400 and "confirm" in stray.get_json()["message"], "revoked on one stray call"
    done = a.post(f"/api/v1/grants/{kept.id}/revoke", json={"confirm": True, "reason": "核查结束"})
    assert done.status_code == 200 and done.get_json()["status"] == "revoked"
    read = s.post("/api/v1/search", json={"grant_id": kept.id, "purpose": "核查", "q": PHRASE})
    assert read.status_code == 403 and "已被撤销" in read.get_json()["message"], \
        "a revoked grant still reads"
    assert a.post(f"/api/v1/grants/{kept.id}/revoke", json={"confirm": True, "reason": "再次"}).status_code == 409
    theirs = o.post(f"/api/v1/grant-requests/{dropped.id}/withdraw", json={"confirm": True})
    assert theirs.status_code == 404, "another user gave up someone else's grant"
    mine = s.post(f"/api/v1/grant-requests/{dropped.id}/withdraw", json={"confirm": True})
    assert mine.status_code == 200 and mine.get_json()["status"] == "revoked"
    assert dropped.id not in {r["id"] for r in a.get("/api/v1/grants/active").get_json()["requests"]}
    assert s.post("/api/v1/grants/1/revoke", json={"confirm": True, "reason": "x"}).status_code == 403


def test_auditor_anomalies_and_chain(make_user, api):
    auditor = api(make_user("auditor"))
    flags = auditor.get("/api/v1/audit/anomalies", query_string={"days": 3}).get_json()
    assert flags["days"] == 3 and all(f["label"] for f in flags["flags"])
    assert auditor.get("/api/v1/audit/anomalies", query_string={"days": 365}).status_code == 400
    report = auditor.get("/api/v1/audit/verify").get_json()
    assert report["ok"] is True and report["records"] > 0 and "哈希链完整" in report["summary"], report


def test_whoami_and_ingest_job(files, make_user, api):
    both, admin = make_user("staff,approver"), make_user("system_admin")
    client = api(both)
    me = client.get("/api/v1/me").get_json()
    assert client.get("/api/v1/openapi.json").get_json()["openapi"].startswith("3.1")
    assert [r["label"] for r in me["roles"]] == ["查询人员", "审批人"]
    assert "grants:any:approve" in me["permissions"] and "audit:log:read" not in me["permissions"]
    sysadmin = api(admin)
    from sqlalchemy import select

    from search_app.ingest.models import IngestFile
    job_id = get_session().execute(select(IngestFile.job_id).where(IngestFile.archive_no == FILE)
                                   .order_by(IngestFile.id.desc())).scalars().first()
    assert sysadmin.get(f"/api/v1/ingest/jobs/{job_id}").status_code == 200
    missing = sysadmin.get("/api/v1/ingest/jobs/99999999")
    assert missing.status_code == 404 and "不存在" in missing.get_json()["message"]


def test_every_documented_operation_was_called_and_validated(app):
    """Runs last in this module: each operation of the document was called through ApiClient
    (its response validated against its schema) above, or in the module ELSEWHERE names."""
    doc = openapi_document(app)
    called = {endpoint for endpoint, _, status in _SEEN if status < 300}
    missing = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()
               if op["operationId"] not in called and op["operationId"] not in ELSEWHERE
               and not op["operationId"].startswith(tuple(ELSEWHERE_PREFIXES))]
    assert not missing, (f"documented operations never called successfully through ApiClient: "
                         f"{missing} (add a call in tests/test_api_*.py, or name the module in ELSEWHERE)")
