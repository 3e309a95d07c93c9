"""Destroying one file: crypto-shred its key, then remove every trace the app can reach.

Order, and why: the file's data key goes first (keystore.destroy: tombstone, then the key file),
so from that moment every ciphertext of the file, here and in every backup, is unreadable even
if a later step fails. Then the index documents (pages and the file-level document, through the
worker's engine identity: an index write, never the user read path), every database row keyed
by the file, the blobs and the readers' session caches. Every step is idempotent, so a failed
execution is simply run again, and `reapply_destructions` runs the same steps after a restore.

Rows keyed by the file are found generically: every table (reflected from the database, so a
table added by a later migration is covered without a change here) with an `archive_no` column,
and every table with a `doc_id` column holding the file's page ids. Kept: the destruction
register. ingest_files rows stay as job history with their manifest row, path and hash blanked.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from opensearchpy import helpers
from sqlalchemy.orm import Session

from indexer.vocab import PAGE_SEP
from search_app.blobs import BlobStore, doc_digest
from search_app.crypto import vault_from_config
from search_app.keystore import KeyStore

KEEP = frozenset({"destruction_register", "ingest_files", "alembic_version"})
MAX_DELETE = 1000


@dataclass
class Shredded:
    archive_no: str
    key_destroyed: bool = False
    index_docs: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    blob_files: int = 0


def keystore() -> KeyStore:
    store = vault_from_config(current_app.config).keystore
    if store is None:
        raise RuntimeError("KEY_STORE_DIR 未配置：无法按文件销毁密钥")
    return store


def _like_prefix(archive_no: str) -> str:
    escaped = archive_no.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + PAGE_SEP + "%"


def delete_index_documents(archive_no: str) -> int:
    """Pages and the file-level document of the file, found by query and deleted in bulk
    (the minimal distribution has no _delete_by_query); raises if one cannot be deleted."""
    from search_app.search._backend import alias, writer

    client, index, gone = writer(), alias(), 0
    client.indices.refresh(index=index)
    while True:
        found = client.search(index=index, size=MAX_DELETE, _source=False, body={
            "query": {"term": {"archive_no": archive_no}}})
        hits = [(h["_index"], h["_id"]) for h in found["hits"]["hits"]]
        if not hits:
            return gone
        _, errors = helpers.bulk(client, ({"_op_type": "delete", "_index": i, "_id": d}
                                          for i, d in hits), raise_on_error=False)
        real = [e for e in errors if e.get("delete", {}).get("status") != 404]
        if real:
            raise RuntimeError(f"{archive_no} 的 {len(real)} 个索引文档未能删除：{real[:3]}")
        gone += len(hits)
        client.indices.refresh(index=index)


def _doc_ids(conn, tables: dict[str, set[str]], archive_no: str) -> set[str]:
    ids: set[str] = set()
    for table, cols in tables.items():
        if "doc_id" in cols and "archive_no" in cols:
            ids |= set(conn.execute(sa.text(f'SELECT doc_id FROM "{table}" WHERE archive_no = :a'),
                                    {"a": archive_no}).scalars())
    return ids


def delete_rows(session: Session, archive_no: str) -> tuple[dict[str, int], set[str], set[str]]:
    """(rows deleted by table, the file's page ids, the scan hashes it used)."""
    conn = session.connection()
    inspector = sa.inspect(conn)
    tables = {t: {c["name"] for c in inspector.get_columns(t)} for t in inspector.get_table_names()}
    doc_ids = _doc_ids(conn, tables, archive_no)
    files = conn.execute(sa.text("SELECT id, sha256 FROM ingest_files WHERE archive_no = :a"),
                         {"a": archive_no}).all()
    shas = {sha for _i, sha in files if sha}
    counts: dict[str, int] = {}
    for table, cols in sorted(tables.items()):
        if table in KEEP:
            continue
        if "archive_no" in cols:
            n = conn.execute(sa.text(f'DELETE FROM "{table}" WHERE archive_no = :a'),
                             {"a": archive_no}).rowcount
        elif "doc_id" in cols:
            n = conn.execute(sa.text(f'DELETE FROM "{table}" WHERE doc_id LIKE :p ESCAPE \'\\\''),
                             {"p": _like_prefix(archive_no)}).rowcount
        else:
            continue
        if n:
            counts[table] = n
    ids = [i for i, _s in files]
    if ids:
        params = {f"i{n}": v for n, v in enumerate(ids)}
        marks = ", ".join(f":i{n}" for n in range(len(ids)))
        counts["ingest_pages"] = conn.execute(sa.text(
            f"DELETE FROM ingest_pages WHERE file_id IN ({marks})"), params).rowcount
        conn.execute(sa.text(
            f"UPDATE ingest_files SET meta_ciphertext = :e, path = '', sha256 = '', "
            f"note = '已鉴定销毁' WHERE id IN ({marks})"), {"e": b"", **params})
        counts["ingest_files (blanked)"] = len(ids)
    session.flush()
    return counts, doc_ids, shas


def delete_blobs(archive_no: str, doc_ids: set[str], shas: set[str], session: Session) -> int:
    store = BlobStore(current_app.config["BLOB_DIR"], vault_from_config(current_app.config))
    n = 0
    targets = [store.path_for("x" * 64, archive_no).parent]
    targets += [store.page_image_path(d, "x" * 64).parent for d in doc_ids]
    for folder in targets:
        if folder.is_dir():
            n += sum(1 for p in folder.iterdir() if p.is_file())
            shutil.rmtree(folder)
    # a legacy shared copy of the scan (before 0012), unless another file still names it
    for sha in shas:
        others = session.execute(sa.text("SELECT count(*) FROM ingest_files WHERE sha256 = :s"),
                                 {"s": sha}).scalar_one()
        legacy = store.path_for(sha)
        if not others and legacy.exists():
            legacy.unlink()
            n += 1
    return n


def drop_reading_caches(session: Session) -> None:
    """Open sessions may have cached (masked) views of the file: drop them all."""
    from search_app.reading import cache

    for (sid,) in session.execute(sa.text("SELECT id FROM reading_sessions WHERE closed_at IS NULL")):
        cache.drop(sid)


def shred_file(session: Session, archive_no: str, record: dict[str, Any]) -> Shredded:
    """All the steps for one file; the caller commits (and records the register row)."""
    out = Shredded(archive_no)
    out.key_destroyed = keystore().destroy(archive_no, record)
    out.index_docs = delete_index_documents(archive_no)
    out.rows, doc_ids, shas = delete_rows(session, archive_no)
    out.blob_files = delete_blobs(archive_no, doc_ids, shas, session)
    drop_reading_caches(session)
    return out


def key_store_path() -> Path:
    return Path(current_app.config["KEY_STORE_DIR"])
