"""Checkpoints of the audit chain's head, kept where the database's writers cannot rewrite them.

The chain (audit.service) proves that no record was edited, removed from the middle or
reordered; it cannot prove on its own that the *end* is still there: someone who deletes the last
records, or all of them, and puts back a head row saved earlier leaves a consistent database.
So beat writes the head (seq, hash, time) every AUDIT_CHECKPOINT_MINUTES to two places outside
the database:

* an append-only file (AUDIT_CHECKPOINT_FILE, opened O_APPEND, mode 0600): one JSON line per
  checkpoint, each MACed with a key derived from the blind-index key and chained to the previous
  line's MAC, so an edited, removed or reordered line shows;
* the engine's own index (AUDIT_CHECKPOINT_INDEX), written with op_type=create only: a
  checkpoint is never overwritten, and the file and the index are checked against each other.

`verify_chain` then asks of every checkpoint: does the log still hold record `seq` with that
hash? A checkpoint that names a seq the log no longer reaches is a truncation.
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import current_app
from opensearchpy import NotFoundError, OpenSearch, helpers
from sqlalchemy.orm import Session

from search_app.audit.models import AuditHead
from search_app.audit.service import chain_key, head_problem
from search_app.search._backend import first_identity, index_body
from search_app.timeutil import utcnow

FIRST = "0" * 64  # `prev` of the first line


class CheckpointError(RuntimeError):
    """A checkpoint could not be written; the message says why."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    ts: str  # UTC, ISO 8601
    prev: str  # MAC of the previous checkpoint (FIRST for the first one)
    mac: str


@dataclass
class Loaded:
    checkpoints: list[Checkpoint]
    problems: list[str]


def checkpoint_key() -> bytes:
    return hmac.new(current_app.config["ARCHIVE_BLIND_INDEX_KEY"], b"audit-checkpoint-v1",
                    hashlib.sha256).digest()


def checkpoint_mac(key: bytes, seq: int, hash_: str, ts: str, prev: str) -> str:
    body = json.dumps([seq, hash_, ts, prev], separators=(",", ":")).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def engine() -> OpenSearch:
    """The client checkpoints are written and read with: the worker identity where the process
    has it (beat's task, the CLI), else the web one, which may only read them (the auditor's
    verify page). Nobody's role may delete a checkpoint (scripts/engine_security.py)."""
    return first_identity("worker", "admin", "web")


def _path() -> Path:
    return Path(current_app.config["AUDIT_CHECKPOINT_FILE"])


def _index() -> str:
    return current_app.config["AUDIT_CHECKPOINT_INDEX"]


def _last_line(fd: int) -> str:
    """The file's last non-empty line (read from the end, so the file may grow without limit)."""
    size = os.fstat(fd).st_size
    chunk, data = 4096, b""
    while size > 0:
        start = max(0, size - chunk)
        data = os.pread(fd, size - start, start) + data
        size = start
        lines = data.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or size == 0:
            return lines[-1].decode("utf-8", "replace")
    return ""


