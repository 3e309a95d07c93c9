"""Retention and destruction (issue 13, requirement 4) against the real services, as a records
office would run it and as an attacker holding an old backup would try it.

The appraisal list shows only files whose 保管期限 has ended; a destruction request needs two
approvals by two people other than the requester; execution removes the file's index documents,
page secrets, versions and blobs and destroys its data key. Then nothing of the file is
searchable, viewable or decryptable; a backup taken before the destruction, restored into a
wiped deployment that keeps the current key store, brings back no readable page of it (its
ciphertexts fail for want of the key, and the restore re-applies the destruction), while the
other file restores as it was. Each failure names what survived."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from search_app.accounts.models import User
from search_app.accounts.services import create_user
from search_app.blobs import BlobStore
from search_app.crypto import DecryptError, vault_from_config
from search_app.db import get_session
from search_app.grants.services import Scope, create_grant
from search_app.ingest.models import IngestFile, PageSecret, PageVersion
from search_app.keystore import KeyDestroyed, file_key_id
from search_app.retention.models import DestroyedFile, DestructionRequest
from search_app.search import search_pages, unmask_page, view_page
from search_app.search._backend import make_client
from search_app.search._choke import ReadDenied
from tests.conftest import PASSWORD, meta, own_deployment
from tests.test_backup_drill import _cli, _wipe

pytestmark = pytest.mark.integration

GONE = "DST-2010-D10-0001"  # 定期10年, 2010: due 2021-01-01
KEPT = "DST-2012-Y-0002"  # 永久
LATER = "DST-2020-D30-0003"  # 定期30年, 2020: due 2051
PHRASE = "鉴定销毁演练"
ID = "110105196504121238"
SPECS = [
    meta(GONE, year=2010, pages=[[f"{PHRASE} 待销毁第一页 公民身份号码 {ID} 文本层内容足够长"],
                                 [f"{PHRASE} 待销毁第二页 附件材料 文本层内容足够长"]]),
    meta(KEPT, year=2012, pages=[[f"{PHRASE} 永久保管页面 户籍登记 文本层内容足够长"]]),
    meta(LATER, year=2020, fmt="png", pages=[[f"{PHRASE} 定期三十年 扫描页面 登记内容"]]),
]


@pytest.fixture()
def deployment(settings, services, tmp_path):
    """(app, folder): a deployment of its own (database, alias, blobs, key store)."""
    with own_deployment(settings, tmp_path, KEY_STORE_DIR=str(tmp_path / "keys")) as app:
        yield app, tmp_path


def _ingest(app, folder: Path, specs) -> None:
    from search_app.demo import render_file
    from search_app.ingest.jobs import start_job, wait_for_job

    batch = folder / f"batch-{uuid.uuid4().hex[:6]}"
    batch.mkdir()
    rows = []
    for spec in specs:
        render_file(spec, batch)
        rows.append({k: v for k, v in spec.items() if k not in ("format", "pages")})
    (batch / "manifest.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    with app.app_context():
        job = start_job(batch / "manifest.json", base_dir=batch, created_by="test", queue=False)
        return wait_for_job(job.id, echo=lambda _l: None, timeout=300, poll=0.3)


def _people(app) -> dict:
    with app.app_context():
        s = get_session()
        made = {name: create_user(s, username=f"dst-{name}", password=PASSWORD, role=role,
                                  unit="北京市公安局海淀分局")
                for name, role in (("staff", "staff"), ("head1", "records_head"),
                                   ("head2", "records_head"), ("appr1", "approver"),
                                   ("appr2", "approver"), ("sys", "system_admin"))}
        s.commit()
        grant = create_grant(s, user=made["staff"], approver=made["appr1"],
                             second_approver=made["appr2"], purpose="户籍核查", hours=8,
                             scope=Scope(["户籍档案"], ["北京市公安局海淀分局"], "内部", []),
                             unmask_fields=["id_number", "name"], allow_lookup=False, subject_id="")
        s.commit()
        return {**{k: u.username for k, u in made.items()}, "staff_id": made["staff"].id,
                "grant": grant.id}


def _client(app, username: str):
    client = app.test_client()
    resp = client.post("/login", data={"username": username, "password": PASSWORD})
    assert resp.status_code == 302, f"{username} cannot log in"
    return client


def _reads(app, people: dict) -> dict:
    """What the staff member can get at: search hits by 档号, and per page the masked view,
    the unmasked text, or the refusal."""
    with app.app_context():
        user = get_session().get(User, people["staff_id"])
        out = search_pages(user=user, grant_id=people["grant"], purpose="销毁核对", query=PHRASE)
        seen = {"hits": sorted({h.fields.get("archive_no") for h in out.hits}), "pages": {}}
        for an, n in ((GONE, 2), (KEPT, 1)):
            for p in range(1, n + 1):
                did = f"{an}#p{p:04d}"
                try:
                    view_page(user=user, grant_id=people["grant"], purpose="销毁核对", doc_id=did)
                except ReadDenied as exc:
                    seen["pages"][did] = f"denied: {exc}"
                    continue
                try:
                    seen["pages"][did] = unmask_page(user=user, grant_id=people["grant"],
                                                     purpose="销毁核对", doc_id=did).text
                except DecryptError as exc:  # the masked view from the index still showed
                    seen["pages"][did] = f"masked view shown, text undecryptable: {exc}"
        return seen


def _ciphertexts(app, archive_no: str) -> dict:
    """Every ciphertext of the file as a backup would hold it: DB rows and blob files."""
    with app.app_context():
        s = get_session()
        rows = s.execute(select(PageSecret).where(PageSecret.archive_no == archive_no)).scalars()
        out = {"secrets": {r.doc_id: bytes(r.ciphertext) for r in rows}}
        store = BlobStore(app.config["BLOB_DIR"], vault_from_config(app.config))
        folder = store.path_for("0" * 64, archive_no).parent
        out["originals"] = {p.name: p.read_bytes() for p in folder.glob("*.bin")}
        return out


def _destroy(app, people: dict, archive_no: str) -> int:
    """Propose as head1, try the forbidden approvals, approve as head2 and an approver, execute."""
    head1 = _client(app, people["head1"])
    listing = head1.get("/retention/appraisal").get_data(as_text=True)
    assert f'data-archive="{archive_no}"' in listing, f"{archive_no} is not in the appraisal list"
    for early in (KEPT, LATER):
        assert f'data-archive="{early}"' not in listing, f"{early} listed before its period ended"
    refused = head1.post("/retention/requests/new", data={"archive_no": [LATER], "reasons": "到期"})
    assert refused.status_code == 400 and "2051-01-01" in refused.get_data(as_text=True)
    resp = head1.post("/retention/requests/new",
                      data={"archive_no": [archive_no], "reasons": "保管期限届满，经鉴定无继续保存价值"})
    assert resp.status_code == 303, resp.get_data(as_text=True)[-500:]
    with app.app_context():
        req_id = get_session().execute(select(DestructionRequest.id).where(
            DestructionRequest.status == "pending")).scalars().one()
    own = head1.post("/retention/approve", data={"request_id": req_id})
    assert own.status_code == 400 and "不能审批自己" in own.get_data(as_text=True), \
        "ALLOWED: the requester approved their own destruction request"
    head2 = _client(app, people["head2"])
    assert head2.post("/retention/approve", data={"request_id": req_id}).status_code == 303
    twice = head2.post("/retention/approve", data={"request_id": req_id})
    assert twice.status_code == 400 and "另一人" in twice.get_data(as_text=True), \
        "ALLOWED: one person gave both approvals"
    sys_client = _client(app, people["sys"])
    early = sys_client.post("/retention/execute", data={"request_id": req_id})
    assert early.status_code == 400 and "两人批准" in early.get_data(as_text=True), \
        "ALLOWED: execution after one approval"
    appr = _client(app, people["appr1"])
    assert appr.post("/retention/approve", data={"request_id": req_id}).status_code == 303
    result = _cli(app, "retention", "execute", str(req_id))
    assert result.exit_code == 0 and archive_no in result.output, result.output
    return req_id


def _assert_gone(app, people: dict, before: dict, old: dict) -> None:
    after = _reads(app, people)
    assert GONE not in after["hits"], f"LEAK: {GONE} is still searchable: {after['hits']}"
    for did in (f"{GONE}#p0001", f"{GONE}#p0002"):
        assert after["pages"][did].startswith("denied"), f"LEAK: {did} still viewable: {after['pages'][did]!r}"
    assert after["pages"][f"{KEPT}#p0001"] == before["pages"][f"{KEPT}#p0001"], "the kept file changed"
    with app.app_context():
        s = get_session()
        vault = vault_from_config(app.config)
        for did, blob in old["secrets"].items():
            with pytest.raises(KeyDestroyed):
                vault.decrypt(blob, aad=did.encode())
        assert old["originals"], "the file had no original scan to check"
        for name, blob in old["originals"].items():
            with pytest.raises(DecryptError):
                vault.decrypt(blob, aad=b"x")  # header names the destroyed key: fails before aad
        for model in (PageSecret, PageVersion):
            left = s.execute(select(model).where(model.archive_no == GONE)).scalars().all()
            assert not left, f"LEAK: {len(left)} {model.__tablename__} rows of {GONE} remain"
        for f in s.execute(select(IngestFile).where(IngestFile.archive_no == GONE)).scalars():
            assert f.meta_ciphertext == b"" and f.sha256 == "", "LEAK: the manifest row survived"
    admin = make_client(app.config, "admin")
    admin.indices.refresh(index=app.config["OPENSEARCH_INDEX"])
    dump = admin.search(index=app.config["OPENSEARCH_INDEX"], size=100,
                        body={"query": {"term": {"archive_no": GONE}}})["hits"]["hits"]
    assert not dump, f"LEAK: {len(dump)} index documents of {GONE} remain (an index dump shows them)"
    blob_dir = Path(app.config["BLOB_DIR"])
    store = BlobStore(blob_dir, vault_from_config(app.config))
    assert not store.path_for("0" * 64, GONE).parent.exists(), "LEAK: the original scan remains"
    for did in old["secrets"]:
        assert not store.page_image_path(did, "0" * 64).parent.exists(), f"LEAK: {did}'s image remains"


def test_destruction_then_restore_of_an_earlier_backup(deployment):
    app, folder = deployment
    progress = _ingest(app, folder, SPECS)
    assert progress.files_failed == 0, progress.errors
    # a second scan of the file: its first text becomes a page version, which must go too
    rescan = {**SPECS[0], "pages": [[f"{PHRASE} 待销毁第一页 重新扫描 公民身份号码 {ID} 文本层内容足够长"],
                                     SPECS[0]["pages"][1]]}
    assert _ingest(app, folder, [rescan]).files_failed == 0
    with app.app_context():
        versions = get_session().execute(select(PageVersion).where(PageVersion.archive_no == GONE)).scalars().all()
        assert versions, "the re-scan kept no page version to destroy"
    people = _people(app)
    before = _reads(app, people)
    assert GONE in before["hits"] and ID in before["pages"][f"{GONE}#p0001"], before
    old = _ciphertexts(app, GONE)

    dest = folder / "backup-before"
    assert _cli(app, "backup", str(dest)).exit_code == 0
    keys_dir = Path(app.config["KEY_STORE_DIR"])
    wrapped = {p.read_bytes() for p in keys_dir.glob("??/*.key")}
    assert len(wrapped) == 3, f"one data key per file expected, found {len(wrapped)}"
    for path in dest.rglob("*"):  # the keys are never in the backup
        if path.is_file():
            data = path.read_bytes()
            assert not any(w in data for w in wrapped), f"KEY LEAKED into backup {path.relative_to(dest)}"

    gone_key = (keys_dir / file_key_id(GONE)[2:4] / f"{file_key_id(GONE)}.key").read_bytes()
    req_id = _destroy(app, people, GONE)
    _assert_gone(app, people, before, old)
    # not only refused by the app: the wrapped key itself is nowhere in the key store any more,
    # so the master key plus the key store plus an old backup still open nothing
    for path in keys_dir.rglob("*"):
        if path.is_file() and gone_key in path.read_bytes():
            pytest.fail(f"LEAK: the destroyed file's wrapped key survives in {path.relative_to(keys_dir)}")
    with app.app_context():
        s = get_session()
        [row] = s.execute(select(DestroyedFile)).scalars().all()
        assert (row.archive_no, row.page_count, row.retention, row.year) == (GONE, 2, "D10", 2010)
        assert row.title == f"测试档案{GONE}" and row.request_id == req_id
        assert row.approvers == [people["head2"], people["appr1"]]
        assert ID not in json.dumps([row.title, row.reasons], ensure_ascii=False)
        from search_app.audit.models import AuditRecord
        actions = [r.action for r in s.execute(select(AuditRecord).where(
            AuditRecord.action.like("retention.%")).order_by(AuditRecord.seq)).scalars()]
        for a in ("retention.appraisal_view", "retention.destruction_request",
                  "retention.destruction_approve", "retention.file_key_destroyed",
                  "retention.destruction_execute"):
            assert a in actions, f"step {a} is not in the audit log: {actions}"
    register = _client(app, people["head1"]).get("/retention/destroyed").get_data(as_text=True)
    assert f'data-archive="{GONE}"' in register and ID not in register
    again = _ingest(app, folder, [SPECS[0]])
    assert again.files_failed == 1 and "已经鉴定销毁" in json.dumps(again.errors, ensure_ascii=False), \
        "ALLOWED: a destroyed 档号 was ingested again"

    # the disaster: the deployment is lost and rebuilt from the earlier backup; the key store,
    # which is never in a backup, is the current one
    _wipe(app)
    assert (keys_dir / "destroyed" / f"{file_key_id(GONE)}.json").exists()
    result = _cli(app, "restore", str(dest))
    assert result.exit_code == 0, result.output
    assert GONE in result.output, "the restore did not re-apply the destruction"
    # the backup's own copies of the file's ciphertexts: unreadable with the current key store
    vault = vault_from_config(app.config)
    backed_up = list((dest / "blobs" / "files").rglob("*.bin"))
    gone_digest = BlobStore(dest, vault).path_for("0" * 64, GONE).parent.name
    mine = [p for p in backed_up if p.parent.name == gone_digest]
    assert mine, "the backup holds no copy of the file's scan to try"
    for p in mine:
        with pytest.raises(KeyDestroyed):
            vault.decrypt(p.read_bytes(), aad=b"any")
    _assert_gone(app, people, before, old)
    after = _reads(app, people)
    assert KEPT in after["hits"] and after["pages"][f"{KEPT}#p0001"] == before["pages"][f"{KEPT}#p0001"], \
        "the kept file did not restore as it was"
    with app.app_context():
        assert get_session().execute(select(DestroyedFile.archive_no)).scalars().all() == [GONE], \
            "the destruction register row was not put back after the restore"
    verify = _cli(app, "audit-verify")
    assert verify.exit_code == 0, verify.output


def test_refusals_are_audited_and_say_why(app, ctx, make_user):
    head = make_user("records_head")
    client = app.test_client()
    client.post("/login", data={"username": head.username, "password": PASSWORD})
    for data, says in (({"archive_no": [], "reasons": "x"}, "至少一个"),
                       ({"archive_no": ["NOPE-0001"], "reasons": ""}, "销毁理由"),
                       ({"archive_no": ["NOPE-2001-D10-0001"], "reasons": "到期"}, "不在到期鉴定清单")):
        resp = client.post("/retention/requests/new", data=data)
        assert resp.status_code == 400 and says in resp.get_data(as_text=True), data
    from tests.conftest import audit_records
    recs = audit_records("retention.destruction_request", username=head.username)
    assert [r.outcome for r in recs] == ["denied"] * 3
    staff = make_user("staff")
    sc = app.test_client()
    sc.post("/login", data={"username": staff.username, "password": PASSWORD})
    for url in ("/retention/appraisal", "/retention/requests", "/retention/execute", "/retention/destroyed"):
        assert sc.get(url).status_code == 403, f"staff reached {url}"
