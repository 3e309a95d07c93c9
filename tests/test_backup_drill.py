"""Restore drill against the real services (DESIGN: 定期测试数据恢复能力): ingest, record what
readers see, `flask backup`, lose the index, the database and the blob store, `flask restore`,
and the same reads give the same answers, every page decrypts, the audit chain verifies and the
next read is appended to the same chain. A tampered backup is refused, naming the file.

The drill runs on an app of its own (own database, alias, checkpoint index, blob store), so
wiping it touches nothing another test uses."""
from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select, text

from search_app import create_app
from search_app.accounts.services import create_user
from search_app.audit.models import AuditRecord
from search_app.audit.service import verify_chain
from search_app.blobs import BlobStore
from search_app.crypto import vault_from_config
from search_app.db import get_session
from search_app.grants.services import Scope, create_grant
from search_app.ingest.models import PageSecret
from search_app.search import search_pages, read_page_image, unmask_page
from search_app.search._backend import make_client
from tests.conftest import PASSWORD, meta, own_deployment

pytestmark = pytest.mark.integration

PREFIX = "BKD-"
QUERIES = ["备份演练", "户籍 登记", '"联系电话"']
SPECS = [
    meta(f"{PREFIX}0001", pages=[["备份演练 户籍登记页面 张建国 联系电话 13812345678 文本层足够长"],
                                  ["备份演练 第二页 住址 北京市海淀区中关村大街27号 文本层足够长"]]),
    meta(f"{PREFIX}0002", fmt="png", pages=[["备份演练 扫描页面 户籍 登记 内容 身份证 110105199003071234"]]),
]


@pytest.fixture()
def drill(settings, services, tmp_path):
    """(app, folder) of a deployment of its own; its index and checkpoint index are removed after."""
    with own_deployment(settings, tmp_path) as app:
        yield app, tmp_path


def _ingest(app, folder: Path) -> None:
    from search_app.demo import render_file
    from search_app.ingest.jobs import start_job, wait_for_job

    batch = folder / "batch"
    batch.mkdir()
    rows = []
    for spec in SPECS:
        render_file(spec, batch)
        rows.append({k: v for k, v in spec.items() if k not in ("format", "pages", "traditional", "noise")})
    (batch / "manifest.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    with app.app_context():
        job = start_job(batch / "manifest.json", base_dir=batch, created_by="drill", queue=False)
        progress = wait_for_job(job.id, echo=lambda _l: None, timeout=300, poll=0.3)
    assert progress.files_failed == 0, progress.errors


def _people(app) -> tuple[int, int]:
    """A staff user and a grant over the drill's pages that unmasks every kind (ids)."""
    with app.app_context():
        s = get_session()
        staff = create_user(s, username="drill-staff", password=PASSWORD, role="staff",
                            unit="北京市公安局海淀分局")
        a1 = create_user(s, username="drill-appr-a", password=PASSWORD, role="approver", unit="x")
        a2 = create_user(s, username="drill-appr-b", password=PASSWORD, role="approver", unit="x")
        s.commit()
        grant = create_grant(s, user=staff, approver=a1, second_approver=a2, purpose="户籍核查",
                             hours=8, scope=Scope(["户籍档案"], ["北京市公安局海淀分局"], "内部", []),
                             unmask_fields=["id_number", "phone", "name", "address"],
                             allow_lookup=False, subject_id="")
        s.commit()
        return staff.id, grant.id


def _observe(app, staff_id: int, grant_id: int) -> dict:
    """What a reader sees: hits and snippets per query, the decrypted text and image of every
    page, the decrypted original of every file."""
    from search_app.accounts.models import User

    with app.app_context():
        s = get_session()
        user = s.get(User, staff_id)
        seen: dict = {"search": {}, "text": {}, "image": {}, "original": {}}
        for q in QUERIES:
            out = search_pages(user=user, grant_id=grant_id, purpose="备份演练核对", query=q)
            seen["search"][q] = [(h.doc_id, h.snippets, h.fields.get("archive_no")) for h in out.hits]
        secrets = s.execute(select(PageSecret).where(PageSecret.archive_no.like(f"{PREFIX}%"))
                            .order_by(PageSecret.doc_id)).scalars().all()
        store = BlobStore(app.config["BLOB_DIR"], vault_from_config(app.config))
        for sec in secrets:
            page = unmask_page(user=user, grant_id=grant_id, purpose="备份演练核对", doc_id=sec.doc_id)
            seen["text"][sec.doc_id] = page.text
            if sec.image_sha256:
                seen["image"][sec.doc_id] = len(read_page_image(sec.doc_id, sec.image_sha256))
            seen["original"][sec.source_sha256] = len(store.get(sec.source_sha256, owner=sec.archive_no))
        return seen


def _cli(app, *args: str):
    with app.app_context():
        return app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)


