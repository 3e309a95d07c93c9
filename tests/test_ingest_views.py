"""The records manager's ingest UI: upload -> job -> progress, per-row manifest errors, OCR review.

Uploads are processed eagerly here (the Celery task runs inside the request, against the real
OpenSearch, Tesseract and SQLite); tests/test_browser_ingest.py runs the same path through a
real worker process and a browser.
"""
from __future__ import annotations

import io
import json
import uuid

import pytest
from sqlalchemy import select

from search_app import create_app
from search_app.audit.models import AuditRecord
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.demo import render_file
from search_app.ingest.models import IngestFile, PageSecret
from tests.conftest import login, meta

pytestmark = pytest.mark.integration
SUBJECT, SUBJECT_ID = "陈美玲", "110105197806201237"



@pytest.fixture()
def admin(app, make_user):
    client = app.test_client()
    user = make_user("system_admin")
    assert login(client, user.username).status_code == 302
    return client


def _png(tmp_path, archive_no: str) -> tuple[dict, bytes]:
    spec = meta(archive_no, fmt="png", subject_name=SUBJECT, subject_id=SUBJECT_ID,
                pages=[["户口登记表 上传测试", f"姓名 {SUBJECT}", "登记单位 海淀分局"]])
    data = render_file(spec, tmp_path).read_bytes()
    row = {k: v for k, v in spec.items() if k not in ("format", "pages")}
    return row, data


def _manifest(rows: list[dict], name: str = "manifest.json") -> tuple[io.BytesIO, str]:
    return io.BytesIO(json.dumps(rows, ensure_ascii=False).encode()), name


def _last_audit(action: str) -> AuditRecord:
    session = get_session()
    session.expire_all()
    return session.execute(select(AuditRecord).where(AuditRecord.action == action)
                           .order_by(AuditRecord.seq.desc())).scalars().first()


def test_upload_starts_a_job_that_finishes(admin, eager, tmp_path):
    archive_no = f"UP-{uuid.uuid4().hex[:6]}"
    row, data = _png(tmp_path, archive_no)
    resp = admin.post("/ingest/new", content_type="multipart/form-data", data={
        "manifest": _manifest([row]), "files": [(io.BytesIO(data), row["file"])]})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    job_id = int(resp.location.rstrip("/").split("/")[-1])

    progress = admin.get(f"/ingest/jobs/{job_id}/progress.json").get_json()
    assert progress["finished"] and progress["files_done"] == 1, progress
    assert progress["pages_done"] == progress["pages_total"] == 1 and progress["percent"] == 100
    (f,) = progress["files"]
    # Job pages name a file by its number and 档号; the original name is in the manifest row only.
    assert (f["name"], f["archive_no"], f["state"], f["error"]) == ("文件 1", archive_no, "done", "")
    assert f["seconds"] > 0

    page = admin.get(f"/ingest/jobs/{job_id}").get_data(as_text=True)
    assert "完成：1 个文件成功，0 个失败" in page and 'value="1" max="1"' in page
    listing = admin.get("/ingest/").get_data(as_text=True)
    assert f'id="job-{job_id}"' in listing and "100%" in listing
    for text, where in ((page, "job page"), (json.dumps(progress, ensure_ascii=False), "progress.json"),
                        (listing, "job list")):
        assert SUBJECT not in text and SUBJECT_ID not in text, \
            f"the {where} shows the encrypted manifest fields (subject name / ID) to the records manager"
    rec = _last_audit("ingest.job_started")
    assert rec.filters["job_id"] == job_id and rec.result_count == 1


def test_manifest_errors_are_shown_per_row_and_uploads_are_kept(admin, eager, tmp_path):
    a, b = f"UE-{uuid.uuid4().hex[:6]}", f"UE-{uuid.uuid4().hex[:6]}"
    row, data = _png(tmp_path, a)
    rows = [row,
            {**row, "archive_no": b, "file": "missing.png"},                  # not uploaded
            {**row, "archive_no": b + "x", "file": "../../var/local.env"},   # a path
            {k: v for k, v in row.items() if k != "category"},               # field missing
            {**row, "archive_no": b + "y", "classification": "绝密"}]
    resp = admin.post("/ingest/new", content_type="multipart/form-data", data={
        "manifest": _manifest(rows),
        "files": [(io.BytesIO(data), row["file"]), (io.BytesIO(b"x"), "extra.png"),
                  (io.BytesIO(b"x"), "notes.txt")]})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    for expected in ("第 2 行的文件“missing.png”没有上传", "第 3 行文件名“../../var/local.env”不能含路径",
                     "第 4 行缺少字段：category", "第 5 行密级“绝密”无效",
                     "文件“extra.png”已上传，但清单中没有对应的条目", "文件“notes.txt”的格式不支持"):
        assert expected in html, f"missing error: {expected}"
    assert "未开始导入" in html and row["file"] in html
    session = get_session()
    assert not session.execute(select(IngestFile).where(IngestFile.archive_no == a)).first(), \
        "a job was started despite the errors"
    batch = html.split('name="batch" value="')[1].split('"')[0]
    assert batch, "the batch id is not carried over: the uploaded scans would be lost"

    # Resubmit only a corrected manifest: the scan uploaded before is still there.
    resp = admin.post("/ingest/new", content_type="multipart/form-data", data={
        "batch": batch, "manifest": _manifest([row, {**row, "archive_no": b, "file": "extra.png"}])})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    job_id = int(resp.location.rstrip("/").split("/")[-1])
    progress = admin.get(f"/ingest/jobs/{job_id}/progress.json").get_json()
    states = {f["archive_no"]: (f["state"], f["error"]) for f in progress["files"]}
    assert states[a] == ("done", ""), states
    assert states[b][0] == "failed" and states[b][1], "a bad scan must fail alone, with its reason"
    page = admin.get(f"/ingest/jobs/{job_id}").get_data(as_text=True)
    assert states[b][1] in page and "1 个失败" in page


