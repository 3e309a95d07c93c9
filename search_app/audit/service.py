"""The one way to write the audit log, and the check that it was never altered.

Every record is committed before the caller may return data (fail closed: if the commit fails,
`record_event` raises and the read is refused). A read's record commits in a transaction of its
own, shared with the records of reads running at the same moment (audit.writer: group commit,
one durable flush for all of them). Records are
hash-chained: hash = HMAC-SHA256(chain key, prev_hash || canonical JSON of the record), so any
edit, deletion, reordering or truncation shows up in `verify_chain`. The chain key is derived
from a key held outside the database, so someone who can write to the database cannot recompute
a consistent chain after an edit.

Truncation: the head row carries a MAC over (seq, hash), so it cannot be pointed at an earlier
record by hand; a head row saved earlier and put back, or the whole log deleted with the head
reset, is caught by the checkpoints that beat writes outside the database (audit.checkpoints):
`verify_chain` checks every checkpoint against the chain.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, request
from flask_login import current_user
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from search_app.audit.actions import check_action
from search_app.audit.models import AuditHead, AuditRecord
from search_app.ops import count_audit
from search_app.audit.redaction import scrub
from search_app.audit.writer import writer
from search_app.db import fresh_session
from search_app.timeutil import utcnow
from search_app.audit.actions import Action

GENESIS = "0" * 64
_HASHED = ("seq", "ts", "user_id", "username", "role", "action", "outcome", "reason", "purpose",
           "approval_ref", "grant_id", "query", "filters", "result_count", "returned_ids",
           "client_addr")


class AuditWriteError(RuntimeError):
    """The audit record could not be committed; the operation it guarded must not proceed."""


@dataclass
class Actor:
    user_id: int | None
    username: str
    role: str
    client_addr: str = ""


def client_addr() -> str:
    """The requester's address (behind a proxy, as ProxyFix resolved it with PROXY_HOPS)."""
    return request.remote_addr or ""


def request_actor() -> Actor:
    """The signed-in user of the current request, as the audit log names them."""
    return Actor(current_user.id, current_user.username, current_user.role, client_addr())


@dataclass
class Event:
    """What happened. Free text may be passed as typed: record_event masks it before storing
    (query, purpose, reason, every string in filters) and adds filters["pii_hmacs"]."""

    action: str
    outcome: str
    reason: str = ""
    purpose: str = ""
    approval_ref: str = ""
    grant_id: int | None = None
    query: str = ""
    filters: dict[str, Any] = field(default_factory=dict)
    result_count: int | None = None
    returned_ids: list[str] = field(default_factory=list)


def _canonical(values: dict[str, Any]) -> bytes:
    def default(o: Any) -> str:
        if isinstance(o, datetime):
            return o.isoformat(timespec="microseconds")
        raise TypeError(type(o))
    return json.dumps(values, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                      default=default).encode()


def chain_key() -> bytes:
    return hmac.new(current_app.config["ARCHIVE_BLIND_INDEX_KEY"], b"audit-chain-v1",
                    hashlib.sha256).digest()


def record_hash(prev_hash: str, values: dict[str, Any], key: bytes) -> str:
    return hmac.new(key, prev_hash.encode() + _canonical(values), hashlib.sha256).hexdigest()


