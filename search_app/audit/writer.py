"""Group commit for the audit chain: concurrent reads share one transaction and one fsync.

Every chain writer holds the chain head's lock until its transaction has committed, and the
commit is a durable flush (SQLite WAL with synchronous=FULL, PostgreSQL synchronous_commit=on),
so with one transaction per record the chain writes at most 1 / (flush time) records per second
per database, however many requests wait — measured here ~60/s on SQLite, and the database's own
group commit cannot help, since the lock lets only one chain transaction be in flight.

So a process writes its waiting records together: the first request to arrive becomes the leader
and writes every record queued by then (including its own) in one transaction — one chain lock,
one multi-row INSERT, one head update, one commit; requests that arrive meanwhile queue for the
next batch, whose leader is one of them. Each request still returns only after *its* record is
durably committed, and gets the record back (seq, id) as before. The chain stays strictly
sequential: the leader numbers and hashes the batch under the chain lock, in queue order, exactly
as it would write them one by one. If anything fails before the commit has returned, every
request of the batch gets AuditWriteError (none of them returns data: fail closed); nothing is
retried, because a failed COMMIT may still have been applied.

Only the records a read writes on its own (record_event without a session) are batched; a
record that commits with the change it describes (a grant, a user) commits in the caller's
transaction, and the export quota (guarded_read's `admit`) takes the lock itself.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from flask import Flask, current_app

if TYPE_CHECKING:
    from search_app.audit.models import AuditRecord
    from search_app.audit.service import Actor, Event

# at most this many records per transaction: bounds the leader's work (and its lock time)
MAX_BATCH = 64

WriteBatch = Callable[[Sequence[tuple["Actor", "Event"]]], "list[AuditRecord]"]


class _Pending:
    __slots__ = ("actor", "event", "record", "error", "finished")

    def __init__(self, actor: Actor, event: Event) -> None:
        self.actor, self.event = actor, event
        self.record: AuditRecord | None = None
        self.error: BaseException | None = None
        self.finished = False


class GroupWriter:
    """One per app and process. `submit` blocks until the record is committed or has failed."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._busy = False
        self.batches = 0  # for the bench: transactions written
        self.records = 0

    def submit(self, actor: Actor, event: Event, write: WriteBatch) -> AuditRecord:
        me = _Pending(actor, event)
        with self._cond:
            self._queue.append(me)
        while True:
            with self._cond:
                while self._busy and not me.finished:
                    self._cond.wait()
                if me.finished:
                    break
                self._busy = True  # lead: write what is queued, in queue order
                batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                self._write(batch, write)
            except Exception:
                if me in batch:
                    raise
                # an earlier batch (not holding this record) failed: this one is still queued
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()
        return _outcome(me)

    def _write(self, batch: list[_Pending], write: WriteBatch) -> None:
        from search_app.audit.service import AuditWriteError

        try:
            records = write([(p.actor, p.event) for p in batch])
            if len(records) != len(batch):  # a bug; never hand out a record that was not written
                raise AuditWriteError(f"audit batch wrote {len(records)} of {len(batch)} records")
            for p, rec in zip(batch, records):
                p.record = rec
            self.batches += 1
            self.records += len(batch)
        except BaseException as exc:  # every request of the batch fails closed, then re-raise
            for p in batch:
                p.record, p.error = None, exc
            raise
        finally:
            for p in batch:
                if p.record is None and p.error is None:
                    p.error = AuditWriteError("audit batch did not complete")
                p.finished = True


def _outcome(p: _Pending) -> AuditRecord:
    from search_app.audit.service import AuditWriteError

    if p.error is not None:
        if isinstance(p.error, AuditWriteError):
            raise AuditWriteError(str(p.error)) from p.error
        raise AuditWriteError(f"audit record could not be written: {p.error}") from p.error
    if p.record is None:  # unreachable: finished without a record or an error
        raise AuditWriteError("audit record was not written")
    return p.record


def writer(app: Flask | None = None) -> GroupWriter:
    """The app's writer in this process (a forked child gets a new one: the parent's lock and
    queue belong to the parent's threads)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("audit_writer")
    if found is None or found.pid != os.getpid():
        with _CREATE:
            found = app.extensions.get("audit_writer")
            if found is None or found.pid != os.getpid():
                found = app.extensions["audit_writer"] = GroupWriter()
    return found


_CREATE = threading.Lock()
