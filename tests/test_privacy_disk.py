"""Guarantee (issue 8, requirement 5): no uploaded scan, manifest or demo scan sits on disk in
plaintext. Uploads are encrypted on receipt (a batch that fails its check keeps its files, but
only encrypted), deleted once their encrypted blob and page rows are stored (failed files too),
abandoned batches are swept, folders are 0700 and files 0600 whatever the umask, and a scan's
original file name appears neither in the batch folder nor on the job pages."""
from __future__ import annotations

import io
import json
import os
import shutil
import stat
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from indexer.types import IngestError
from search_app import demo
from search_app.demo import render_file
from search_app.ingest import uploads
from search_app.ingest.models import IngestFile, PageSecret
from tests.conftest import login, meta
from tests.privacy_data import id_number

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parent.parent
SUBJECT = "欧阳志远"
SUBJECT_ID = id_number("320102", "19750418", "532")
SCAN_NAME = f"{SUBJECT}户口登记表.png"



@pytest.fixture()
def admin(app, ctx, make_user):
    client = app.test_client()
    assert login(client, make_user("system_admin").username).status_code == 302
    return client


@pytest.fixture()
def wide_umask():
    """The app must not rely on the umask: run with a permissive one."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _scan(tmp_path: Path, archive_no: str) -> tuple[dict, bytes]:
    spec = meta(archive_no, fmt="png", subject_name=SUBJECT, subject_id=SUBJECT_ID,
                pages=[["户口登记表 磁盘测试", f"姓名 {SUBJECT}", f"公民身份号码 {SUBJECT_ID}"]])
    data = render_file(spec, tmp_path).read_bytes()
    row = {k: v for k, v in spec.items() if k not in ("format", "pages")}
    return {**row, "file": SCAN_NAME}, data


def _manifest(rows: list[dict]) -> tuple[io.BytesIO, str]:
    return io.BytesIO(json.dumps(rows, ensure_ascii=False).encode()), "manifest.json"


def _leaks_on_disk(folder: Path, scan: bytes) -> list[str]:
    """Everything in `folder` an attacker with a copy of the disk could read."""
    found = []
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            found.append(f"{path.name}: mode {oct(mode)} (want {oct(want)})")
        if SUBJECT in path.name or "户口登记表" in path.name:
            found.append(f"the original file name in a path: {path.name}")
        if path.is_file():
            body = path.read_bytes()
            for what, needle in (("subject name", SUBJECT.encode()), ("ID number", SUBJECT_ID.encode()),
                                 ("scan bytes", scan[:64]), ("PNG header", b"\x89PNG")):
                if needle in body:
                    found.append(f"{what} in plaintext in {path.name}")
    return found


def _batch_of(html: str) -> str:
    return html.split('name="batch" value="')[1].split('"')[0]


def test_a_kept_batch_is_encrypted_and_a_started_one_is_removed(app, admin, eager, tmp_path,
                                                                wide_umask):
    archive_no = f"DK-{uuid.uuid4().hex[:6]}"
    row, data = _scan(tmp_path, archive_no)
    # First submission fails its check (an unlisted extra scan): the batch is kept for a resubmit.
    resp = admin.post("/ingest/new", content_type="multipart/form-data", data={
        "manifest": _manifest([row]),
        "files": [(io.BytesIO(data), SCAN_NAME), (io.BytesIO(data), "extra.png")]})
    assert resp.status_code == 400
    batch_id = _batch_of(resp.get_data(as_text=True))
    root = Path(app.config["INGEST_UPLOAD_DIR"]).resolve()
    batch = root / batch_id
    leaks = _leaks_on_disk(batch, data) + [f"upload root mode {oct(stat.S_IMODE(root.stat().st_mode))}"
                                           for _ in [0] if stat.S_IMODE(root.stat().st_mode) != 0o700]
    assert not leaks, f"LEAKED on disk in a kept batch: {leaks}"

    # Resubmit with the extra scan listed too: the job starts and both uploads are consumed.
    extra = {**row, "archive_no": archive_no + "b", "file": "extra.png"}
    resp = admin.post("/ingest/new", content_type="multipart/form-data",
                      data={"batch": batch_id, "manifest": _manifest([row, extra])})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    job_id = int(resp.location.rstrip("/").split("/")[-1])
    progress = admin.get(f"/ingest/jobs/{job_id}/progress.json").get_json()
    assert progress["finished"] and progress["files_done"] == 2, progress
    assert not batch.exists(), \
        f"LEFT ON DISK after ingest: {sorted(p.name for p in batch.iterdir())}"
    page = admin.get(f"/ingest/jobs/{job_id}").get_data(as_text=True)
    api = json.dumps(progress, ensure_ascii=False)
    for where, text in (("job page", page), ("progress.json", api)):
        assert SCAN_NAME not in text and SUBJECT not in text, \
            f"LEAKED the original file name {SCAN_NAME} on the {where}"
    from search_app.db import get_session
    paths = get_session().execute(select(IngestFile.path).where(
        IngestFile.archive_no == archive_no)).scalars().all()
    assert paths and all(SUBJECT not in p for p in paths), f"LEAKED the file name into ingest_files.path: {paths}"
    assert get_session().get(PageSecret, f"{archive_no}#p0001") is not None, "the page was not ingested"


def test_a_failed_file_is_removed_with_its_batch(app, admin, eager, tmp_path):
    archive_no = f"DF-{uuid.uuid4().hex[:6]}"
    row, _ = _scan(tmp_path, archive_no)
    resp = admin.post("/ingest/new", content_type="multipart/form-data", data={
        "manifest": _manifest([row]), "files": [(io.BytesIO(b"\x89PNG not really"), SCAN_NAME)]})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    job_id = int(resp.location.rstrip("/").split("/")[-1])
    progress = admin.get(f"/ingest/jobs/{job_id}/progress.json").get_json()
    assert progress["files_failed"] == 1 and progress["files"][0]["error"], progress
    root = Path(app.config["INGEST_UPLOAD_DIR"]).resolve()
    from search_app.db import get_session
    [path] = get_session().execute(select(IngestFile.path).where(
        IngestFile.archive_no == archive_no)).scalars().all()
    assert not Path(path).parent.exists(), "LEFT ON DISK: the batch of a failed file"
    assert root.exists()


def test_a_row_cannot_read_a_scan_of_another_batch(ctx, tmp_path):
    mine, theirs = uploads.new_batch(tmp_path / "up", 1), uploads.new_batch(tmp_path / "up", 2)

    class Upload:
        filename = "a.png"
        stream = io.BytesIO(b"secret scan of batch two")
    assert uploads.store_scans(theirs, [Upload()], 1 << 20) == []  # type: ignore[list-item]
    # Someone with file access copies the other batch's scan to where this batch's row points.
    shutil.copy(uploads.scan_path(theirs, "a.png"), uploads.scan_path(mine, "a.png"))
    with pytest.raises(IngestError, match="不属于本批次"):
        uploads.read_scan(uploads.scan_path(mine, "a.png"))
    assert uploads.read_scan(uploads.scan_path(theirs, "a.png")) == b"secret scan of batch two"


def test_an_abandoned_batch_is_swept_on_the_next_visit(app, admin, tmp_path):
    row, data = _scan(tmp_path, f"DA-{uuid.uuid4().hex[:6]}")
    resp = admin.post("/ingest/new", content_type="multipart/form-data", data={
        "manifest": _manifest([{**row, "file": "other.png"}]), "files": [(io.BytesIO(data), SCAN_NAME)]})
    assert resp.status_code == 400
    batch = Path(app.config["INGEST_UPLOAD_DIR"]).resolve() / _batch_of(resp.get_data(as_text=True))
    assert batch.is_dir()
    admin.get("/ingest/new")
    assert batch.is_dir(), "a fresh batch was swept: the user could not resubmit"
    old = batch.stat().st_mtime - (app.config["INGEST_BATCH_TTL_HOURS"] + 1) * 3600
    os.utime(batch, (old, old))
    admin.get("/ingest/new")
    assert not batch.exists(), "LEFT ON DISK: an abandoned batch older than INGEST_BATCH_TTL_HOURS"


def test_demo_scans_are_not_left_in_plaintext(app, ctx, tmp_path, monkeypatch):
    spec = {**meta(f"DM-{uuid.uuid4().hex[:6]}", subject_name=SUBJECT, subject_id=SUBJECT_ID,
                   pages=[[f"演示页面 当事人 {SUBJECT} 身份证 {SUBJECT_ID} 内容足够长以使用文本层"]])}
    corpus = tmp_path / "corpus.json"
    corpus.write_text(json.dumps({"users": [], "grants": [], "files": [spec]}, ensure_ascii=False),
                      "utf-8")
    monkeypatch.setattr(demo, "CORPUS", corpus)
    monkeypatch.setattr(demo, "ROOT", tmp_path)
    monkeypatch.setitem(app.config, "DEMO_MODE", True)  # setup_demo refuses outside a demo
    demo.setup_demo(queue=False, echo=lambda _line: None)
    from search_app.db import get_session
    assert get_session().get(PageSecret, f"{spec['archive_no']}#p0001") is not None
    left = sorted(p.name for p in (tmp_path / "var").rglob("*")) if (tmp_path / "var").exists() else []
    assert not left, f"LEFT ON DISK in plaintext after the demo set-up: {left}"


@pytest.mark.parametrize("script", ["setup.sh", "dev.sh", "services.sh", "test.sh"])
def test_scripts_create_files_owner_only(script):
    lines = [line.split("#")[0].strip() for line in (ROOT / "scripts" / script).read_text().splitlines()]
    assert "umask 077" in lines, f"scripts/{script} does not set umask 077: var/ files would be 0644"


def test_blobs_are_owner_only_under_a_permissive_umask(ctx, tmp_path):
    """docker-compose runs gunicorn and Celery without the scripts' `umask 077`: the blob store
    (originals, page images, and the copies key rotation writes) sets 0700/0600 itself. Before,
    under umask 022 every folder was 0755 and every blob 0644."""
    from search_app.blobs import BlobStore, write_owner_only
    from search_app.crypto import vault_from_config

    store = BlobStore(tmp_path / "blobs", vault_from_config(ctx.config))
    old = os.umask(0o022)
    try:
        original = store.put("ab" * 32, b"scan bytes", owner="PD-UMASK-0001")
        image = store.page_image_path("PD-UMASK-0001#p0001",
                                      store.put_page_image("PD-UMASK-0001#p0001", b"png bytes"))
        rotated = original.with_name(original.name + ".rotating")
        write_owner_only(rotated, b"re-encrypted")
    finally:
        os.umask(old)
    loose = [f"{p.relative_to(tmp_path)} {stat.S_IMODE(p.stat().st_mode):o}"
             for p in [tmp_path / "blobs", *(tmp_path / "blobs").rglob("*")]
             if stat.S_IMODE(p.stat().st_mode) & 0o077]
    assert not loose, f"blob store readable by others under umask 022: {loose}"
    assert original.exists() and image.exists() and rotated.exists()
