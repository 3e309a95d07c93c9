"""The backup set on disk: checksummed files and a MACed manifest.

Why a MAC and not only checksums: whoever can edit a backup can also rewrite its checksum list;
the manifest's HMAC (a key derived from ARCHIVE_BLIND_INDEX_KEY, which is escrowed and never in
the backup) lets `flask restore` tell a backup this deployment wrote from one edited afterwards.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
MANIFEST_MAC = "manifest.mac"
FORMAT = 1
BLOBS_DIR = "blobs"
CHECKPOINT_FILE = "audit-checkpoints.log"


class BackupError(RuntimeError):
    """The backup could not be written or restored; the message (Chinese) says why."""


def manifest_key(blind_index_key: bytes) -> bytes:
    return hmac.new(blind_index_key, b"backup-manifest-v1", hashlib.sha256).digest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def list_files(root: Path) -> list[str]:
    """Every regular file under `root`, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def checksums(root: Path, *, skip: tuple[str, ...] = (MANIFEST, MANIFEST_MAC)) -> dict[str, str]:
    return {rel: sha256_file(root / rel) for rel in list_files(root) if rel not in skip}


def owner_only(root: Path) -> None:
    """Every folder of a backup set 0700 and every file 0600, whatever the umask and whatever
    modes the copies brought along (the engine's snapshot files are written by OpenSearch, and
    mkdir(parents=True) gives intermediate folders the umask's mode). A backup holds the whole
    database: nobody but its owner may even list it."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


def copy_tree(src: Path, dst: Path, *, skip_suffix: tuple[str, ...] = ()) -> int:
    """Copy the regular files of `src` into `dst` (created 0700); returns the number copied."""
    n = 0
    dst.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not src.is_dir():
        return 0
    for path in sorted(src.rglob("*")):
        if not path.is_file() or any(s in path.name for s in skip_suffix):
            continue
        target = dst / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(path, target)
        n += 1
    return n


def write_manifest(root: Path, body: dict[str, Any], key: bytes) -> None:
    raw = json.dumps(body, ensure_ascii=False, sort_keys=True, indent=1).encode()
    (root / MANIFEST).write_bytes(raw)
    (root / MANIFEST_MAC).write_text(hmac.new(key, raw, hashlib.sha256).hexdigest() + "\n")
    for name in (MANIFEST, MANIFEST_MAC):
        os.chmod(root / name, 0o600)


def read_manifest(root: Path, key: bytes) -> dict[str, Any]:
    """The manifest, if its MAC holds and every file it lists is present and unchanged, with no
    file it does not list; BackupError naming the first file that is wrong otherwise."""
    if not root.is_dir():
        raise BackupError(f"备份目录 {root} 不存在")
    try:
        raw = (root / MANIFEST).read_bytes()
        mac = (root / MANIFEST_MAC).read_text().strip()
    except FileNotFoundError as exc:
        raise BackupError(f"备份不完整：缺少文件 {Path(exc.filename).name}") from None
    if not hmac.compare_digest(mac, hmac.new(key, raw, hashlib.sha256).hexdigest()):
        raise BackupError(f"备份清单 {MANIFEST} 未通过完整性校验（被修改，或不是以本系统的密钥写出的备份）")
    body = json.loads(raw)
    if body.get("format") != FORMAT:
        raise BackupError(f"备份格式 {body.get('format')!r} 不受支持（本版本读取格式 {FORMAT}）")
    listed: dict[str, str] = body["checksums"]
    for rel, want in sorted(listed.items()):
        path = root / rel
        if not path.is_file():
            raise BackupError(f"备份不完整：缺少文件 {rel}")
        if sha256_file(path) != want:
            raise BackupError(f"备份文件 {rel} 的校验和不符（文件已损坏或被修改）")
    extra = sorted(set(list_files(root)) - set(listed) - {MANIFEST, MANIFEST_MAC})
    if extra:
        raise BackupError(f"备份中有清单未列出的文件 {extra[0]}（共 {len(extra)} 个），拒绝恢复")
    return body
