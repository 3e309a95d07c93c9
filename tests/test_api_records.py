"""The issue-13 screens over /api/v1, against the real services, as their users and attackers
call them: the catalogue (system admin), the use register (records office head, auditor) and
appraisal/destruction (head proposes, two others approve, the system admin executes). Every
response goes through tests.api_check.ApiClient (validated against the OpenAPI document); each
route is refused to a role that must not use it (the failure names what was allowed) and its
audit record is checked; the last test proves every operation here was called successfully."""
from __future__ import annotations

import uuid
from urllib.parse import quote

import pytest

from search_app.db import get_session
from tests.api_check import api_fixture, assert_role_refused, openapi_document
from tests.conftest import audit_records, meta

pytestmark = pytest.mark.integration
TAG = uuid.uuid4().hex[:5].upper()
PREFIXES = ("api.catalogue_", "api.register_", "api.retention_")
_SEEN: set[tuple[str, str, int]] = set()
api = api_fixture(_SEEN)


def test_catalogue_add_rename_disable_and_rule(make_user, api):
    admin, staff, auditor = make_user("system_admin"), make_user("staff"), make_user("auditor")
    a = api(admin)
    listing = a.get("/api/v1/catalogue").get_json()
    assert set(listing["lists"]) == {"fonds", "category", "unit", "classification", "retention",
                                     "purpose"}
    assert_role_refused(api(staff), staff, "POST", "/api/v1/catalogue/unit", {"code": f"S{TAG}", "name": f"越权单位{TAG}"})
    assert_role_refused(api(auditor), auditor, "GET", "/api/v1/catalogue")
    names = {e["code"] for e in a.get("/api/v1/catalogue").get_json()["lists"]["unit"]}
    assert f"S{TAG}" not in names, "ALLOWED: a staff token added a unit to the catalogue"

    made = a.post("/api/v1/catalogue/category", json={"code": f"C{TAG}", "name": f"接口门类{TAG}"})
    assert made.status_code == 201, made.get_json()
    cat = made.get_json()
    assert cat["kind"] == "category" and cat["enabled"] and cat["code"] == f"C{TAG}"
    dup = a.post("/api/v1/catalogue/category", json={"code": f"C{TAG}", "name": "另一个名称"})
    assert dup.status_code == 400 and "已存在" in dup.get_json()["message"], dup.get_json()
    assert a.post("/api/v1/catalogue/nosuch", json={"code": "X", "name": "Y"}).status_code == 404
    typo = a.post("/api/v1/catalogue/category", json={"code": "X", "nmae": "Y"})
    assert typo.status_code == 400 and "nmae" in typo.get_json()["message"]

    renamed = a.post(f"/api/v1/catalogue/category/{cat['id']}/rename", json={"name": f"接口门类{TAG}新"})
    assert renamed.status_code == 200 and renamed.get_json()["former_names"] == [f"接口门类{TAG}"]
    rule = a.post("/api/v1/catalogue/rules", json={"category_code": f"C{TAG}", "enabled": False,
                                                   "pattern": "{全宗号}-{门类代码}·{年度}-{保管期限}-{件号}"})
    assert rule.status_code == 200 and rule.get_json()["example"], rule.get_json()
    bad_rule = a.post("/api/v1/catalogue/rules", json={"category_code": f"C{TAG}", "pattern": "{不存在}"})
    assert bad_rule.status_code == 400, bad_rule.get_json()
    off = a.post(f"/api/v1/catalogue/category/{cat['id']}/enabled", json={"enabled": False})
    assert off.status_code == 200 and off.get_json()["enabled"] is False
    again = a.post(f"/api/v1/catalogue/category/{cat['id']}/enabled", json={"enabled": False})
    assert again.status_code == 400 and "已停用" in again.get_json()["message"]
    assert a.post("/api/v1/catalogue/category/99999999/rename", json={"name": "x"}).status_code == 404

    for action in ("catalogue.add", "catalogue.rename", "catalogue.rule", "catalogue.disable"):
        recs = audit_records(action, username=admin.username, outcome="allowed")
        assert len(recs) == 1, f"{action}: {len(recs)} audit records for one change through the API"


