"""The audit checkpoints on restore: the file comes back from the backup (the replaced one kept
as evidence), and the create-only checkpoint index is made to hold exactly the backup's."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from flask import current_app

from search_app.backup._files import CHECKPOINT_FILE, BackupError


def restore_checkpoint_file(cfg, src: Path) -> Path | None:
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


def clear_checkpoint_index(client, src: Path) -> None:
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


def rebuild_checkpoint_index() -> None:
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