def write_checkpoint(session: Session) -> Checkpoint:
    """Checkpoint the current head: first in the engine (create-only), then a line in the file.

    A head that fails its MAC is not checkpointed (that would anchor the tampering): the
    caller's verification reports it instead."""
    key = chain_key()
    head = session.get(AuditHead, 1)
    if head is not None and head.mac is None and head.last_seq > 0:
        _seal_legacy_head(session, head, key)
    bad = head_problem(head, key)
    if bad:
        raise CheckpointError(f"链头不可信，未写入检查点：{bad}")
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # one writer at a time keeps the lines chained
        rfd = os.open(path, os.O_RDONLY)
        try:
            last = _last_line(rfd)
        finally:
            os.close(rfd)
        try:
            prev = json.loads(last)["mac"] if last else FIRST
        except (ValueError, KeyError, TypeError):
            raise CheckpointError(f"检查点文件 {path} 的最后一行无法解析，未写入检查点") from None
        ts = utcnow().isoformat(timespec="microseconds")
        cp = Checkpoint(head.last_seq, head.last_hash, ts, prev,
                        checkpoint_mac(checkpoint_key(), head.last_seq, head.last_hash, ts, prev))
        _index_checkpoint(cp)
        os.write(fd, (json.dumps(asdict(cp), separators=(",", ":")) + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    return cp


def _seal_legacy_head(session: Session, head: AuditHead, key: bytes) -> None:
    """A log written before migration 0006 has an unsealed head: seal it once, if the chain is
    intact and nothing was ever checkpointed. Once a checkpoint exists, an unsealed head means
    somebody removed the MAC, and it is refused."""
    from search_app.audit.service import head_mac, verify_chain

    if load_checkpoints().checkpoints:
        return  # head_problem refuses it: the MAC was removed after checkpoints began
    report = verify_chain(session, anchored=False)
    if not report.ok:
        raise CheckpointError("链头没有 MAC 且哈希链校验失败，未写入检查点：" + "；".join(report.problems[:3]))
    head.mac = head_mac(key, head.last_seq, head.last_hash)
    session.commit()


def _index_checkpoint(cp: Checkpoint) -> None:
    os_client = engine()
    if not os_client.indices.exists(index=_index()):
        body = index_body("audit_checkpoints", replicas=current_app.config["OPENSEARCH_REPLICAS"])
        os_client.indices.create(index=_index(), body=body, ignore=400)  # 400: another writer won
    os_client.create(index=_index(), id=cp.mac, body=asdict(cp), refresh="wait_for")


def _parse(raw: dict, where: str, key: bytes) -> tuple[Checkpoint | None, str | None]:
    try:
        cp = Checkpoint(int(raw["seq"]), str(raw["hash"]), str(raw["ts"]), str(raw["prev"]),
                        str(raw["mac"]))
    except (KeyError, TypeError, ValueError):
        return None, f"{where}: not a checkpoint (unreadable)"
    if not hmac.compare_digest(cp.mac, checkpoint_mac(key, cp.seq, cp.hash, cp.ts, cp.prev)):
        return None, f"{where}: does not match its MAC (the checkpoint was edited)"
    return cp, None


def _load_file(key: bytes) -> tuple[list[Checkpoint], list[str]]:
    path = _path()
    if not path.exists():
        return [], []
    out, problems, prev = [], [], FIRST
    with path.open(encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"checkpoint file {path} line {n}"
            try:
                raw = json.loads(line)
            except ValueError:
                problems.append(f"{where}: not a checkpoint (unreadable)")
                continue
            cp, problem = _parse(raw if isinstance(raw, dict) else {}, where, key)
            if problem:
                problems.append(problem)
                continue
            if cp.prev != prev:
                problems.append(f"{where}: does not follow the line before it (a checkpoint "
                                "was removed, inserted or reordered)")
            if out and cp.seq < out[-1].seq:
                problems.append(f"{where}: the chain shrank from seq {out[-1].seq} to {cp.seq} "
                                "between two checkpoints (records were removed)")
            out.append(cp)
            prev = cp.mac
    return out, problems


def _load_index(key: bytes) -> tuple[list[Checkpoint], list[str]]:
    os_client = engine()
    try:
        if not os_client.indices.exists(index=_index()):
            return [], []
        hits = list(helpers.scan(os_client, index=_index(), query={"query": {"match_all": {}}}))
    except NotFoundError:
        return [], []
    out, problems = [], []
    for hit in hits:
        cp, problem = _parse(hit.get("_source") or {}, f"checkpoint {hit['_id']} in index "
                                                       f"{_index()}", key)
        if problem:
            problems.append(problem)
        elif hit["_id"] != cp.mac:
            problems.append(f"checkpoint {hit['_id']} in index {_index()}: stored under another "
                            "checkpoint's id")
        else:
            out.append(cp)
    return sorted(out, key=lambda c: (c.seq, c.ts)), problems


def load_checkpoints() -> Loaded:
    """Every checkpoint of the file and the index, each proven by its MAC, and what is wrong
    with them: each place must hold every checkpoint the other holds (the engine is written
    first, so a file line missing from the index, or the reverse, means one was cut)."""
    key = checkpoint_key()
    in_file, problems = _load_file(key)
    try:
        in_index, index_problems = _load_index(key)
    except Exception as exc:  # the check must say it could not look, never pass silently
        return Loaded(in_file, [*problems, f"checkpoint index {_index()} could not be read "
                                           f"({type(exc).__name__}: {exc})"])
    problems += index_problems
    file_macs, index_macs = {c.mac for c in in_file}, {c.mac for c in in_index}
    for cp in in_index:
        if cp.mac not in file_macs:
            problems.append(f"checkpoint seq {cp.seq} of {cp.ts} is in index {_index()} but not "
                            f"in the checkpoint file {_path()} (the file was cut or replaced)")
    for cp in in_file:
        if cp.mac not in index_macs:
            problems.append(f"checkpoint seq {cp.seq} of {cp.ts} is in the checkpoint file but "
                            f"not in index {_index()} (it was deleted from the index)")
    merged = {c.mac: c for c in [*in_file, *in_index]}
    return Loaded(sorted(merged.values(), key=lambda c: (c.seq, c.ts)), problems)


def check_against_chain(checkpoints: list[Checkpoint], hashes: dict[int, str], *,
                        last_seq: int) -> list[str]:
    """Each checkpoint's (seq, hash) must still be in the log: `hashes` maps the seqs the
    checkpoints name to the hash the log holds for them; `last_seq` is where the log ends."""
    problems = []
    for cp in checkpoints:
        if cp.seq == 0:
            continue
        if cp.seq > last_seq:
            problems.append(f"checkpoint of {cp.ts} names seq {cp.seq}, but the log ends at seq "
                            f"{last_seq} (records were removed from the end, the head reset)")
        elif cp.seq not in hashes:
            problems.append(f"checkpoint of {cp.ts} names seq {cp.seq}, which is no longer in "
                            "the log (deleted)")
        elif hashes[cp.seq] != cp.hash:
            problems.append(f"checkpoint of {cp.ts} names seq {cp.seq} with hash "
                            f"{cp.hash[:12]}…, the log's record has {hashes[cp.seq][:12]}… "
                            "(the log was rewritten after the checkpoint)")
    return problems
