"""Writing one backup set (the order that keeps it consistent is in the package docstring)."""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import current_app

from search_app.backup import _database, _engine
from search_app.backup._files import (BLOBS_DIR, CHECKPOINT_FILE, FORMAT, BackupError, checksums,
                                      copy_tree, manifest_key, owner_only, write_manifest)


def key() -> bytes:
    """This deployment's manifest key (from ARCHIVE_BLIND_INDEX_KEY, never in a backup)."""
    return manifest_key(current_app.config["ARCHIVE_BLIND_INDEX_KEY"])


@dataclass
class BackupReport:
    path: Path
    manifest: dict[str, Any]


def create_backup(dest: Path) -> BackupReport:
    """Write one backup set into `dest` (a new or empty directory)."""
    from search_app.audit.checkpoints import write_checkpoint
    from search_app.audit.service import verify_chain
    from search_app.db import fresh_session
    from search_app.search._backend import admin, alias

    cfg = current_app.config
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"备份目标 {dest} 不是空目录，拒绝覆盖")
    client = admin()  # before any copying: a process without the admin identity stops here
    dest.mkdir(parents=True, exist_ok=True, mode=0o700)
    owner_only(dest)  # an empty folder the operator made (0755) is closed before anything is in it
    started = time.time()
    with fresh_session() as session:
        chain = verify_chain(session)
        if chain.ok:
            write_checkpoint(session)  # the head at backup time, anchored outside the database
    cp_file = Path(cfg["AUDIT_CHECKPOINT_FILE"])
    if cp_file.exists():
        shutil.copy2(cp_file, dest / CHECKPOINT_FILE)
    db_file = _database.dump(cfg["DATABASE_URL"], dest)
    staged = dest / db_file
    with tempfile.TemporaryDirectory() as scratch:
        url = _database.staged_url(cfg["DATABASE_URL"], dest, db_file, Path(scratch))
        url = url or cfg["DATABASE_URL"]  # PostgreSQL: pg_dump's snapshot, counted live
        counts = _database.read_db(url, _database.counts)
        head = _database.read_db(url, _database.audit_head)
        revision = _database.revision(url)
    blobs = copy_tree(Path(cfg["BLOB_DIR"]), dest / BLOBS_DIR, skip_suffix=(".tmp",))
    engine_info = _engine.snapshot(client, alias(), cfg["BACKUP_SNAPSHOT_DIR"], dest)
    body = {
        "format": FORMAT, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "seconds": round(time.time() - started, 2),
        "database": {"dialect": _database.dialect(cfg["DATABASE_URL"]), "file": db_file,
                     "alembic_revision": revision, "size": staged.stat().st_size},
        "counts": {**counts, "blobs": blobs, "index_documents": engine_info["documents"]},
        "audit": {"head": head, "chain_ok": chain.ok, "problems": chain.problems[:5],
                  "checkpoint_file": (dest / CHECKPOINT_FILE).exists()},
        "engine": engine_info,
        "keys": {"data_key_id": cfg["ARCHIVE_DATA_KEY_ID"],
                 "old_key_ids": sorted(cfg["ARCHIVE_DATA_OLD_KEYS"]),
                 "note": "keys are not in this backup: restore needs the escrowed keys"},
        "checksums": checksums(dest),
    }
    write_manifest(dest, body, key())
    owner_only(dest)
    return BackupReport(dest, body)
