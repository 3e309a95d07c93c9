"""Restoring one backup set: every file and the audit chain checked before anything is replaced."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import current_app

from search_app.backup import _database, _engine
from search_app.backup._checkpoints import (clear_checkpoint_index, rebuild_checkpoint_index,
                                            restore_checkpoint_file)
from search_app.backup._create import key
from search_app.backup._files import BLOBS_DIR, BackupError, copy_tree, read_manifest


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
    manifest = read_manifest(src, key())
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
    clear_checkpoint_index(client, src)
    _database.restore(cfg["DATABASE_URL"], src, manifest["database"]["file"])
    current_app.extensions["db_engine"].dispose()  # no pooled connection to the old database
    blob_dir = Path(cfg["BLOB_DIR"])
    if blob_dir.exists():
        shutil.rmtree(blob_dir)
    copy_tree(src / BLOBS_DIR, blob_dir)
    replaced = restore_checkpoint_file(cfg, src)
    _engine.drop(client, alias(), manifest["engine"]["indices"])
    docs = _engine.restore(client, manifest["engine"], cfg["BACKUP_SNAPSHOT_DIR"], src)
    rebuild_checkpoint_index()
    from search_app.db import fresh_session
    with fresh_session() as session:
        report = verify_chain(session)
    if not report.ok:
        raise BackupError("恢复后审计哈希链校验失败：" + "；".join(report.problems[:3]))
    return RestoreReport(manifest, docs, replaced)


def _check_staged_chain(url: str, manifest: dict[str, Any]) -> None:
    from search_app.audit.service import verify_chain

    report = _database.read_db(url, lambda s: verify_chain(s, anchored=False))
    head = _database.read_db(url, _database.audit_head)
    if not report.ok:
        raise BackupError("备份中的审计哈希链校验失败：" + "；".join(report.problems[:3]))
    if head != manifest["audit"]["head"]:
        raise BackupError(f"备份数据库的审计链头 {head} 与清单记录的 {manifest['audit']['head']} 不符")
