"""bind ciphertexts to their record: page images to their page, manifest rows to their row

Before: page-image blobs were content-addressed (<sha[:2]>/<sha>.bin, aad = the sha), so
swapping image_sha256 between two page_secrets rows served the other page's image; manifest rows
(ingest_files.meta_ciphertext) all shared one constant aad. After: a page image lives under
pages/<sha256(doc id)>/<sha>.bin with aad naming both, and a manifest row's aad includes its id
(search_app.blobs, search_app.ingest.service.meta_aad).

Data only, no schema change. Idempotent: a row or image already in the new form is left alone,
so an interrupted upgrade is simply run again. Needs the data keys and BLOB_DIR: run it through
`flask db-upgrade`, which passes the app settings. A ciphertext that opens under neither the old
nor the new aad (tampered) stops the upgrade with its id: nothing is guessed.

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import context, op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

LEGACY_META_AAD = b"ingest-file-meta"


def _settings():
    settings = context.config.attributes.get("settings")
    if settings is None:
        raise RuntimeError("migration 0009 re-encrypts page images and manifest rows and needs "
                           "the data keys: run `flask --app search_app db-upgrade`")
    return settings


def upgrade() -> None:
    from search_app.blobs import BlobStore, doc_digest, page_image_aad
    from search_app.crypto import DecryptError, vault_from_config
    from search_app.ingest.service import meta_aad

    conn = op.get_bind()
    files = conn.execute(sa.text("SELECT id, meta_ciphertext FROM ingest_files "
                                 "WHERE length(meta_ciphertext) > 0")).all()
    images = conn.execute(sa.text("SELECT doc_id, image_sha256 FROM page_secrets "
                                  "WHERE image_sha256 IS NOT NULL AND image_sha256 != ''")).all()
    if not files and not images:
        return
    settings = _settings()
    vault = vault_from_config(settings)
    for file_id, blob in files:
        blob = bytes(blob)
        try:
            vault.decrypt(blob, aad=meta_aad(file_id))
            continue  # already bound
        except DecryptError:
            pass
        try:
            plain = vault.decrypt(blob, aad=LEGACY_META_AAD)
        except DecryptError as exc:
            raise RuntimeError(f"0009: ingest_files {file_id}: manifest row opens under neither "
                               f"the old nor the new aad ({exc}); nothing guessed") from None
        conn.execute(sa.text("UPDATE ingest_files SET meta_ciphertext = :c WHERE id = :i"),
                     {"c": vault.encrypt(plain, aad=meta_aad(file_id)), "i": file_id})

    store = BlobStore(settings["BLOB_DIR"], vault)
    legacy = set()
    for doc_id, sha in images:
        target = store.page_image_path(doc_id, sha)
        if target.exists():
            store.get_page_image(doc_id, sha)  # BlobMismatch (tampered) stops the upgrade
            continue
        old = store.path_for(sha)
        try:
            data = store.get(sha)
        except FileNotFoundError:
            raise RuntimeError(f"0009: page {doc_id}: image blob {old.name} is missing") from None
        if hashlib.sha256(data).hexdigest() != sha:
            raise RuntimeError(f"0009: page {doc_id}: image blob {old.name} is not the image "
                               "its row names")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp0009")
        tmp.write_bytes(vault.encrypt(data, aad=page_image_aad(doc_digest(doc_id), sha)))
        tmp.replace(target)
        legacy.add(sha)
    # The unbound copies go once every row that used them has its own; an original scan that
    # happens to have the same sha (a file ingested as a PNG page) is kept.
    originals = {sha for (sha,) in conn.execute(sa.text("SELECT sha256 FROM ingest_files"))}
    for sha in legacy - originals:
        store.path_for(sha).unlink(missing_ok=True)


def downgrade() -> None:
    raise RuntimeError("0009 cannot be undone: the old, unbound form is the weakness it removes")