@pytest.mark.parametrize("files, expected", [
    ({}, "请选择清单文件"),
    ({"manifest": (io.BytesIO(b"a,b"), "m.txt")}, "请上传 CSV 或 JSON 文件"),
    ({"manifest": (io.BytesIO(b"{oops"), "m.json")}, "不是有效的 JSON"),
    ({"manifest": (io.BytesIO(b"[]"), "m.json")}, "清单中没有任何条目"),
    ({"manifest": (io.BytesIO(b"[]"), "m.json"), "files": [(io.BytesIO(b"x"), ".hidden.png")]},
     "文件名“.hidden.png”不可用"),
])
def test_upload_refusals_say_why(admin, files, expected):
    resp = admin.post("/ingest/new", content_type="multipart/form-data", data=files)
    assert resp.status_code == 400 and expected in resp.get_data(as_text=True)


def test_upload_over_the_size_limit_is_refused(settings, services, make_user):
    small = create_app({**settings, "MAX_UPLOAD_MB": 1})
    client = small.test_client()
    with small.app_context():
        user = make_user("system_admin")
    login(client, user.username)
    resp = client.post("/ingest/new", content_type="multipart/form-data", data={
        "manifest": _manifest([]), "files": [(io.BytesIO(b"0" * (2 * 1024 * 1024)), "big.png")]})
    assert resp.status_code == 413 and "文件过大" in resp.get_data(as_text=True)


def _page_secret(doc_id: str, confidence: float | None, text: str) -> None:
    from flask import current_app

    vault = vault_from_config(current_app.config)
    session = get_session()
    session.add(PageSecret(doc_id=doc_id, archive_no=doc_id.split("#")[0], page_no=1,
                           key_id=vault.current_key_id, ocr_confidence=confidence,
                           ciphertext=vault.encrypt(text.encode(), aad=doc_id.encode()),
                           source_sha256="0" * 64, pii_kinds=[]))
    session.commit()


def test_review_lists_weak_pages_without_their_text(admin, ctx):
    tag = uuid.uuid4().hex[:6]
    low, high, text_layer = f"RV-{tag}-L#p0001", f"RV-{tag}-H#p0001", f"RV-{tag}-T#p0001"
    _page_secret(low, 41.5, f"原文{tag}甲")
    _page_secret(high, 93.0, f"原文{tag}乙")
    _page_secret(text_layer, None, f"原文{tag}丙")
    html = admin.get("/ingest/review").get_data(as_text=True)
    assert f'data-doc="{low}"' in html and "41.5" in html
    assert high not in html, "a page above OCR_REVIEW_THRESHOLD is listed for review"
    assert text_layer not in html, "a text-layer page (no OCR confidence) is listed for review"
    assert f"原文{tag}" not in html, "the review list shows page text to the records manager"

    resp = admin.post("/ingest/review/mark", data={"doc_id": low})
    assert resp.status_code == 302
    rec = _last_audit("ingest.page_reviewed")
    assert rec.filters["doc_id"] == low and rec.filters["ocr_confidence"] == 41.5
    row = get_session().get(PageSecret, low)
    get_session().refresh(row)
    assert row.reviewed_at is not None and row.reviewed_by == rec.username
    assert f'data-doc="{low}"' not in admin.get("/ingest/review").get_data(as_text=True), \
        "still pending after review"
    assert f'data-doc="{low}"' in admin.get("/ingest/review?show=reviewed").get_data(as_text=True)


def test_review_mark_refusals(admin, ctx):
    assert admin.post("/ingest/review/mark", data={}).status_code == 400
    resp = admin.post("/ingest/review/mark", data={"doc_id": "NOPE#p0001"})
    assert resp.status_code == 404 and "NOPE#p0001" in resp.get_data(as_text=True)
