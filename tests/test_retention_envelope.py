"""Envelope encryption (issue 13, requirement 4): migration 0012 re-encrypts what was written
under the master key (page secrets, versions, manifest rows, page images, original scans) under
one data key per file, kept in the key store outside the database; it is idempotent, and the
database alone (a backup) holds no key that opens it."""
from __future__ import annotations

import hashlib
import json
from datetime import datetime

import pytest
import sqlalchemy as sa

from search_app.blobs import BlobStore, doc_digest, page_image_aad
from search_app.config import load_settings
from search_app.crypto import DecryptError, key_id_of, vault_from_config
from search_app.ingest.service import meta_aad
from search_app.keystore import file_key_id
from search_app.migrations import alembic_config, upgrade

pytestmark = pytest.mark.integration
FILES = ("EV-0001", "EV-0002")
SCAN = b"%PDF shared scan of two files" * 40  # the same scan under two 档号
IMAGE = b"\x89PNG page image" * 30


def _legacy(tmp_path, settings):
    url = f"sqlite:///{tmp_path}/ev.sqlite3"
    upgrade(url, "0010")
    cfg = load_settings(env={}, overrides={**settings, "DATABASE_URL": url,
                                           "BLOB_DIR": str(tmp_path / "blobs"),
                                           "KEY_STORE_DIR": str(tmp_path / "keys")})
    vault = vault_from_config(cfg)
    store = BlobStore(cfg["BLOB_DIR"], vault)
    sha = hashlib.sha256(SCAN).hexdigest()
    store.put(sha, SCAN)  # the shared, master-key form
    img = hashlib.sha256(IMAGE).hexdigest()
    now = datetime(2026, 11, 1)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO ingest_jobs (id, created_by, source, created_at) "
                             "VALUES (1, 'cli', 'm.json', :t)"), {"t": now})
        for fid, an in enumerate(FILES, 1):
            meta = json.dumps({"archive_no": an, "subject_name": "王小明"}, ensure_ascii=False)
            conn.execute(sa.text(
                "INSERT INTO ingest_files (id, job_id, path, archive_no, meta_ciphertext, state, "
                "error, sha256, pages_total, pages_done, seconds, updated_at, note) VALUES "
                "(:i, 1, '/x', :a, :c, 'done', '', :s, 1, 1, 0, :t, '')"),
                {"i": fid, "a": an, "c": vault.encrypt(meta.encode(), aad=meta_aad(fid)),
                 "s": sha, "t": now})
            did = f"{an}#p0001"
            conn.execute(sa.text(
                "INSERT INTO page_secrets (doc_id, archive_no, page_no, key_id, ciphertext, "
                "pii_kinds, source_sha256, updated_at, image_sha256, text_source) VALUES "
                "(:d, :a, 1, 'k1', :c, '[]', :s, :t, :img, 'ocr')"),
                {"d": did, "a": an, "c": vault.encrypt(f"{an} 原文".encode(), aad=did.encode()),
                 "s": sha, "t": now, "img": img})
            conn.execute(sa.text(
                "INSERT INTO page_versions (doc_id, archive_no, page_no, key_id, ciphertext, "
                "pii_kinds, source_sha256, recorded_at, replaced_at, replaced_by, text_source) "
                "VALUES (:d, :a, 1, 'k1', :c, '[]', :s, :t, :t, 'reocr', 'ocr')"),
                {"d": did, "a": an, "c": vault.encrypt(f"{an} 旧版".encode(), aad=did.encode()),
                 "s": sha, "t": now})
            path = store.page_image_path(did, img)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(vault.encrypt(IMAGE, aad=page_image_aad(doc_digest(did), img)))
    return url, cfg, store, sha, img, engine


def _state(engine) -> dict:
    with engine.connect() as conn:
        return {"secrets": dict(conn.execute(sa.text("SELECT doc_id, ciphertext FROM page_secrets")).all()),
                "versions": dict(conn.execute(sa.text("SELECT doc_id, ciphertext FROM page_versions")).all()),
                "meta": dict(conn.execute(sa.text("SELECT archive_no, meta_ciphertext FROM ingest_files")).all()),
                "key_ids": dict(conn.execute(sa.text("SELECT doc_id, key_id FROM page_secrets")).all())}


def test_0012_moves_every_ciphertext_under_its_files_key(tmp_path, settings, services):
    from alembic import command

    url, cfg, store, sha, img, engine = _legacy(tmp_path, settings)
    with pytest.raises(RuntimeError, match="db-upgrade"):
        upgrade(url)  # data to convert and no keys: refuses
    upgrade(url, settings=cfg)
    state = _state(engine)
    vault = store.vault
    for an in FILES:
        did, kid = f"{an}#p0001", file_key_id(an)
        for kind in ("secrets", "versions"):
            blob = bytes(state[kind][did])
            assert key_id_of(blob) == kid, f"{kind} of {an} not under its file key"
        assert state["key_ids"][did] == kid
        assert vault.decrypt(bytes(state["secrets"][did]), aad=did.encode()).decode() == f"{an} 原文"
        assert vault.decrypt(bytes(state["versions"][did]), aad=did.encode()).decode() == f"{an} 旧版"
        assert key_id_of(bytes(state["meta"][an])) == kid, f"manifest row of {an}"
        assert key_id_of(store.page_image_path(did, img).read_bytes()) == kid
        assert store.get_page_image(did, img) == IMAGE
        own = store.path_for(sha, an)
        assert key_id_of(own.read_bytes()) == kid, f"{an} has no original of its own"
        assert store.get(sha, owner=an) == SCAN
    assert not store.path_for(sha).exists(), "the shared master-key copy of the scan was left"

    # idempotent: run again from 0010, nothing changes
    command.stamp(alembic_config(url), "0010")
    upgrade(url, settings=cfg)
    assert _state(engine) == state, "a second run re-encrypted again"

    # the database (what a backup holds) plus the master key is not enough: the keys are elsewhere
    elsewhere = vault_from_config({**cfg, "KEY_STORE_DIR": str(tmp_path / "empty-keys")})
    with pytest.raises(DecryptError, match="没有文件密钥"):
        elsewhere.decrypt(bytes(state["secrets"][f"{FILES[0]}#p0001"]), aad=f"{FILES[0]}#p0001".encode())
    engine.dispose()