def _wipe(app) -> None:
    """The disaster: the index (with its checkpoint index), the database and the blob store go."""
    cfg = app.config
    admin = make_client(cfg, "admin")
    for name in admin.indices.get(index=f"{cfg['OPENSEARCH_INDEX']}*", ignore_unavailable=True,
                                  allow_no_indices=True):
        admin.indices.delete(index=name)
    admin.indices.delete(index=cfg["AUDIT_CHECKPOINT_INDEX"], ignore_unavailable=True)
    app.extensions["db_engine"].dispose()
    url = cfg["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        for p in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            p.unlink(missing_ok=True)
    else:
        with app.extensions["db_engine"].connect() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            conn.commit()
        app.extensions["db_engine"].dispose()
    shutil.rmtree(cfg["BLOB_DIR"])
    Path(cfg["AUDIT_CHECKPOINT_FILE"]).unlink()


def test_restore_drill_gives_back_the_same_reads_and_the_same_chain(drill):
    app, folder = drill
    _ingest(app, folder)
    staff_id, grant_id = _people(app)
    before = _observe(app, staff_id, grant_id)
    assert all(before["search"].values()), f"a drill query found nothing: {before['search']}"
    assert len(before["text"]) == 3 and before["image"], before

    dest = folder / "backup-1"
    result = _cli(app, "backup", str(dest))
    assert result.exit_code == 0, result.output
    manifest = json.loads((dest / "manifest.json").read_text())
    files = len({spec["archive_no"] for spec in SPECS})  # one file-level document per 档号
    assert manifest["counts"]["page_secrets"] == 3, manifest["counts"]
    assert manifest["counts"]["index_documents"] == 3 + files, manifest["counts"]
    with app.app_context():
        s = get_session()
        head_at_backup = manifest["audit"]["head"]["seq"]
        backup_rec = s.execute(select(AuditRecord).where(AuditRecord.action == "backup.create")
                               ).scalars().one()
        assert backup_rec.outcome == "allowed" and backup_rec.filters["audit_head_seq"] == head_at_backup
    # no key material anywhere in the set
    keys = [app.config["ARCHIVE_DATA_KEY"], app.config["ARCHIVE_BLIND_INDEX_KEY"]]
    for path in dest.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for k in keys:
                for form in (k, base64.urlsafe_b64encode(k), base64.urlsafe_b64encode(k).rstrip(b"=")):
                    assert form not in data, f"KEY LEAKED into the backup file {path.relative_to(dest)}"

    # a restore onto the live, non-empty deployment is refused without --force
    refused = _cli(app, "restore", str(dest))
    assert refused.exit_code != 0 and "非空" in refused.output, refused.output

    _wipe(app)
    result = _cli(app, "restore", str(dest))
    assert result.exit_code == 0, result.output

    after = _observe(app, staff_id, grant_id)
    assert after["search"] == before["search"], "search results differ after the restore"
    assert after["text"] == before["text"], "page texts differ after the restore"
    assert after["image"] == before["image"] and after["original"] == before["original"]
    verify = _cli(app, "audit-verify")
    assert verify.exit_code == 0, verify.output
    with app.app_context():
        s = get_session()
        recs = s.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
        restore_rec = next(r for r in recs if r.action == "backup.restore")
        assert restore_rec.seq == head_at_backup + 1, "the restore's record does not follow the backup's head"
        assert restore_rec.prev_hash == next(r for r in recs if r.seq == head_at_backup).hash
        last_search = [r for r in recs if r.action == "search"][-1]
        assert last_search.seq > restore_rec.seq and last_search.outcome == "allowed"
        assert verify_chain(s).ok


def _tamper_fixture(drill):
    app, folder = drill
    _ingest(app, folder)
    dest = folder / "backup-t"
    result = _cli(app, "backup", str(dest))
    assert result.exit_code == 0, result.output
    return app, dest


def test_tampered_backups_are_refused_naming_the_file(drill):
    app, dest = _tamper_fixture(drill)
    manifest = json.loads((dest / "manifest.json").read_text())
    blob = next(rel for rel in manifest["checksums"] if rel.startswith("blobs/"))
    snap = next(rel for rel in manifest["checksums"] if rel.startswith("opensearch/"))
    db_file = manifest["database"]["file"]

    def attempt() -> str:
        result = _cli(app, "restore", "--force", str(dest))
        assert result.exit_code != 0, "a tampered backup was restored"
        return result.output

    for rel in (blob, db_file):  # a flipped byte
        path = dest / rel
        original = path.read_bytes()
        i = len(original) // 2
        path.write_bytes(original[:i] + bytes([original[i] ^ 0x01]) + original[i + 1:])
        out = attempt()
        assert rel in out and "校验和不符" in out, f"flipped byte in {rel} not named: {out}"
        path.write_bytes(original)
    moved = dest / snap
    kept = moved.read_bytes()
    moved.unlink()  # a removed file
    out = attempt()
    assert snap in out and "缺少文件" in out, f"removed {snap} not named: {out}"
    moved.write_bytes(kept)
    (dest / "blobs" / "extra.bin").write_bytes(b"planted")
    out = attempt()
    assert "blobs/extra.bin" in out, f"a planted file was not named: {out}"
    os.unlink(dest / "blobs" / "extra.bin")
    # a rewritten checksum list does not help: the manifest's MAC no longer matches
    body = json.loads((dest / "manifest.json").read_text())
    body["counts"]["page_secrets"] = 999
    (dest / "manifest.json").write_text(json.dumps(body))
    out = attempt()
    assert "manifest.json" in out and "完整性" in out, out
    with app.app_context():
        s = get_session()
        failures = s.execute(select(AuditRecord).where(AuditRecord.action == "backup.restore")
                             ).scalars().all()
        assert len(failures) == 5 and {r.outcome for r in failures} == {"error"}, \
            [(r.outcome, r.reason) for r in failures]
        assert verify_chain(s).ok


def test_scheduled_backup_keeps_the_newest_sets(drill):
    from search_app.backup import scheduled_backup

    app, folder = drill
    _ingest(app, folder)
    app.config.update(BACKUP_DIR=str(folder / "sched"), BACKUP_KEEP=2)
    names = []
    with app.app_context():
        for _ in range(3):
            names.append(Path(scheduled_backup()["path"]).name)
            import time
            time.sleep(1.1)  # set names are UTC seconds
    left = sorted(p.name for p in (folder / "sched").iterdir())
    assert left == sorted(names[1:]), f"retention kept {left}, expected the newest two of {names}"
    beat = create_app({**app.config, "BACKUP_INTERVAL_HOURS": 6}).extensions["celery"].conf
    entry = beat.beat_schedule["scheduled-backup"]
    assert entry["schedule"] == 6 * 3600 and entry["options"]["queue"] == "ops"
