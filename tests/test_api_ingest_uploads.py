"""POST /api/v1/ingest/uploads: starting an ingest job by upload over the API, through the upload
form's own service (search_app.ingest.submit), against the real services (the Celery task runs
eagerly inside the request, on the real OpenSearch, Tesseract and database). Proven as an
attacker tries it: a manifest row naming a path, another user's batch id, a JSON body instead
of an upload, a role without ingest rights; and that what a failed check keeps is encrypted
(no scan bytes, no file name, no subject name in the batch folder)."""
from __future__ import annotations

import io
import json
import uuid
from pathlib import Path

import pytest

from search_app.demo import render_file
from tests.api_check import api_fixture, assert_role_refused
from tests.conftest import audit_records, meta

pytestmark = pytest.mark.integration
SUBJECT, SUBJECT_ID = "欧阳秀兰", "110105197806201237"
_SEEN: set[tuple[str, str, int]] = set()
api = api_fixture(_SEEN)



def _scan(tmp_path, archive_no: str) -> tuple[dict, bytes]:
    spec = meta(archive_no, fmt="png", subject_name=SUBJECT, subject_id=SUBJECT_ID,
                pages=[["户口登记表 接口上传测试", f"姓名 {SUBJECT}", "登记单位 海淀分局"]])
    data = render_file(spec, tmp_path).read_bytes()
    return {k: v for k, v in spec.items() if k not in ("format", "pages")}, data


def _manifest(rows: list[dict]) -> tuple[io.BytesIO, str]:
    return io.BytesIO(json.dumps(rows, ensure_ascii=False).encode()), "manifest.json"


def _upload(client, **data):
    return client.post("/api/v1/ingest/uploads", content_type="multipart/form-data", data=data)


def test_upload_starts_a_job_whose_progress_the_link_gives(make_user, api, eager, tmp_path):
    admin = make_user("system_admin")
    a = api(admin)
    archive_no = f"APIUP-{uuid.uuid4().hex[:6]}"
    row, data = _scan(tmp_path, archive_no)
    resp = _upload(a, manifest=_manifest([row]), files=[(io.BytesIO(data), row["file"])])
    assert resp.status_code == 202, resp.get_json()
    out = resp.get_json()
    assert out["progress"] == f"/api/v1/ingest/jobs/{out['job_id']}" and out["files"] == 1
    job = a.get(out["progress"]).get_json()
    assert job["finished"] and job["files_done"] == 1 and job["files"][0]["archive_no"] == archive_no, job
    started = [r for r in audit_records("ingest.job_started", username=admin.username, outcome="allowed")
               if r.filters.get("job_id") == out["job_id"]]
    assert len(started) == 1 and started[0].filters["batch"] == out["batch"]
    assert not (Path(a.app.config["INGEST_UPLOAD_DIR"]) / out["batch"]).exists(), \
        "the batch folder outlived its last scan"


def test_a_failed_check_keeps_the_batch_encrypted_and_a_resubmission_starts_it(
        make_user, api, eager, tmp_path):
    admin = make_user("system_admin")
    a = api(admin)
    good, other = f"APIUE-{uuid.uuid4().hex[:6]}", f"APIUE-{uuid.uuid4().hex[:6]}"
    row, data = _scan(tmp_path, good)
    rows = [row, {**row, "archive_no": other, "file": "../../var/local.env"},
            {**row, "archive_no": other + "m", "file": "missing.png"}]
    resp = _upload(a, manifest=_manifest(rows), files=[(io.BytesIO(data), row["file"])])
    body = resp.get_json()
    assert resp.status_code == 400, body
    assert "第 2 行文件名“../../var/local.env”不能含路径" in body["message"], \
        f"ALLOWED: a manifest row naming a path was not refused: {body}"
    assert any("missing.png" in e for e in body["row_errors"]) and body["kept"] == [row["file"]]
    batch = Path(a.app.config["INGEST_UPLOAD_DIR"]) / body["batch"]
    stored = b"".join(p.read_bytes() for p in batch.iterdir())
    for plain, what in ((data[:64], "the scan"), (row["file"].encode(), "the file name"),
                        (SUBJECT.encode(), "the subject's name"), (SUBJECT_ID.encode(), "the ID number")):
        assert plain not in stored, f"LEAK: {what} is stored in plaintext in the upload batch"
    assert not [r for r in audit_records("ingest.job_started", username=admin.username)
                if r.filters.get("batch") == body["batch"]], "a job was started despite the errors"

    thief = api(make_user("system_admin"))
    stolen = _upload(thief, batch=body["batch"], manifest=_manifest([row]))
    assert stolen.status_code == 400 and row["file"] not in stolen.get_json()["kept"], \
        f"ALLOWED: another user's batch was reused: {stolen.get_json()}"

    again = _upload(a, batch=body["batch"], confirm_metadata_change="false", manifest=_manifest([row]))
    assert again.status_code == 202, again.get_json()
    job = a.get(again.get_json()["progress"]).get_json()
    assert job["finished"] and job["files_done"] == 1, job


def test_bad_requests_and_other_roles_are_refused(make_user, api):
    a = api(make_user("system_admin"))
    as_json = a.post("/api/v1/ingest/uploads", json={"manifest": "x"})
    assert as_json.status_code == 400 and "multipart/form-data" in as_json.get_json()["message"]
    typo = _upload(a, bacth="x", manifest=_manifest([]))
    assert typo.status_code == 400 and "bacth" in typo.get_json()["message"]
    empty = _upload(a)
    assert empty.status_code == 400 and "请选择清单文件" in empty.get_json()["message"]
    for role in ("staff", "approver", "auditor", "security_admin", "records_head"):
        who = make_user(role)
        assert_role_refused(api(who), who, "POST", "/api/v1/ingest/uploads")