def head_mac(key: bytes, seq: int, last_hash: str) -> str:
    """The head's seal: without the key, nobody can point the head at another (seq, hash)."""
    return hmac.new(key, f"audit-head:{seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


def head_problem(head: AuditHead | None, key: bytes) -> str | None:
    """Why this head row cannot be trusted, or None. An unsealed head is only acceptable at
    seq 0 (a new log), or right after migration 0006 until the next record seals it."""
    if head is None:
        return "the chain head row is missing (deleted)"
    if head.mac is None:
        if head.last_seq == 0 and head.last_hash == GENESIS:
            return None
        return (f"chain head (seq {head.last_seq}) carries no MAC: it was reset by hand, or no "
                "record has been written since migration 0006")
    if not hmac.compare_digest(head.mac, head_mac(key, head.last_seq, head.last_hash)):
        return (f"chain head (seq {head.last_seq}) does not match its MAC: it was rewritten "
                "outside the application")
    return None


def _values(rec: AuditRecord) -> dict[str, Any]:
    return {name: getattr(rec, name) for name in _HASHED}


def record_event(actor: Actor, event: Event, *, session: Session | None = None) -> AuditRecord:
    """Append one record to the chain and commit it; raise AuditWriteError if that fails.

    Reads pass no session: the record is committed on its own before any data is returned.
    Changes (grants, users) pass the session that holds the change, so the change and its record
    commit together or not at all; the caller commits. Free text is masked first (query,
    purpose, reason, strings in filters), each value kept only as a keyed hash (audit.redaction).
    """
    try:
        event = scrub(event)
    except Exception as exc:  # an unmasked record must not be written instead
        raise AuditWriteError(f"audit record could not be masked: {exc}") from exc
    if session is not None:
        try:
            return _append(session, actor, event, commit=False)
        except AuditWriteError:
            raise
        except Exception as exc:
            raise AuditWriteError(f"audit record could not be written: {exc}") from exc
    try:
        check_action(event.action)  # a bug in this request: refuse it before it joins a batch
        return writer().submit(actor, event, _write_batch)
    except AuditWriteError:
        raise
    except Exception as exc:
        raise AuditWriteError(f"audit record could not be written: {exc}") from exc


def _write_batch(items: Sequence[tuple[Actor, Event]]) -> list[AuditRecord]:
    """Commit `items` as consecutive records in one transaction of their own (audit.writer)."""
    with fresh_session() as own:
        recs = _append_many(own, items)
        own.commit()
    for rec in recs:
        count_audit(rec.action, rec.outcome)
    return recs


_RECORDS, _HEAD = AuditRecord.__table__, AuditHead.__table__


def lock_chain(session: Session):
    """Take the chain head's write lock in `session` (held until it commits or rolls back) and
    return the head's (last_seq, last_hash). Every writer takes it first, so this serialises
    concurrent writers on both SQLite and PostgreSQL; RETURNING reads the head in the same
    statement (one round trip, not two)."""
    return session.connection().execute(
        update(_HEAD).where(_HEAD.c.id == 1).values(last_seq=_HEAD.c.last_seq)
        .returning(_HEAD.c.last_seq, _HEAD.c.last_hash)).first()


def _append(session: Session, actor: Actor, event: Event, *, commit: bool) -> AuditRecord:
    rec = _append_many(session, [(actor, event)])[0]
    if commit:
        session.commit()
    count_audit(rec.action, rec.outcome)
    return rec


def _append_many(session: Session, items: Sequence[tuple[Actor, Event]]) -> list[AuditRecord]:
    """Chain `items` after the head in `session`'s transaction (the caller commits): the head's
    lock and read (one UPDATE … RETURNING), one multi-row INSERT … RETURNING id, one head update.
    Core statements, not the ORM's unit of work: it cost more CPU than the statements."""
    for _actor, event in items:
        check_action(event.action)  # an undeclared name is a bug: refuse before anything is written
    session.flush()  # the caller's change first, then the chain lock: the order the ORM had
    head = lock_chain(session)
    if head is None:  # migration 0001 creates the head; its absence means tampering
        raise AuditWriteError("audit chain head is missing; run `flask audit-verify`")
    key = chain_key()
    seq, prev, rows = head.last_seq, head.last_hash, []
    for actor, event in items:
        seq += 1
        row = dict(
            seq=seq, ts=utcnow(), user_id=actor.user_id, username=actor.username,
            role=actor.role, client_addr=actor.client_addr, action=event.action,
            outcome=event.outcome, reason=event.reason, purpose=event.purpose,
            approval_ref=event.approval_ref, grant_id=event.grant_id, query=event.query,
            # round-tripped now so the hash covers exactly what the database will return
            filters=json.loads(_canonical(event.filters or {})), result_count=event.result_count,
            returned_ids=list(event.returned_ids), prev_hash=prev)
        row["hash"] = prev = record_hash(prev, {k: row[k] for k in _HASHED}, key)
        rows.append(row)
    conn = session.connection()
    ids = conn.execute(insert(_RECORDS).returning(_RECORDS.c.id, sort_by_parameter_order=True),
                       rows).scalars().all()
    conn.execute(update(_HEAD).where(_HEAD.c.id == 1)
                 .values(last_seq=seq, last_hash=prev, mac=head_mac(key, seq, prev)))
    return [AuditRecord(id=i, **row) for i, row in zip(ids, rows)]


@dataclass
class ChainReport:
    ok: bool
    records: int
    problems: list[str]
    checkpoints: int = 0


def verify_chain(session: Session, *, limit_problems: int = 20,
                 anchored: bool = True) -> ChainReport:
    """Recompute the chain in seq order; report every break, naming the record. `anchored`
    also checks the head's MAC and every checkpoint kept outside the database against the
    chain, so a truncated log whose head was reset to match is reported too."""
    from search_app.audit import checkpoints as cps

    problems: list[str] = []
    key = chain_key()
    anchors = cps.load_checkpoints() if anchored else cps.Loaded([], [])
    wanted = {cp.seq for cp in anchors.checkpoints}
    seen: dict[int, str] = {}
    prev_hash, expected_seq, count, max_seq = GENESIS, 1, 0, 0
    rows: Iterable[AuditRecord] = session.execute(
        select(AuditRecord).order_by(AuditRecord.id)).scalars()
    for rec in rows:
        count, max_seq = count + 1, max(max_seq, rec.seq)
        if rec.seq in wanted:
            seen[rec.seq] = rec.hash
        if len(problems) < limit_problems:  # past the limit, keep what the checkpoints need
            if rec.seq != expected_seq:
                problems.append(f"record id={rec.id}: seq {rec.seq}, expected {expected_seq} "
                                "(a record was deleted or the rows were reordered)")
            if rec.prev_hash != prev_hash:
                problems.append(f"record seq={rec.seq}: prev_hash does not match the previous record")
            if record_hash(rec.prev_hash, _values(rec), key) != rec.hash:
                problems.append(f"record seq={rec.seq}: content does not match its hash (edited)")
        prev_hash, expected_seq = rec.hash, rec.seq + 1
    head = session.get(AuditHead, 1)
    if head is None:
        problems.append("the chain head row is missing (deleted)")
    else:
        if head.last_seq != expected_seq - 1 or head.last_hash != prev_hash:
            problems.append(f"chain head says seq {head.last_seq} but the log ends at seq "
                            f"{expected_seq - 1} (records were removed from the end)")
        if anchored:
            bad_head = head_problem(head, key)
            if bad_head:
                problems.append(bad_head)
    if anchored:
        problems.extend(anchors.problems)
        problems.extend(cps.check_against_chain(anchors.checkpoints, seen, last_seq=max_seq))
    return ChainReport(ok=not problems, records=count, problems=problems,
                       checkpoints=len(anchors.checkpoints))


def verify_and_alert(session: Session) -> ChainReport:
    """The scheduled check (Celery beat): a broken chain raises an alert record, which the
    auditor's anomaly view lists. The alert is itself chained after the current head."""
    report = verify_chain(session)
    if not report.ok:
        record_event(Actor(None, "system", "system"),
                     Event(action=Action.AUDIT_ALERT, outcome="error",
                           reason="审计哈希链校验失败：" + "；".join(report.problems)[:1500],
                           result_count=report.records))
    return report
