"""The rest of what the web UI does, over /api/v1, against the real services: the caller's open
reading sessions, exact look-up and the results CSV inside a session, and for auditors one
person's activity and the CSV export of the log. Each response is validated against the OpenAPI
document (ApiClient); each route is refused to a user or role that must not use it, naming
what was allowed; the audit records are checked; the last test proves every operation here was
called successfully."""
from __future__ import annotations

import uuid

import pytest

from tests.api_check import api_fixture, openapi_document
from tests.conftest import audit_records, meta

pytestmark = pytest.mark.integration
TAG = uuid.uuid4().hex[:6]
FILE = f"SR-{TAG}-2020-0001"
PHRASE = f"会话读取接口{TAG}"
ID = "110105198207150436"  # valid GB 11643 check digit, used by no other test
OPS = ("api_reading.sessions", "api_reading.lookup", "api_reading.export_csv", "api.audit_user",
       "api.audit_export", "api.ingest_jobs", "api.ingest_review", "api.ingest_mark_reviewed")
_SEEN: set[tuple[str, str, int]] = set()
api = api_fixture(_SEEN)


@pytest.fixture()
def corpus(ingest):
    progress, _ = ingest([meta(FILE, pages=[[f"{PHRASE} 户籍登记 公民身份号码 {ID} 内容足够长"]])])
    assert progress.files_failed == 0, progress.errors


def _open(client: ApiClient, grant) -> str:
    resp = client.post("/api/v1/sessions", json={"grant_id": grant.id, "purpose": "会话读取接口核对"})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["id"]


def test_sessions_lookup_and_results_csv(corpus, make_user, make_grant, api):
    staff, other, auditor = make_user("staff"), make_user("staff"), make_user("auditor")
    lookup_grant = make_grant(staff, allow_lookup=True, unmask_fields=("id_number",))
    plain_grant = make_grant(other)
    s, o = api(staff), api(other)
    sid = _open(s, lookup_grant)
    listed = s.get("/api/v1/sessions").get_json()["sessions"]
    assert [x["id"] for x in listed] == [sid], listed
    assert o.get("/api/v1/sessions").get_json()["sessions"] == [], "another user's sessions are listed"

    found = s.post(f"/api/v1/sessions/{sid}/lookup", json={"kind": "id_number", "value": ID})
    assert found.status_code == 200, found.get_json()
    assert [h["id"] for h in found.get_json()["hits"]] == [f"{FILE}#p0001"]
    assert ID not in str(found.get_json()), "the look-up answer carries the ID number in clear"
    bad = s.post(f"/api/v1/sessions/{sid}/lookup", json={"kind": "id_number", "value": ID[:-1] + "7"})
    assert bad.status_code == 400 and "校验" in bad.get_json()["message"], bad.get_json()
    stolen = o.post(f"/api/v1/sessions/{sid}/lookup", json={"kind": "id_number", "value": ID})
    assert stolen.status_code == 403, f"ALLOWED: another user looked up in the session: {stolen.get_json()}"
    osid = _open(o, plain_grant)
    no_right = o.post(f"/api/v1/sessions/{osid}/lookup", json={"kind": "id_number", "value": ID})
    assert no_right.status_code == 403 and "精确查找" in no_right.get_json()["message"], \
        f"ALLOWED: a look-up under a grant without it: {no_right.get_json()}"
    au = api(auditor)
    role = au.post(f"/api/v1/sessions/{sid}/lookup", json={"kind": "id_number", "value": ID})
    assert role.status_code == 403 and "没有此项权限" in role.get_json()["message"]

    csv = s.post(f"/api/v1/sessions/{sid}/export.csv", json={"q": PHRASE})
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    text = csv.get_data(as_text=True)
    assert FILE in text and lookup_grant.ref in text and ID not in text, text[:300]
    syntax = s.post(f"/api/v1/sessions/{sid}/export.csv", json={"q": '"未闭合'})
    assert syntax.status_code == 400
    taken = o.post(f"/api/v1/sessions/{sid}/export.csv", json={"q": PHRASE})
    assert taken.status_code == 403, f"ALLOWED: another user exported from the session: {taken.status_code}"

    [look] = audit_records("pii.lookup", user_id=staff.id, outcome="allowed")
    assert look.filters["reading_session"] == sid and ID not in str(look.filters)
    [export] = audit_records("export", user_id=staff.id, outcome="allowed")
    assert export.filters["reading_session"] == sid and export.returned_ids == [f"{FILE}#p0001"]
    assert str(export.seq) == csv.headers["X-Audit-Seq"]
    assert audit_records("pii.lookup", user_id=other.id, outcome="denied"), "the refusals were not audited"
    assert audit_records("route:api_reading.lookup", username=auditor.username, outcome="denied")


