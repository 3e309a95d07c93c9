"""Re-encrypt data written before per-file keys under its file's own data key (migration 0012).

What moves: page_secrets and page_versions (aad: the page id), the manifest row of each ingest
row (aad: its row id), page images (aad from their path) and original scans, which move from the
shared content-addressed path to the file's folder (blobs.py, files/<sha256(档号)>/). A
ciphertext already under a file key is left alone, so the pass is idempotent and an interrupted
upgrade is simply run again. A ciphertext that fails authentication stops the pass with its id:
nothing is guessed. Runs on a plain connection (alembic's), no ORM session.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from search_app.blobs import BlobStore, doc_digest, page_image_aad, write_owner_only
from search_app.crypto import Vault, key_id_of, vault_from_config
from search_app.keystore import FILE_KEY_PREFIX, file_of_doc


def _under_file_key(blob: bytes) -> bool:
    return key_id_of(blob).startswith(FILE_KEY_PREFIX)


def _rows(conn, table: str, aad_of: Callable[[Any], bytes], vault: Vault, *, pk: str,
          aad_col: str, owner_col: str, has_key_id: bool) -> int:
    done = 0
    rows = conn.execute(sa.text(f"SELECT {pk}, {aad_col}, {owner_col}, ciphertext FROM {table} "
                                "WHERE length(ciphertext) > 0")).all()
    for key, aad_value, owner, blob in rows:
        blob = bytes(blob)
        if not owner or _under_file_key(blob):
            continue
        own = vault.for_file(owner)
        new = own.encrypt(vault.decrypt(blob, aad=aad_of(aad_value)), aad=aad_of(aad_value))
        extra = ", key_id = :k" if has_key_id else ""
        conn.execute(sa.text(f"UPDATE {table} SET ciphertext = :c{extra} WHERE {pk} = :i"),
                     {"c": new, "k": own.current_key_id, "i": key})
        done += 1
    return done


def rewrap_existing(conn, settings: Mapping[str, Any]) -> dict[str, int]:
    """Counts of what was re-encrypted, by kind."""
    from search_app.ingest.service import meta_aad

    vault = vault_from_config(settings)
    if vault.keystore is None:
        raise RuntimeError("0012: KEY_STORE_DIR is not set; per-file keys need a key store")
    page_aad = lambda did: str(did).encode()  # noqa: E731
    out = {
        "page_secrets": _rows(conn, "page_secrets", page_aad, vault, pk="doc_id", aad_col="doc_id",
                              owner_col="archive_no", has_key_id=True),
        "page_versions": _rows(conn, "page_versions", page_aad, vault, pk="id", aad_col="doc_id",
                               owner_col="archive_no", has_key_id=True),
    }
    n = 0
    for file_id, owner, blob in conn.execute(sa.text(
            "SELECT id, archive_no, meta_ciphertext FROM ingest_files "
            "WHERE length(meta_ciphertext) > 0")).all():
        blob = bytes(blob)
        if owner and not _under_file_key(blob):
            plain = vault.decrypt(blob, aad=meta_aad(file_id))
            conn.execute(sa.text("UPDATE ingest_files SET meta_ciphertext = :c WHERE id = :i"),
                         {"c": vault.for_file(owner).encrypt(plain, aad=meta_aad(file_id)),
                          "i": file_id})
            n += 1
    out["ingest_files"] = n
    store = BlobStore(settings["BLOB_DIR"], vault)
    out["page_images"] = _images(conn, store, vault)
    out["originals"] = _originals(conn, store)
    return out


def _images(conn, store: BlobStore, vault: Vault) -> int:
    n = 0
    for doc_id, sha in conn.execute(sa.text(
            "SELECT doc_id, image_sha256 FROM page_secrets "
            "WHERE image_sha256 IS NOT NULL AND image_sha256 != ''")).all():
        path = store.page_image_path(doc_id, sha)
        if not path.exists():
            continue  # a missing image is reported by the page view, not guessed here
        blob = path.read_bytes()
        if _under_file_key(blob):
            continue
        aad = page_image_aad(doc_digest(doc_id), sha)
        new = vault.for_file(file_of_doc(doc_id)).encrypt(vault.decrypt(blob, aad=aad), aad=aad)
        tmp = path.with_suffix(".tmp0012")
        write_owner_only(tmp, new)
        tmp.replace(path)
        n += 1
    return n


def _originals(conn, store: BlobStore) -> int:
    """Each file gets its own copy of its scan under its key; the shared copy goes once every
    file that used it has one."""
    n = 0
    moved = set()
    pairs = set(conn.execute(sa.text("SELECT archive_no, sha256 FROM ingest_files "
                                     "WHERE sha256 != '' AND archive_no != ''")).all())
    for owner, sha in sorted(pairs):
        legacy = store.path_for(sha)
        if store.path_for(sha, owner).exists() or not legacy.exists():
            continue
        store.put(sha, store.get(sha), owner=owner)
        moved.add(sha)
        n += 1
    for sha in moved:
        store.path_for(sha).unlink(missing_ok=True)
    return n
