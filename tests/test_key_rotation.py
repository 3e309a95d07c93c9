"""Data-key rotation: everything written under k1 is readable with k2 alone after `rotate-keys`.

Each test has its own SQLite file and blob directory (the session database holds rows under the
session key, which also calls itself k1), and builds one app per key configuration, as an
operator would by restarting with new settings.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from indexer.manifest import ManifestRow
from indexer.types import ArchiveMeta
from search_app import create_app
from search_app.blobs import BlobStore
from search_app.config import ConfigError, load_settings
from search_app.crypto import DecryptError, Vault, key_id_of, vault_from_config
from search_app.db import get_session
from search_app.ingest.models import IngestFile, PageSecret, PageVersion
from search_app.ingest.service import create_job, meta_aad
from search_app.migrations import upgrade

pytestmark = pytest.mark.integration
K1, K2, K0 = os.urandom(32), os.urandom(32), os.urandom(32)
PAGES = {f"RT-{i:03d}#p0001": f"第 {i} 页 原文 身份证号 11010519491231002X" for i in range(7)}
SCANS = [f"扫描件 {i}".encode() * 50 for i in range(3)]
IMAGE = b"\x89PNG page image" * 20


def _b64(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).decode()


@pytest.fixture()
def store(settings, services, tmp_path) -> dict:
    base = {**settings, "DATABASE_URL": f"sqlite:///{tmp_path}/rot.sqlite3",
            "BLOB_DIR": str(tmp_path / "blobs"), "KEY_STORE_DIR": str(tmp_path / "keys")}
    upgrade(base["DATABASE_URL"])
    return base


def _app(store: dict, key_id: str, key: bytes, old: dict[str, bytes] | None = None):
    ring = ",".join(f"{k}:{_b64(v)}" for k, v in (old or {}).items())
    return create_app({**store, "ARCHIVE_DATA_KEY_ID": key_id, "ARCHIVE_DATA_KEY": _b64(key),
                       "ARCHIVE_DATA_OLD_KEYS": ring})


def _write_everything(app) -> None:
    """Page secrets, a job's encrypted manifest rows and blobs, as ingestion writes them."""
    with app.app_context():
        vault = vault_from_config(app.config)
        session = get_session()
        for did, text in PAGES.items():
            session.add(PageSecret(doc_id=did, archive_no=did.split("#")[0], page_no=1,
                                   key_id=vault.current_key_id, source_sha256="0" * 64,
                                   ciphertext=vault.encrypt(text.encode(), aad=did.encode())))
            session.add(PageVersion(doc_id=did, archive_no=did.split("#")[0], page_no=1,
                                    key_id=vault.current_key_id, source_sha256="0" * 64,
                                    ciphertext=vault.encrypt(text.encode(), aad=did.encode()),
                                    recorded_at=datetime(2026, 1, 1), replaced_by="reocr"))
        rows = [ManifestRow(i + 1, ArchiveMeta(archive_no=f"RT-{i:03d}", title="题名", category="户籍档案",
                                               unit="海淀分局", year=2001, classification="内部",
                                               file=f"{i}.png", subject_name="王小明",
                                               subject_id="11010519491231002X"), file=f"{i}.png")
                for i in range(4)]
        create_job(session, source="m.json", created_by="test", rows=rows, base_dir=Path("/tmp"))
        session.commit()
        blobs = BlobStore(app.config["BLOB_DIR"], vault)
        for data in SCANS:
            blobs.put(hashlib.sha256(data).hexdigest(), data)
        for did in sorted(PAGES)[:2]:  # page images, bound to their page
            blobs.put_page_image(did, IMAGE)


def _cli(app, *args: str):
    with app.app_context():  # what `flask --app search_app ...` provides
        return app.test_cli_runner().invoke(args=list(args))


def _rotate(app, *args: str):
    return _cli(app, "rotate-keys", *args)