def test_auditor_user_activity_and_log_export(corpus, make_user, make_grant, api):
    staff, auditor = make_user("staff"), make_user("auditor")
    s, au = api(staff), api(auditor)
    sid = _open(s, make_grant(staff))
    assert s.get(f"/api/v1/sessions/{sid}/search?q={PHRASE}").get_json()["total"] >= 1

    refused = s.get(f"/api/v1/audit/users/{staff.username}")
    assert refused.status_code == 403, f"ALLOWED: staff read an activity page: {refused.status_code}"
    activity = au.get(f"/api/v1/audit/users/{staff.username}").get_json()
    assert activity["username"] == staff.username and activity["display_name"] == staff.display_name
    assert {r["action"] for r in activity["records"]} >= {"reading.open", "search"}
    assert {(c["action"], c["outcome"]) for c in activity["summary"]} >= {("search", "allowed")}
    assert all(r["username"] == staff.username for r in activity["records"])
    narrowed = au.get(f"/api/v1/audit/users/{staff.username}?action=search").get_json()
    assert [r["action"] for r in narrowed["records"]] == ["search"]
    bad = au.get(f"/api/v1/audit/users/{staff.username}?since=2024-13-01")
    assert bad.status_code == 400

    csv = au.get(f"/api/v1/audit/export.csv?username={staff.username}")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert staff.username in csv.get_data(as_text=True) and sid in csv.get_data(as_text=True)
    assert s.get("/api/v1/audit/export.csv").status_code == 403, "ALLOWED: staff exported the audit log"
    assert au.get("/api/v1/audit/export.csv?since=x").status_code == 400

    views = audit_records("audit.user_view", username=auditor.username)
    assert [r.outcome for r in views] == ["allowed", "allowed", "denied"], [r.outcome for r in views]
    exports = audit_records("audit.export", username=auditor.username)
    assert [r.outcome for r in exports] == ["allowed", "denied"], [r.outcome for r in exports]
    assert exports[0].result_count >= 2
    assert audit_records("route:api.audit_user", username=staff.username, outcome="denied")


def test_ingest_jobs_review_list_and_mark_reviewed(app, ingest, make_user, api, monkeypatch):
    monkeypatch.setitem(app.config, "OCR_REVIEW_THRESHOLD", 101)  # every OCR page needs review
    scan = f"SRI-{TAG}-2020-0001"
    progress, job_id = ingest([meta(scan, fmt="png", pages=[["扫描复核接口 户口登记 本页为扫描件"]])])
    assert progress.files_failed == 0, progress.errors
    doc_id = f"{scan}#p0001"
    admin, staff = make_user("system_admin"), make_user("staff")
    a = api(admin)
    assert api(staff).get("/api/v1/ingest/review").status_code == 403, "ALLOWED: staff read the review list"
    jobs = a.get("/api/v1/ingest/jobs").get_json()["jobs"]
    [mine] = [j for j in jobs if j["id"] == job_id]
    assert mine["files"] == 1 and mine["done"] == 1 and mine["finished"], mine
    pending = a.get("/api/v1/ingest/review").get_json()
    assert doc_id in [p["doc_id"] for p in pending["pages"]] and pending["threshold"] == 101
    assert "text" not in str(pending["pages"][0].keys()), "the review list carries page text"
    staff_mark = api(staff).post("/api/v1/ingest/review/mark", json={"doc_id": doc_id})
    assert staff_mark.status_code == 403, f"ALLOWED: staff marked {doc_id} reviewed"
    done = a.post("/api/v1/ingest/review/mark", json={"doc_id": doc_id}).get_json()
    assert done["marked"] is True
    assert a.post("/api/v1/ingest/review/mark", json={"doc_id": doc_id}).get_json()["marked"] is False
    assert a.post("/api/v1/ingest/review/mark", json={"doc_id": "NOPE#p0001"}).status_code == 404
    assert a.post("/api/v1/ingest/review/mark", json={"doc_id": " "}).status_code == 400
    reviewed = a.get("/api/v1/ingest/review?show=reviewed").get_json()["pages"]
    assert any(p["doc_id"] == doc_id and p["reviewed_by"] == admin.username for p in reviewed)
    [rec] = audit_records("ingest.page_reviewed", username=admin.username)
    assert rec.filters["doc_id"] == doc_id and rec.outcome == "allowed"
    assert audit_records("route:api.ingest_mark_reviewed", username=staff.username, outcome="denied")


def test_every_operation_here_was_called_and_validated(app):
    called = {endpoint for endpoint, _, status in _SEEN if status < 300}
    documented = {op["operationId"] for ops in openapi_document(app)["paths"].values() for op in ops.values()}
    assert set(OPS) <= documented, sorted(set(OPS) - documented)
    missing = sorted(set(OPS) - called)
    assert not missing, f"operations never called successfully here: {missing}"
