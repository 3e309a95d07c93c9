"""The search index into and out of a backup, as an OpenSearch snapshot.

The engine can only write a snapshot into a directory listed in its `path.repo`
(scripts/opensearch.sh sets it; BACKUP_SNAPSHOT_DIR is the same directory as this process sees
it). Each backup registers a repository of its own under that directory, snapshots the indices
behind the alias (with the alias), copies the repository's files into the backup set, and then
unregisters and removes it, so the engine's disk never holds more than the backup in flight.
Restoring copies the files back, registers them read-only and restores.

The audit checkpoint index is not in the snapshot: it is rebuilt from the backup's copy of the
checkpoint file, so the file and the index agree after a restore (audit.checkpoints checks that).
The index holds only redacted text and keyed hashes (DESIGN 1), so neither does the snapshot.
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from opensearchpy import OpenSearch

from search_app.backup._files import BackupError, copy_tree

ENGINE_DIR = "opensearch"
SNAPSHOT = "archive"


def _repo_dir(snapshot_root: str, name: str) -> Path:
    if not snapshot_root:
        raise BackupError("未设置 BACKUP_SNAPSHOT_DIR（检索引擎 path.repo 所指目录），无法生成快照；"
                          "scripts/opensearch.sh 会将其写入 var/local.env")
    root = Path(snapshot_root)
    if not root.is_dir():
        raise BackupError(f"快照目录 {root} 不存在或本进程无法访问（须与检索引擎的 path.repo 为同一目录）")
    return root / name


def _hand_to_engine(path: Path, root: Path) -> None:
    """Files we copied into the repository must be readable by the engine's own OS user: when we
    run as root, give them to the owner of the snapshot root (the engine's user)."""
    if os.geteuid() != 0:
        return
    st = root.stat()
    for p in [path, *path.rglob("*")]:
        os.chown(p, st.st_uid, st.st_gid)


def indices_behind(client: OpenSearch, alias: str) -> list[str]:
    if not client.indices.exists_alias(index=alias, name=alias):
        return []
    return sorted(client.indices.get_alias(index=alias, name=alias))


def snapshot(client: OpenSearch, alias: str, snapshot_root: str, dest: Path) -> dict:
    """Snapshot the alias's indices into `dest/opensearch`; returns what the manifest records."""
    indices = indices_behind(client, alias)
    if not indices:
        raise BackupError(f"检索索引 {alias} 不存在，无法生成快照")
    name = f"archive-backup-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
    repo = _repo_dir(snapshot_root, name)
    client.snapshot.create_repository(repository=name, body={
        "type": "fs", "settings": {"location": str(repo), "compress": True}})
    try:
        result = client.snapshot.create(repository=name, snapshot=SNAPSHOT, body={
            "indices": ",".join(indices), "include_global_state": False,
            "ignore_unavailable": False, "partial": False}, wait_for_completion=True,
            request_timeout=3600)
        info = result.get("snapshot", {})
        if info.get("state") != "SUCCESS" or info.get("shards", {}).get("failed"):
            raise BackupError(f"检索索引快照未完成：状态 {info.get('state')}，"
                              f"失败分片 {info.get('shards', {}).get('failed')}")
        copied = copy_tree(repo, dest / ENGINE_DIR)
    finally:
        client.snapshot.delete_repository(repository=name, ignore=404)
        shutil.rmtree(repo, ignore_errors=True)
    docs = sum(int(client.count(index=i)["count"]) for i in indices)
    return {"indices": indices, "alias": alias, "documents": docs, "files": copied,
            "version": client.info()["version"]["number"]}


def is_empty(client: OpenSearch, alias: str) -> bool:
    return not indices_behind(client, alias)


def drop(client: OpenSearch, alias: str, indices: list[str]) -> None:
    """Remove what a forced restore replaces: the alias's indices and any index of the
    backup's names (restore refuses to overwrite an open index)."""
    for name in sorted(set(indices_behind(client, alias)) | set(indices)):
        client.indices.delete(index=name, ignore_unavailable=True)


def restore(client: OpenSearch, info: dict, snapshot_root: str, src: Path) -> int:
    """Restore the backup's snapshot (indices and alias); returns the document count."""
    name = f"archive-restore-{time.strftime('%Y%m%d%H%M%S')}-{os.getpid()}"
    repo = _repo_dir(snapshot_root, name)
    copy_tree(src / ENGINE_DIR, repo)
    _hand_to_engine(repo, Path(snapshot_root))
    client.snapshot.create_repository(repository=name, body={
        "type": "fs", "settings": {"location": str(repo), "readonly": True}})
    try:
        client.snapshot.restore(repository=name, snapshot=SNAPSHOT, body={
            "indices": ",".join(info["indices"]), "include_aliases": True,
            "include_global_state": False}, wait_for_completion=True, request_timeout=3600)
    finally:
        client.snapshot.delete_repository(repository=name, ignore=404)
        shutil.rmtree(repo, ignore_errors=True)
    for index in info["indices"]:
        client.cluster.health(index=index, wait_for_status="yellow", request_timeout=60)
    client.indices.refresh(index=",".join(info["indices"]))
    return sum(int(client.count(index=i)["count"]) for i in info["indices"])