def _read_everything(app) -> None:
    """Decrypt every ciphertext; raises DecryptError if any needs a key `app` does not have."""
    with app.app_context():
        vault = vault_from_config(app.config)
        session = get_session()
        for s in session.query(PageSecret):
            assert vault.decrypt(s.ciphertext, aad=s.doc_id.encode()).decode() == PAGES[s.doc_id]
            assert s.key_id == vault.current_key_id, f"{s.doc_id}: key_id column not updated"
        for v in session.query(PageVersion):  # bound to its page's id, like the current text
            assert vault.decrypt(v.ciphertext, aad=v.doc_id.encode()).decode() == PAGES[v.doc_id]
            assert v.key_id == vault.current_key_id, f"version {v.id}: key_id column not updated"
        for f in session.query(IngestFile):
            assert json.loads(vault.decrypt(f.meta_ciphertext, aad=meta_aad(f.id)))["subject_name"] == "王小明"
        blobs = BlobStore(app.config["BLOB_DIR"], vault)
        for data in SCANS:
            assert blobs.get(hashlib.sha256(data).hexdigest()) == data
        for did in sorted(PAGES)[:2]:
            assert blobs.get_page_image(did, hashlib.sha256(IMAGE).hexdigest()) == IMAGE


def test_rotation_moves_everything_to_the_new_key(store):
    _write_everything(_app(store, "k1", K1))
    result = _rotate(_app(store, "k2", K2, {"k1": K1}), "--batch", "3")
    assert result.exit_code == 0, result.output
    assert "page_secrets: 7 re-encrypted" in result.output
    assert "page_versions: 7 re-encrypted" in result.output
    assert "blobs: 3 re-encrypted" in result.output
    # manifest rows and page images are under their files' own data keys (search_app.keystore):
    # a master-key rotation re-wraps those 4 keys and leaves the data as it is
    assert "ingest_files: 0 re-encrypted, 4 already under 'k2'" in result.output
    assert "page_images: 0 re-encrypted, 2 already under 'k2'" in result.output
    assert "file_keys: 4 re-encrypted" in result.output
    assert "page_secrets: 6 checked" in result.output, "no per-batch progress line"
    # A vault with only k2 reads it all: k1 can now be destroyed.
    _read_everything(_app(store, "k2", K2))
    with pytest.raises(DecryptError, match="k2"):
        _read_everything(_app(store, "k1", K1))

    again = _rotate(_app(store, "k2", K2, {"k1": K1}))
    assert again.exit_code == 0, again.output
    for kind, n in (("page_secrets", 7), ("ingest_files", 4), ("page_versions", 7), ("blobs", 3),
                    ("page_images", 2), ("file_keys", 4)):
        assert f"{kind}: 0 re-encrypted, {n} already under 'k2'" in again.output, again.output


def test_rotation_keeps_updated_at(store):
    _write_everything(_app(store, "k1", K1))
    with _app(store, "k1", K1).app_context():
        before = {s.doc_id: s.updated_at for s in get_session().query(PageSecret)}
    assert _rotate(_app(store, "k2", K2, {"k1": K1})).exit_code == 0
    with _app(store, "k2", K2).app_context():
        after = {s.doc_id: s.updated_at for s in get_session().query(PageSecret)}
    assert after == before, "rotation changed the ingest date shown to records managers"


def test_missing_old_key_is_refused_before_any_change(store):
    _write_everything(_app(store, "k1", K1))
    result = _rotate(_app(store, "k2", K2))  # k1 not configured
    assert result.exit_code != 0
    assert "密钥 'k1' 未配置" in result.output, result.output
    assert "page_secrets 7 行" in result.output and "file_keys 4 个文件" in result.output
    assert "blobs 3 个文件" in result.output and "ARCHIVE_DATA_OLD_KEYS" in result.output
    _read_everything(_app(store, "k1", K1))  # nothing was touched


def test_tampered_ciphertext_is_reported_not_skipped(store):
    _write_everything(_app(store, "k1", K1))
    victim = sorted(PAGES)[2]
    with _app(store, "k1", K1).app_context():
        session = get_session()
        row = session.get(PageSecret, victim)
        row.ciphertext = row.ciphertext[:-1] + bytes([row.ciphertext[-1] ^ 1])
        session.commit()
    blob = next(Path(store["BLOB_DIR"]).glob("*/*.bin"))
    blob.write_bytes(blob.read_bytes()[:-3] + b"xyz")

    result = _rotate(_app(store, "k2", K2, {"k1": K1}))
    assert result.exit_code == 1, "a tampered ciphertext must make the run fail"
    assert f"✗ page_secrets {victim}: ciphertext failed authentication" in result.output, result.output
    assert f"✗ blobs {blob.name}" in result.output, result.output
    assert "page_secrets: 6 re-encrypted" in result.output and "1 failed" in result.output
    with _app(store, "k2", K2).app_context():
        assert key_id_of(get_session().get(PageSecret, victim).ciphertext) == "k1", \
            "the tampered row must be left as it was, for investigation"


