"""Guarantee: a page image and a manifest row decrypt only for the record they were written for
(issue 9, item 6). The attacker has write access to the database (and, in the second case, to
the blob directory), not the data key.

Reproduced before the fix: swapping image_sha256 between two page_secrets rows served page B's
image under page A's audit record; copying one ingest_files.meta_ciphertext onto another row
decrypted there (every row had the same aad). Now the read fails closed, is audited as an
error, and says why; migration 0009 re-encrypts data written the old way.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from search_app.audit.models import AuditRecord
from search_app.blobs import BlobStore
from search_app.config import load_settings
from search_app.crypto import DecryptError, vault_from_config
from search_app.db import get_session
from search_app.ingest.models import IngestFile, PageSecret
from search_app.ingest.service import META_AAD, file_meta, meta_aad
from search_app.migrations import upgrade
from search_app.search._catalogue import catalogue
from tests.conftest import image_url, login, meta

pytestmark = pytest.mark.integration
A, B = "AAD-0001#p0001", "AAD-0002#p0001"


@pytest.fixture()
def two_pages(ingest):
    progress, job_id = ingest([meta("AAD-0001", fmt="png", pages=[["甲页面图像 绑定测试", "海淀分局"]]),
                               meta("AAD-0002", fmt="png", pages=[["乙页面图像 绑定测试", "朝阳分局"]])])
    assert progress.files_failed == 0, progress.errors
    return job_id


def _swap_images(session) -> tuple[str, str]:
    a, b = session.get(PageSecret, A), session.get(PageSecret, B)
    a.image_sha256, b.image_sha256 = b.image_sha256, a.image_sha256
    session.commit()
    return a.image_sha256, b.image_sha256


def test_swapped_image_sha_fails_closed_and_is_audited(app, ctx, two_pages, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user)
    client = app.test_client()
    login(client, user.username)
    b_image = client.get(image_url(client, B, grant.id)).data  # what B's image looks like now
    url = image_url(client, A, grant.id)  # minted before the swap, like an open page view
    session = get_session()
    b_sha, _ = _swap_images(session)
    resp = client.get(url)
    body = resp.data
    assert resp.status_code != 200 and resp.mimetype != "image/png", \
        f"SERVED: page {A} answered {resp.status_code} with page {B}'s image (image_sha256 swapped)"
    assert b_image[:64] not in body
    text = resp.get_data(as_text=True)
    assert resp.status_code == 503 and "图像" in text and A in text, f"unclear refusal: {text!r}"
    rec = session.execute(select(AuditRecord).where(AuditRecord.user_id == user.id)
                          .order_by(AuditRecord.seq.desc())).scalars().first()
    assert (rec.action, rec.outcome, rec.query) == ("page.image", "error", A), \
        f"the failed read must be audited as an error, got {(rec.action, rec.outcome)}"
    assert "不属于此页面" in rec.reason or "完整性" in rec.reason, rec.reason

    # The attacker also copies B's blob file to where A's row now points: still refused.
    store = BlobStore(app.config["BLOB_DIR"], vault_from_config(app.config))
    shutil.copyfile(store.page_image_path(B, b_sha), store.page_image_path(A, b_sha))
    resp = client.get(image_url(client, A, grant.id))
    assert resp.status_code == 503 and resp.mimetype != "image/png", \
        f"SERVED: page {B}'s blob copied under page {A} decrypted there"
    assert "完整性" in resp.get_data(as_text=True)


def test_manifest_row_copied_onto_another_row_does_not_decrypt(app, ctx, two_pages):
    session = get_session()
    x, y = session.execute(select(IngestFile).where(IngestFile.job_id == two_pages)
                           .order_by(IngestFile.id)).scalars().all()
    assert file_meta(y)["archive_no"] == "AAD-0002"
    y.meta_ciphertext = x.meta_ciphertext
    session.commit()
    with pytest.raises(DecryptError):
        file_meta(y)
        pytest.fail(f"DECRYPTED: ingest_files {x.id}'s manifest row opened on row {y.id}")
    # The tampered row is left out of the grant form's catalogue; the form keeps working for
    # everyone (it failed with a 500 for every later requester in the session).
    listed = catalogue(fresh=True)
    assert "AAD-0002" not in listed.archive_nos, "the tampered row's 档号 is offered in the catalogue"
    assert "AAD-0001" in listed.archive_nos


def _legacy_db(tmp_path, settings):
    """A 0005 database and blob dir holding what the old code wrote: images content-addressed
    (aad = sha), manifest rows under the constant aad."""
    url = f"sqlite:///{tmp_path}/legacy.sqlite3"
    upgrade(url, "0005")
    cfg = load_settings(env={}, overrides={**settings, "DATABASE_URL": url,  # the app config
                                           "BLOB_DIR": str(tmp_path / "blobs")})
    vault = vault_from_config(cfg)
    store = BlobStore(cfg["BLOB_DIR"], vault)
    image = b"\x89PNG legacy page image" * 30
    sha = hashlib.sha256(image).hexdigest()
    store.put(sha, image)  # the old layout and aad
    meta_plain = json.dumps({"archive_no": "LG-0001", "subject_name": "王小明"}, ensure_ascii=False)
    now = datetime(2026, 11, 1)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ingest_jobs (id, created_by, source, created_at) "
                             "VALUES (1, 'cli', 'm.json', :t)"), {"t": now})
        for fid in (1, 2):
            conn.execute(sa.text(
                "INSERT INTO ingest_files (id, job_id, path, archive_no, meta_ciphertext, state, "
                "error, sha256, pages_total, pages_done, seconds, updated_at) VALUES "
                "(:i, 1, '/x', 'LG-0001', :c, 'done', '', :s, 1, 1, 0, :t)"),
                {"i": fid, "c": vault.encrypt(meta_plain.encode(), aad=META_AAD), "s": "0" * 64, "t": now})
        for did in ("LG-0001#p0001", "LG-0002#p0001"):  # two pages with the same image
            conn.execute(sa.text(
                "INSERT INTO page_secrets (doc_id, archive_no, page_no, key_id, ciphertext, "
                "pii_kinds, source_sha256, updated_at, image_sha256) VALUES "
                "(:d, 'LG-0001', 1, 'k1', :c, '[]', :s, :t, :img)"),
                {"d": did, "c": vault.encrypt(b"text", aad=did.encode()), "s": "0" * 64, "t": now,
                 "img": sha})
    return url, cfg, store, image, sha, engine


def test_migration_0009_rebinds_legacy_rows_and_is_idempotent(tmp_path, settings, services):
    from alembic import command

    from search_app.migrations import alembic_config

    url, cfg, store, image, sha, engine = _legacy_db(tmp_path, settings)
    with pytest.raises(RuntimeError, match="flask --app search_app db-upgrade"):
        upgrade(url)  # rows to convert and no keys: refuses, changes nothing
    upgrade(url, settings=cfg)
    for did in ("LG-0001#p0001", "LG-0002#p0001"):
        assert store.get_page_image(did, sha) == image, f"{did}: image not rebound to its page"
    assert not store.path_for(sha).exists(), "the unbound legacy image copy was left behind"
    with engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, meta_ciphertext FROM ingest_files")).all()
    for fid, blob in rows:
        assert json.loads(store.vault.decrypt(bytes(blob), aad=meta_aad(fid)))["archive_no"] == "LG-0001"
        with pytest.raises(DecryptError):
            store.vault.decrypt(bytes(blob), aad=META_AAD)
    command.stamp(alembic_config(url), "0008")  # run 0009 a second time over converted data
    upgrade(url, settings=cfg)
    with engine.connect() as conn:
        again = conn.execute(sa.text("SELECT id, meta_ciphertext FROM ingest_files")).all()
    assert again == rows, "a second run re-encrypted rows that were already bound"
    assert store.get_page_image("LG-0001#p0001", sha) == image
