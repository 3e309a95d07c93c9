"""Guarantees on the ingest side (issue 9, item 6):

- a page whose processing kills its worker is not redelivered without end: after
  MAX_PAGE_ATTEMPTS claims it fails with the reason, and the file finishes;
- re-ingesting an existing 档号 with a changed unit, category, classification or subject is
  refused unless the operator confirms it, and both outcomes are audited with before/after
  (the subject masked).

The kill is real: a separate process runs the page and is SIGKILLed mid-page, as the kernel's
OOM killer or a crashing native library would, leaving the row 'running' for the redelivery.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from search_app.audit.models import AuditRecord
from search_app.config import setting_names
from search_app.db import get_session
from search_app.ingest.models import IngestFile, IngestPage, PageSecret
from tests.conftest import dump_index, login, meta

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent


def _batch(folder: Path, specs: list[dict]) -> Path:
    from search_app.demo import render_file

    folder.mkdir(parents=True, exist_ok=True)
    for spec in specs:
        render_file(spec, folder)
    rows = [{k: v for k, v in s.items() if k not in ("format", "pages", "traditional", "noise")}
            for s in specs]
    (folder / "manifest.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    return folder / "manifest.json"


def _page(page_id: int) -> IngestPage:
    session = get_session()
    session.expire_all()
    return session.get(IngestPage, page_id)


def _run_and_kill(settings: dict, page_id: int, attempt: int, log: Path) -> None:
    """Run the page in its own process and SIGKILL it once it has claimed the row."""
    env = {**os.environ, **{k: str(v) for k, v in settings.items() if k in setting_names()},
           "OMP_THREAD_LIMIT": "1"}
    code = ("from search_app import create_app\n"
            "app = create_app()\n"
            "with app.app_context():\n"
            "    from search_app.ingest.pagework import run_page\n"
            f"    run_page({page_id})\n")
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not ((p := _page(page_id)).state == "running" and p.attempts == attempt):
            assert proc.poll() is None, f"the page process ended on its own: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, "the page was not claimed within 90 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def test_page_that_kills_its_worker_fails_after_max_attempts(app, ctx, settings, tmp_path):
    from indexer.manifest import parse_manifest
    from search_app.ingest import pagework
    from search_app.ingest.service import create_job, run_file

    limit = app.config["MAX_PAGE_ATTEMPTS"]
    manifest = _batch(tmp_path / "crash", [meta(
        "IG-CRASH-01", fmt="pdf_image",
        pages=[["正常的第一页 登记单位 海淀分局"], ["每次处理都让进程崩溃的第二页", "登记单位 海淀分局"]])])
    session = get_session()
    job = create_job(session, source=str(manifest), created_by="test",
                     rows=parse_manifest(manifest), base_dir=manifest.parent)
    session.commit()
    [f] = job.files
    run_file(f.id, dispatch=lambda _ids: None)  # the file phase; pages are "queued to a worker"
    first, crashing = sorted(session.get(IngestFile, f.id).pages, key=lambda p: p.page_no)
    pagework.run_page(first.id)
    for attempt in range(1, limit + 1):  # each delivery of the page's message kills its worker
        _run_and_kill(settings, crashing.id, attempt, tmp_path / f"attempt{attempt}.log")
    assert _page(crashing.id).state == "running", "a killed attempt leaves the row 'running'"
    pagework.run_page(crashing.id)  # the next redelivery
    page = _page(crashing.id)
    assert page.state == "failed", \
        f"REDELIVERED: page claimed {page.attempts} times was processed again (state {page.state})"
    assert f"第 {limit} 次尝试仍未完成，可能导致处理进程崩溃" in page.error, page.error
    assert page.attempts == limit + 1
    assert session.get(PageSecret, "IG-CRASH-01#p0002") is None, "the crashing page was run again"
    session.expire_all()
    done = session.get(IngestFile, f.id)
    assert done.state == "failed" and done.pages_done == 1, (done.state, done.error)
    assert "第 2 页" in done.error and "可能导致处理进程崩溃" in done.error, done.error


def _reingest_records(archive_no: str) -> list[AuditRecord]:
    session = get_session()
    session.expire_all()
    return [r for r in session.execute(select(AuditRecord).where(
        AuditRecord.action == "ingest.metadata_change").order_by(AuditRecord.seq)).scalars()
            if r.filters.get("archive_no") == archive_no]


def test_changed_classification_and_subject_need_explicit_confirmation(app, ingest):
    base = meta("IG-META-01", classification="内部", subject_name="王小明",
                subject_id="440305198706120415", pages=[["著录信息守护测试 文本层内容足够长足够长"]])
    assert ingest([base])[0].files_done == 1
    changed = base | {"classification": "公开", "subject_name": "李大华"}
    progress, _ = ingest([changed])
    assert progress.files_done == 0, \
        "ALLOWED: re-ingest silently replaced the classification and subject of IG-META-01"
    [(_, error)] = progress.errors
    assert "密级（内部 → 公开）" in error and "当事人（" in error and "--confirm-metadata-change" in error, error
    assert "王小明" not in error and "李大华" not in error, f"LEAK: unmasked subject in {error!r}"
    [doc] = [d for d in dump_index(app) if d["archive_no"] == "IG-META-01"]
    assert doc["classification"] == "内部", "the refused row still reached the index"
    [refused] = _reingest_records("IG-META-01")
    assert refused.outcome == "denied" and refused.filters["changes"]["classification"] == ["内部", "公开"]

    progress, _ = ingest([changed], confirm_metadata_change=True)
    assert progress.files_done == 1, progress.errors
    [doc] = [d for d in dump_index(app) if d["archive_no"] == "IG-META-01"]
    assert doc["classification"] == "公开"
    _, confirmed = _reingest_records("IG-META-01")
    changes = confirmed.filters["changes"]
    assert confirmed.outcome == "allowed" and changes["classification"] == ["内部", "公开"], changes
    before, after = changes["subject_name"]
    assert before.startswith("王") and after.startswith("李") and "*" in before + after, changes
    assert "王小明" not in str(confirmed.filters) + confirmed.reason, "LEAK: subject unmasked in audit"
    assert set(changes) == {"classification", "subject_name"}, "unchanged fields listed as changed"


def test_cli_refuses_a_changed_unit_without_the_flag(app, ctx, tmp_path):
    base = meta("IG-META-02", unit="北京市公安局海淀分局", pages=[["命令行著录守护 文本层内容足够长足够长足够"]])
    runner = app.test_cli_runner()
    first = runner.invoke(args=["ingest", str(_batch(tmp_path / "a", [base]))])
    assert first.exit_code == 0, first.output
    moved = _batch(tmp_path / "b", [base | {"unit": "北京市公安局朝阳分局"}])
    refused = runner.invoke(args=["ingest", str(moved)])
    assert refused.exit_code != 0, f"ALLOWED: the unit changed without confirmation\n{refused.output}"
    assert "单位（北京市公安局海淀分局 → 北京市公安局朝阳分局）" in refused.output, refused.output
    confirmed = runner.invoke(args=["ingest", str(moved), "--confirm-metadata-change"])
    assert confirmed.exit_code == 0, confirmed.output
    assert _reingest_records("IG-META-02")[-1].filters["changes"] == {
        "unit": ["北京市公安局海淀分局", "北京市公安局朝阳分局"]}



def test_upload_form_needs_the_confirmation_checkbox(app, ctx, make_user, eager, tmp_path):
    import io

    from search_app.demo import render_file

    client = app.test_client()
    assert login(client, make_user("system_admin").username).status_code == 302
    spec = meta("IG-META-03", fmt="png", classification="秘密", pages=[["上传表单著录守护", "海淀分局"]])
    data = render_file(spec, tmp_path).read_bytes()
    row = {k: v for k, v in spec.items() if k not in ("format", "pages")}

    def upload(row: dict, **extra) -> dict:
        resp = client.post("/ingest/new", content_type="multipart/form-data", data={
            "manifest": (io.BytesIO(json.dumps([row], ensure_ascii=False).encode()), "m.json"),
            "files": [(io.BytesIO(data), row["file"])], **extra})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
        job_id = int(resp.location.rstrip("/").split("/")[-1])
        [f] = client.get(f"/ingest/jobs/{job_id}/progress.json").get_json()["files"]
        return f

    assert upload(row)["state"] == "done"
    lowered = upload({**row, "classification": "内部"})
    assert lowered["state"] == "failed", "ALLOWED: an upload lowered 秘密 to 内部 without confirmation"
    assert "密级（秘密 → 内部）" in lowered["error"] and "确认修改著录信息" in lowered["error"]
    confirmed = upload({**row, "classification": "内部"}, confirm_metadata_change="on")
    assert confirmed["state"] == "done", confirmed
    record = _reingest_records("IG-META-03")[-1]
    assert record.outcome == "allowed" and record.filters["changes"] == {"classification": ["秘密", "内部"]}