def test_gen_keys_rotate_prints_next_id_and_keeps_current_key(store):
    app = _app(store, "k1", K1, {"k0": K0})
    out = _cli(app, "gen-keys", "--rotate-data-key").output
    lines = dict(line.split("=", 1) for line in out.splitlines() if not line.startswith("#"))
    assert lines["ARCHIVE_DATA_KEY_ID"] == "k2"
    cfg = load_settings(env={**{k: str(v) for k, v in store.items() if isinstance(v, str)}, **lines})
    vault = vault_from_config(cfg)
    assert vault.key_ids == {"k0", "k1", "k2"} and vault.current_key_id == "k2"
    assert cfg["ARCHIVE_DATA_OLD_KEYS"] == {"k0": K0, "k1": K1}


@pytest.mark.parametrize("raw, message", [
    ("k1", "entry 1 is not <key id>:<base64 key>"),
    ("k1:abc", "must decode to 32 bytes"),
    ("k/1:" + _b64(K1), "key id"),
    (f"k1:{_b64(K1)},k1:{_b64(K2)}", "listed twice"),
    (f"k 1:{_b64(K1)}", "key id"),
])
def test_old_keys_setting_is_validated(settings, raw, message):
    with pytest.raises(ConfigError, match=message) as exc:
        load_settings(env={}, overrides={**settings, "ARCHIVE_DATA_OLD_KEYS": raw})
    assert _b64(K1).rstrip("=") not in str(exc.value), "the error message leaks a key"


def test_old_key_may_not_reuse_the_current_id(settings):
    with pytest.raises(ConfigError, match="current key id 'k1'"):
        load_settings(env={}, overrides={**settings, "ARCHIVE_DATA_KEY_ID": "k1",
                                         "ARCHIVE_DATA_OLD_KEYS": f"k1:{_b64(K2)}"})


def test_encryption_always_uses_the_current_key(settings):
    cfg = load_settings(env={}, overrides={**settings, "ARCHIVE_DATA_KEY_ID": "k2",
                                           "ARCHIVE_DATA_OLD_KEYS": f"k1:{_b64(K1)}"})
    assert key_id_of(vault_from_config(cfg).encrypt(b"x", aad=b"a")) == "k2"


def test_decrypt_with_non_utf8_key_id_is_a_decrypt_error():
    vault = Vault({"k1": K1}, "k1", K2)
    with pytest.raises(DecryptError, match="no key for key id"):
        vault.decrypt(b"v1:\xff\xfe:" + os.urandom(40), aad=b"a")
    with pytest.raises(DecryptError, match="no key id"):
        vault.decrypt(b"v1:k1" + os.urandom(40).replace(b":", b"."), aad=b"a")


@pytest.mark.parametrize("kind, a, b", [
    ("id_number", "110105 19900101 1232", "110105199001011232"),
    ("id_number", "110105-19900101-1232", "１１０１０５１９９００１０１１２３２"),
    ("id_number", "11010519900101123x", "11010519900101123X"),
    ("phone", "138-0013-8000", "138 0013 8000"),
    ("name", "张 三", "张三"),
    ("name", "张\u3000三", " 张三 "),
])
def test_blind_index_folds_separators(kind, a, b):
    vault = Vault({"k1": K1}, "k1", K2)
    assert vault.blind_index(kind, a) == vault.blind_index(kind, b)


def test_blind_index_keeps_kinds_and_values_apart():
    vault = Vault({"k1": K1}, "k1", K2)
    assert vault.blind_index("id_number", "123") != vault.blind_index("phone", "123")
    assert vault.blind_index("name", "张三") != vault.blind_index("name", "张山")
