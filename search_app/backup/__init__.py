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

import shutil
import time
from pathlib import Path
from typing import Any

from flask import current_app

from search_app.backup._create import BackupReport, create_backup, key
from search_app.backup._files import BackupError, read_manifest
from search_app.backup._restore import RestoreReport, restore_backup

__all__ = ["BackupError", "create_backup", "restore_backup", "prune_backups", "verify_backup",
           "run_backup", "run_restore", "scheduled_backup"]


def verify_backup(src: Path) -> dict[str, Any]:
    """The manifest of a backup whose every file checks out (BackupError naming the one that
    does not)."""
    return read_manifest(Path(src), key())


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
