"""Backup and restore of one deployment: `flask backup DEST`, `flask restore SRC`, and the
scheduled backups beat runs (docs/operations.md, *Backup and restore*).

One set holds: the relational store (db/), the encrypted blob store (blobs/), an OpenSearch
snapshot of the alias's indices (opensearch/), the audit checkpoint file, and a MACed manifest
(versions, counts, the audit head, a sha256 per file). Keys are never in it: the data and
blind-index keys are escrowed apart from the backups (docs/operations.md, *Key escrow*); without
them a backup is ciphertext and keyed hashes.

Order, so the set is consistent: checkpoint the audit head, copy the checkpoint file, copy the
database, then the blobs (content-addressed and never deleted, so every blob the copied database
names is there) and the index last; a page indexed between the database copy and the snapshot
is the only possible difference, and the manifest's counts say whether there was one.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from search_app.backup import _database, _engine
from search_app.backup._files import (FORMAT, BackupError, checksums, copy_tree, manifest_key,
                                      read_manifest, write_manifest)

__all__ = ["BackupError", "create_backup", "restore_backup", "prune_backups", "verify_backup",
           "run_backup", "run_restore", "scheduled_backup"]
BLOBS_DIR = "blobs"
CHECKPOINT_FILE = "audit-checkpoints.log"


def _key() -> bytes:
    return manifest_key(current_app.config["ARCHIVE_BLIND_INDEX_KEY"])


def _counts(session: Session) -> dict[str, int]:
    from search_app.accounts.models import User
    from search_app.audit.models import AuditRecord
    from search_app.grants.models import Grant
    from search_app.ingest.models import IngestFile, PageSecret

    return {name: int(session.execute(select(func.count()).select_from(model)).scalar_one())
            for name, model in (("users", User), ("grants", Grant), ("audit_records", AuditRecord),
                                ("page_secrets", PageSecret), ("ingest_files", IngestFile))}


def _head(session: Session) -> dict[str, Any]:
    from search_app.audit.models import AuditHead

    head = session.get(AuditHead, 1)
    return {"seq": head.last_seq, "hash": head.last_hash} if head else {"seq": None, "hash": None}


def _read_db(url: str, fn):
    engine = create_engine(url)
    try:
        with Session(engine) as session:
            return fn(session)
    finally:
        engine.dispose()


def _revision(url: str) -> str:
    from sqlalchemy import text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    finally:
        engine.dispose()


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
        counts = _read_db(url, _counts)
        head = _read_db(url, _head)
        revision = _revision(url)
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
    write_manifest(dest, body, _key())
    return BackupReport(dest, body)


def verify_backup(src: Path) -> dict[str, Any]:
    """The manifest of a backup whose every file checks out (BackupError naming the one that
    does not)."""
    return read_manifest(Path(src), _key())


@dataclass
class RestoreReport:
    manifest: dict[str, Any]
    documents: int
    replaced_checkpoints: Path | None
    reapplied: list[str] = field(default_factory=list)  # 档号 destroyed again after the restore


def _target_problems(cfg, client, alias: str) -> list[str]:
    found = []
    if not _database.is_empty(cfg["DATABASE_URL"]):
        found.append("数据库中已有数据")
    blob_dir = Path(cfg["BLOB_DIR"])
    if blob_dir.is_dir() and any(p.is_file() for p in blob_dir.rglob("*")):
        found.append(f"加密文件库 {blob_dir} 非空")
    if not _engine.is_empty(client, alias):
        found.append(f"检索索引 {alias} 已存在")
    return found


def restore_backup(src: Path, *, force: bool = False) -> RestoreReport:
    """Check every file of the backup, check its audit chain, then replace the database, the
    blob store and the index with it; refuses a non-empty target unless `force`."""
    from search_app.audit.service import verify_chain
    from search_app.search._backend import admin, alias

    cfg = current_app.config
    src = Path(src)
    manifest = read_manifest(src, _key())
    client = admin()
    if manifest["keys"]["data_key_id"] not in {cfg["ARCHIVE_DATA_KEY_ID"],
                                               *cfg["ARCHIVE_DATA_OLD_KEYS"]}:
        raise BackupError(f"备份的数据密钥 {manifest['keys']['data_key_id']!r} 不在本进程的密钥中："
                          "请先从密钥托管处取回该密钥（ARCHIVE_DATA_OLD_KEYS）")
    if _database.dialect(cfg["DATABASE_URL"]) != manifest["database"]["dialect"]:
        raise BackupError(f"备份来自 {manifest['database']['dialect']} 数据库，目标是 "
                          f"{_database.dialect(cfg['DATABASE_URL'])}，无法直接恢复")
    if not manifest["audit"]["chain_ok"] and not force:
        raise BackupError("备份时审计哈希链已校验失败：" + "；".join(manifest["audit"]["problems"]))
    with tempfile.TemporaryDirectory() as scratch:
        staged = _database.staged_url(cfg["DATABASE_URL"], src, manifest["database"]["file"],
                                      Path(scratch))
        if staged:
            _check_staged_chain(staged, manifest)
    problems = _target_problems(cfg, client, alias())
    if problems and not force:
        raise BackupError("恢复目标非空（" + "；".join(problems) + "），拒绝覆盖；确认要替换请加 --force")
    _clear_checkpoint_index(client, src)
    _database.restore(cfg["DATABASE_URL"], src, manifest["database"]["file"])
    current_app.extensions["db_engine"].dispose()  # no pooled connection to the old database
    blob_dir = Path(cfg["BLOB_DIR"])
    if blob_dir.exists():
        shutil.rmtree(blob_dir)
    copy_tree(src / BLOBS_DIR, blob_dir)
    replaced = _restore_checkpoint_file(cfg, src)
    _engine.drop(client, alias(), manifest["engine"]["indices"])
    docs = _engine.restore(client, manifest["engine"], cfg["BACKUP_SNAPSHOT_DIR"], src)
    _rebuild_checkpoint_index()
    from search_app.db import fresh_session
    with fresh_session() as session:
        report = verify_chain(session)
    if not report.ok:
        raise BackupError("恢复后审计哈希链校验失败：" + "；".join(report.problems[:3]))
    return RestoreReport(manifest, docs, replaced)


def _check_staged_chain(url: str, manifest: dict[str, Any]) -> None:
    from search_app.audit.service import verify_chain

    report = _read_db(url, lambda s: verify_chain(s, anchored=False))
    head = _read_db(url, _head)
    if not report.ok:
        raise BackupError("备份中的审计哈希链校验失败：" + "；".join(report.problems[:3]))
    if head != manifest["audit"]["head"]:
        raise BackupError(f"备份数据库的审计链头 {head} 与清单记录的 {manifest['audit']['head']} 不符")


def _restore_checkpoint_file(cfg, src: Path) -> Path | None:
    """The backup's checkpoint file replaces the current one, which is kept beside it (it is
    the evidence of what the restore rolled back)."""
    live = Path(cfg["AUDIT_CHECKPOINT_FILE"])
    kept = None
    if live.exists():
        kept = live.with_name(f"{live.name}.before-restore-{time.strftime('%Y%m%d%H%M%S')}")
        os.replace(live, kept)
    if (src / CHECKPOINT_FILE).exists():
        live.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / CHECKPOINT_FILE, live)
        os.chmod(live, 0o600)
    return kept


def _clear_checkpoint_index(client, src: Path) -> None:
    """The checkpoint index must end up holding exactly the backup's checkpoints. Checkpoints
    written after the backup anchor records the restore rolls back: the index is removed if the
    admin identity may (the engine's production roles let nobody delete a checkpoint), else the
    restore stops before anything is replaced and says how to go on."""
    from opensearchpy import AuthorizationException

    from search_app.audit import checkpoints as cps

    key = cps.checkpoint_key()
    in_backup: set[str] = set()
    if (src / CHECKPOINT_FILE).exists():
        live = current_app.config["AUDIT_CHECKPOINT_FILE"]
        current_app.config["AUDIT_CHECKPOINT_FILE"] = str(src / CHECKPOINT_FILE)
        try:
            in_backup = {c.mac for c in cps._load_file(key)[0]}
        finally:
            current_app.config["AUDIT_CHECKPOINT_FILE"] = live
    in_index, _problems = cps._load_index(key)
    if {c.mac for c in in_index} <= in_backup:
        return
    try:
        client.indices.delete(index=cps._index(), ignore_unavailable=True)
    except AuthorizationException:
        raise BackupError(
            f"检查点索引 {cps._index()} 中有备份之后写入的检查点，本身份无权删除（检查点只增不删）；"
            "请将 AUDIT_CHECKPOINT_INDEX 设为新的索引名（旧索引留作被回滚记录的证据）后重新恢复") from None


def _rebuild_checkpoint_index() -> None:
    """Index every checkpoint of the restored file that the index lacks (create-only)."""
    from search_app.audit import checkpoints as cps

    key = cps.checkpoint_key()
    in_file, problems = cps._load_file(key)
    if problems:
        raise BackupError("恢复的检查点文件有误：" + "；".join(problems[:3]))
    have = {c.mac for c in cps._load_index(key)[0]}
    for cp in in_file:
        if cp.mac not in have:
            cps._index_checkpoint(cp)


def prune_backups(root: Path, keep: int) -> list[Path]:
    """Remove all but the newest `keep` complete backups under `root`; returns those removed.
    Only directories this code wrote (a manifest inside) are ever touched."""
    sets = sorted((p for p in Path(root).iterdir() if (p / "manifest.json").is_file()),
                  key=lambda p: p.name) if Path(root).is_dir() else []
    removed = sets[:-keep] if keep > 0 else []
    for path in removed:
        shutil.rmtree(path)
    return removed


def _audit(actor, action: str, outcome: str, reason: str = "", **filters) -> None:
    from search_app.audit.service import Event, record_event

    record_event(actor, Event(action=action, outcome=outcome, reason=reason[:500], filters=filters))


def run_backup(dest: Path, *, actor) -> BackupReport:
    """create_backup, audited: the record names the set and its audit head, or why it failed
    (the failed record is written, then the error goes on to the caller)."""
    from search_app.audit.actions import Action

    try:
        report = create_backup(dest)
    except Exception as exc:
        _audit(actor, Action.BACKUP_CREATE, "error", f"备份失败：{exc}", dest=str(dest))
        raise
    m = report.manifest
    _audit(actor, Action.BACKUP_CREATE, "allowed", dest=str(report.path), created=m["created"],
           audit_head_seq=m["audit"]["head"]["seq"], counts=m["counts"])
    return report


def run_restore(src: Path, *, force: bool, actor) -> RestoreReport:
    """restore_backup, audited. The record of a restore is appended to the restored chain, so
    the chain itself says when it was rolled back to which backup."""
    from search_app.audit.actions import Action

    try:
        report = restore_backup(src, force=force)
    except Exception as exc:
        _audit(actor, Action.BACKUP_RESTORE, "error", f"恢复失败：{exc}", src=str(src), force=force)
        raise
    m = report.manifest
    _audit(actor, Action.BACKUP_RESTORE, "allowed", src=str(src), force=force,
           created=m["created"], audit_head_seq=m["audit"]["head"]["seq"],
           replaced_checkpoints=str(report.replaced_checkpoints or ""))
    # Files destroyed after this backup was taken stay destroyed: the key store (never in a
    # backup) keeps their tombstones, and their restored index documents, rows and blobs go.
    from search_app.db import get_session
    from search_app.retention.services import reapply_destructions

    report.reapplied = reapply_destructions(get_session(), actor)
    return report


def scheduled_backup() -> dict[str, Any]:
    """What beat runs: a new set under BACKUP_DIR named by its UTC time, then the oldest sets
    beyond BACKUP_KEEP are removed."""
    from search_app.audit.service import Actor

    cfg = current_app.config
    root = Path(cfg["BACKUP_DIR"])
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    report = run_backup(root / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
                        actor=Actor(None, "system", "system"))
    removed = prune_backups(root, cfg["BACKUP_KEEP"])
    return {"path": str(report.path), "removed": [p.name for p in removed]}