@pytest.fixture()
def used_session(app, ingest, make_user, make_grant, api):
    """A staff member's closed reading session with one search: (staff, grant, session id)."""
    file = f"REG{TAG}-2020-0001"
    progress, _ = ingest([meta(file, pages=[[f"利用登记接口{TAG} 户籍登记页 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors
    staff = make_user("staff")
    grant = make_grant(staff)
    s = api(staff)
    sid = s.post("/api/v1/sessions", json={"grant_id": grant.id, "purpose": "利用登记接口核对"}).get_json()["id"]
    found = s.get(f"/api/v1/sessions/{sid}/search?q={quote(f'利用登记接口{TAG}')}").get_json()
    assert found["total"] >= 1, found
    s.post(f"/api/v1/sessions/{sid}/close")
    return staff, grant, sid


def test_register_entries_stats_exports_and_outcome(used_session, make_user, api):
    staff, grant, sid = used_session
    head, auditor = make_user("records_head"), make_user("auditor")
    h, au = api(head), api(auditor)
    assert_role_refused(api(staff), staff, "GET", "/api/v1/register/entries")
    entries = h.get("/api/v1/register/entries").get_json()["entries"]
    [entry] = [e for e in entries if e["session_id"] == sid]
    assert entry["username"] == staff.username and entry["approval_ref"] == grant.ref
    assert entry["searches"] == 1 and entry["final"], entry
    none = h.get("/api/v1/register/entries?month=1999-01").get_json()
    assert none["total"] == 0 and none["month"] == "1999-01", "the month filter selected nothing"
    bad = h.get("/api/v1/register/entries?month=2024%2F01")
    assert bad.status_code == 400 and "YYYY-MM" in bad.get_json()["message"]
    stats = h.get("/api/v1/register/stats").get_json()
    assert sum(stats["entries"].values()) >= 1 and set(stats["by"]) == {"unit", "category", "purpose"}
    csv = h.get("/api/v1/register/export.csv")
    assert csv.mimetype == "text/csv" and sid in csv.get_data(as_text=True)
    xlsx = h.get("/api/v1/register/export.xlsx")
    assert xlsx.data[:2] == b"PK", "the XLSX export is not a workbook"

    assert_role_refused(au, auditor, "POST", f"/api/v1/register/entries/{entry['id']}/outcome", {"outcome": "审计员写入"})
    assert au.get("/api/v1/register/entries").status_code == 200, "the auditor may read the register"
    empty = h.post(f"/api/v1/register/entries/{entry['id']}/outcome", json={"outcome": "  "})
    assert empty.status_code == 400 and "不能为空" in empty.get_json()["message"]
    assert h.post("/api/v1/register/entries/99999999/outcome", json={"outcome": "x"}).status_code == 404
    done = h.post(f"/api/v1/register/entries/{entry['id']}/outcome", json={"outcome": "已据此出具户籍证明"})
    assert done.status_code == 200 and done.get_json()["outcome"] == "已据此出具户籍证明"
    assert done.get_json()["outcome_by"] == head.username

    views = audit_records("register.view", username=head.username)
    assert [r.outcome for r in views].count("denied") == 1 and [r.outcome for r in views].count("allowed") >= 3
    assert {r.filters["format"] for r in audit_records("register.export", username=head.username)} == {"csv", "xlsx"}
    notes = audit_records("register.annotate", username=head.username)
    assert [r.outcome for r in notes] == ["denied", "denied", "allowed"], [r.outcome for r in notes]
    assert notes[-1].grant_id == grant.id and notes[-1].filters["session"] == sid
    assert not audit_records("register.annotate", username=auditor.username), \
        "ALLOWED: the auditor's annotation reached the register"


GONE = f"DAPI{TAG}-2010-D10-0001"  # 定期10年, 2010: due 2021-01-01
DENIED = f"DAPI{TAG}-2011-D10-0002"
KEPT = f"DAPI{TAG}-2012-Y-0003"  # 永久


def test_appraisal_two_approvals_execution_and_register(app, monkeypatch, ingest, make_user, api):
    progress, _ = ingest([meta(n, year=y, pages=[[f"鉴定接口{TAG} {n} 页面 内容足够长以使用文本层"]])
                          for n, y in ((GONE, 2010), (DENIED, 2011), (KEPT, 2012))])
    assert progress.files_failed == 0, progress.errors
    head1, head2, appr = make_user("records_head"), make_user("records_head"), make_user("approver")
    sysadmin, staff, auditor = make_user("system_admin"), make_user("staff"), make_user("auditor")
    h1, h2, ap, sa, st = api(head1), api(head2), api(appr), api(sysadmin), api(staff)

    assert_role_refused(st, staff, "GET", "/api/v1/retention/appraisal")
    due = {f["archive_no"]: f for f in h1.get("/api/v1/retention/appraisal").get_json()["files"]}
    assert GONE in due and DENIED in due and KEPT not in due, sorted(n for n in due if TAG in n)
    assert due[GONE]["due"] == "2021-01-01" and due[GONE]["retention"] == "D10"
    kept = h1.post("/api/v1/retention/requests", json={"archive_nos": [KEPT], "reasons": "到期"})
    assert kept.status_code == 400 and "永久保管" in kept.get_json()["message"], \
        f"ALLOWED: a permanent file proposed for destruction: {kept.get_json()}"
    assert h1.post("/api/v1/retention/requests", json={"archive_nos": [GONE]}).status_code == 400
    made = h1.post("/api/v1/retention/requests", json={"archive_nos": [GONE], "reasons": "保管期限届满"})
    assert made.status_code == 201, made.get_json()
    rid = made.get_json()["id"]
    assert made.get_json()["status"] == "pending"
    assert_role_refused(st, staff, "POST", f"/api/v1/retention/requests/{rid}/approve")

    own = h1.post(f"/api/v1/retention/requests/{rid}/approve")
    assert own.status_code == 403 and "不能审批自己" in own.get_json()["message"], \
        f"ALLOWED: the requester approved their own destruction request: {own.get_json()}"
    first = h2.post(f"/api/v1/retention/requests/{rid}/approve")
    assert first.status_code == 200 and first.get_json()["status"] == "pending_second"
    twice = h2.post(f"/api/v1/retention/requests/{rid}/approve")
    assert twice.status_code == 403 and "另一人" in twice.get_json()["message"], \
        f"ALLOWED: one person gave both approvals: {twice.get_json()}"
    early = sa.post(f"/api/v1/retention/requests/{rid}/execute")
    assert early.status_code == 409 and "两人批准" in early.get_json()["message"], \
        f"ALLOWED: execution after one approval: {early.get_json()}"
    assert_role_refused(h1, head1, "POST", f"/api/v1/retention/requests/{rid}/execute")
    second = ap.post(f"/api/v1/retention/requests/{rid}/approve")
    assert second.status_code == 200 and second.get_json()["status"] == "approved"
    assert second.get_json()["second_approver"] == appr.username
    late = h2.post(f"/api/v1/retention/requests/{rid}/deny", json={"reason": "再议"})
    assert late.status_code == 409, late.get_json()
    assert any(r["id"] == rid for r in ap.get("/api/v1/retention/requests").get_json()["requests"])
    assert sa.post("/api/v1/retention/requests/99999999/execute").status_code == 404

    celery = app.extensions["celery"]
    monkeypatch.setitem(celery.conf, "task_always_eager", True)  # the worker's task, in process
    queued = sa.post(f"/api/v1/retention/requests/{rid}/execute")
    assert queued.status_code == 202, queued.get_json()
    get_session().expire_all()
    executed = {r["id"]: r for r in sa.get("/api/v1/retention/execution").get_json()["requests"]}
    assert executed[rid]["status"] == "executed", executed[rid]
    assert_role_refused(st, staff, "GET", "/api/v1/retention/destroyed")
    register = {f["archive_no"]: f for f in api(auditor).get("/api/v1/retention/destroyed").get_json()["files"]}
    assert GONE in register and register[GONE]["requested_by"] == head1.username
    assert set(register[GONE]["approvers"]) == {head2.username, appr.username}

    other = h1.post("/api/v1/retention/requests", json={"archive_nos": [DENIED], "reasons": "到期"}).get_json()
    no_reason = h2.post(f"/api/v1/retention/requests/{other['id']}/deny", json={})
    assert no_reason.status_code == 400 and "理由" in no_reason.get_json()["message"]
    own_deny = h1.post(f"/api/v1/retention/requests/{other['id']}/deny", json={"reason": "不销毁"})
    assert own_deny.status_code == 403, own_deny.get_json()
    denied = h2.post(f"/api/v1/retention/requests/{other['id']}/deny", json={"reason": "仍有利用价值"})
    assert denied.status_code == 200 and denied.get_json()["status"] == "denied"

    assert [r.outcome for r in audit_records("retention.destruction_request", username=head1.username)] \
        == ["denied", "denied", "allowed", "allowed"]
    approvals = audit_records("retention.destruction_approve")
    mine = [r for r in approvals if r.filters.get("destruction_request") == rid]
    assert [(r.username, r.outcome) for r in mine] == [
        (head1.username, "denied"), (head2.username, "allowed"), (head2.username, "denied"),
        (appr.username, "allowed")], [(r.username, r.outcome) for r in mine]
    runs = [r for r in audit_records("retention.destruction_execute")
            if r.filters.get("destruction_request") == rid]
    assert [r.outcome for r in runs] == ["denied", "allowed"], [(r.username, r.outcome) for r in runs]
    assert audit_records("retention.appraisal_view", username=head1.username, outcome="allowed")
    assert audit_records("retention.register_view", username=auditor.username, outcome="allowed")


def test_every_operation_here_was_called_and_validated(app):
    """Runs last in this module: each catalogue, register and retention operation of the
    document answered a success through ApiClient above (its body validated)."""
    called = {endpoint for endpoint, _, status in _SEEN if status < 300}
    ops = [op["operationId"] for ops in openapi_document(app)["paths"].values() for op in ops.values()
           if op["operationId"].startswith(PREFIXES)]
    missing = sorted(set(ops) - called)
    assert ops and not missing, f"operations never called successfully here: {missing}"
