"""Guarantees of the group-committing audit writer (audit.writer), attacked: concurrent readers in
two processes leave one gap-free, verifiable chain; a read whose record shares a batch with a
record that cannot be written returns nothing; a writer that fails between writing the record
and committing it returns nothing and does not jam; edits and truncation of batch-written
records are still detected. Runs on the session's database kind (TEST_DATABASE)."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text

from search_app import create_app
from search_app.audit.actions import Action
from search_app.audit.models import AuditRecord
from search_app.audit.redaction import scrub
from search_app.audit.service import Actor, AuditWriteError, Event, record_event, \
    verify_chain
from search_app.audit.writer import writer
from search_app.db import get_session
from search_app.migrations import upgrade
from tests.conftest import fresh_database, login, meta

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[1]
POISON = "毒批次"  # a record whose INSERT the database refuses (the trigger below)


def _event(q: str) -> Event:
    return Event(action=Action.SEARCH, outcome="allowed", query=q, result_count=1,
                 returned_ids=[f"GC-{abs(hash(q)) % 10**6:06d}#p0001"])


def _actor() -> Actor:
    return Actor(3, "wangwu", "staff", "127.0.0.1")


def _poison_sql(pg: bool) -> tuple[list[str], list[str]]:
    if pg:
        return ([f"CREATE FUNCTION audit_poison() RETURNS trigger AS $$ BEGIN IF NEW.query LIKE "
                 f"'%{POISON}%' THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$ "
                 "LANGUAGE plpgsql",
                 "CREATE TRIGGER audit_poison BEFORE INSERT ON audit_records FOR EACH ROW "
                 "EXECUTE FUNCTION audit_poison()"],
                ["DROP TRIGGER audit_poison ON audit_records", "DROP FUNCTION audit_poison()"])
    return ([f"CREATE TRIGGER audit_poison BEFORE INSERT ON audit_records WHEN NEW.query LIKE "
             f"'%{POISON}%' BEGIN SELECT RAISE(ABORT, 'disk full'); END"],
            ["DROP TRIGGER audit_poison"])


def _until(cond, what: str, seconds: float = 60.0) -> None:
    stop = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < stop, f"timed out waiting until {what}"
        time.sleep(0.005)


def _in_threads(app, jobs: dict[str, callable]) -> tuple[dict, dict, dict[str, threading.Thread]]:
    done, errors, threads = {}, {}, {}

    def run(name, job):
        with app.app_context():
            try:
                done[name] = job()
            except Exception as exc:  # noqa: BLE001 — each request's outcome is asserted
                errors[name] = exc
    for name, job in jobs.items():
        threads[name] = threading.Thread(target=run, args=(name, job))
    return done, errors, threads


def _one_batch(app, w, jobs: dict[str, callable]):
    """Run `jobs` so that they go into one batch together: the writer is held busy (as while
    another batch commits) until all of them have queued; their outcomes."""
    done, errors, ts = _in_threads(app, jobs)
    with w._cond:
        w._busy = True
    try:
        for t in ts.values():
            t.start()
        _until(lambda: len(w._queue) == len(jobs), f"{len(jobs)} requests queue for the writer")
    finally:
        with w._cond:
            w._busy = False
            w._cond.notify_all()
    for t in ts.values():
        t.join(60)
    return done, errors


@pytest.fixture()
def own_app(settings, tmp_path):
    with fresh_database(tmp_path) as url:
        app = create_app({**settings, "DATABASE_URL": url})
        upgrade(url)
        with app.app_context():
            scrub(_event("预热"))  # the masking's detectors load once, outside the timed waits
            yield app
        app.extensions["db_engine"].dispose()


CHILD = textwrap.dedent("""
    import json, sys, threading, time
    sys.path.insert(0, sys.argv[1])
    cfg = json.loads(sys.stdin.read())
    from search_app import create_app
    from search_app.audit.service import Actor, Event, record_event
    from search_app.audit.writer import writer
    app = create_app(cfg["settings"])
    errors = []
    def work(t):
        with app.app_context():
            for n in range(cfg["per_thread"]):
                try:
                    record_event(Actor(4, cfg["name"], "staff"), Event(
                        action="search", outcome="allowed", query=f"{cfg['name']}-{t}-{n}"))
                except Exception as exc:
                    errors.append(repr(exc))
    while time.time() < cfg["start_at"]:
        time.sleep(0.002)
    ts = [threading.Thread(target=work, args=(t,)) for t in range(cfg["threads"])]
    [t.start() for t in ts]
    [t.join() for t in ts]
    w = writer(app)
    print(json.dumps({"errors": errors, "records": w.records, "batches": w.batches}))
""")


def test_two_processes_of_concurrent_readers_leave_one_gap_free_verifiable_chain(own_app, settings):
    url = own_app.config["DATABASE_URL"]
    threads, per_thread = 4, 12
    start_at = time.time() + 8  # both interpreters up before either writes
    procs = []
    for name in ("proc-a", "proc-b"):
        cfg = {"settings": {**settings, "DATABASE_URL": url}, "name": name, "threads": threads,
               "per_thread": per_thread, "start_at": start_at}
        p = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        p.stdin.write(json.dumps(cfg))
        p.stdin.close()
        procs.append(p)
    outs = []
    for p in procs:
        out, err = p.stdout.read(), p.stderr.read()
        assert p.wait(300) == 0, f"a writer process failed:\n{err[-3000:]}"
        outs.append(json.loads(out.strip().splitlines()[-1]))
    for o in outs:
        assert not o["errors"], f"records refused under concurrency: {o['errors'][:3]}"
        assert o["records"] == threads * per_thread, o
    session = get_session()
    rows = session.execute(select(AuditRecord.seq, AuditRecord.username, AuditRecord.query)
                           .order_by(AuditRecord.id)).all()
    total = 2 * threads * per_thread
    assert [r.seq for r in rows] == list(range(1, total + 1)), \
        f"the chain has gaps or duplicates: seqs {[r.seq for r in rows]}"
    for name in ("proc-a", "proc-b"):
        queries = {r.query for r in rows if r.username == name}
        assert len(queries) == threads * per_thread, f"{name}: records lost or doubled"
    report = verify_chain(session, anchored=False)
    assert report.ok and report.records == total, report.problems
    print(f"batches: {[o['batches'] for o in outs]} for {[o['records'] for o in outs]} records")


def test_a_batch_with_a_record_that_cannot_be_written_fails_every_request_in_it(own_app):
    session = get_session()
    pg = session.get_bind().dialect.name == "postgresql"
    create, drop = _poison_sql(pg)
    for sql in create:
        session.execute(text(sql))
    session.commit()
    w = writer(own_app)
    jobs = {f"read{i}": (lambda i=i: record_event(_actor(), _event(f"正常读取{i}")))
            for i in range(3)}
    jobs["poison"] = lambda: record_event(_actor(), _event(f"{POISON}记录"))
    try:
        first = record_event(_actor(), _event("先行"))
        done, errors = _one_batch(own_app, w, jobs)
    finally:
        for sql in drop:
            session.execute(text(sql))
        session.commit()
    assert first.seq == 1
    for name in jobs:
        assert name not in done, f"{name} got a record back from a batch that was not committed"
        assert isinstance(errors[name], AuditWriteError), errors[name]
    session.expire_all()
    queries = session.execute(select(AuditRecord.query)).scalars().all()
    assert queries == ["先行"], f"records of a failed batch were committed: {queries}"
    assert verify_chain(session, anchored=False).ok


def test_batch_written_records_still_show_edits_and_truncation(own_app):
    w = writer(own_app)
    jobs = {f"r{i}": (lambda i=i: record_event(_actor(), _event(f"批量{i}"))) for i in range(4)}
    record_event(_actor(), _event("先行"))
    batches = w.batches
    done, errors = _one_batch(own_app, w, jobs)
    assert not errors, errors
    assert w.batches == batches + 1, "the four queued records were not written as one batch"
    assert sorted(r.seq for r in done.values()) == [2, 3, 4, 5]
    session = get_session()
    assert verify_chain(session, anchored=False).ok
    for attack, sql, named in [
            ("edit inside a batch", "UPDATE audit_records SET query = '无害' WHERE seq = 3",
             "record seq=3: content does not match"),
            ("delete inside a batch", "DELETE FROM audit_records WHERE seq = 4",
             "seq 5, expected 4"),
            ("cut the batch's tail", "DELETE FROM audit_records WHERE seq = 5",
             "chain head says seq 5")]:
        session.execute(text(sql))
        session.commit()
        report = verify_chain(session, anchored=False)
        assert not report.ok and any(named in p for p in report.problems), \
            f"{attack} of group-committed records was not detected: {report.problems}"


@pytest.fixture()
def reader(ctx, client, make_user, make_grant, ingest):
    ingest([meta("GC-0001", pages=[["组提交审计测试页面 内容足够长以使用文本层"]])])
    scrub(_event("预热"))
    user = make_user("staff")
    grant = make_grant(user, purpose="户籍核查：组提交测试")
    assert login(client, user.username).status_code == 302
    return user, grant


def _search(client, grant):
    return client.post("/search", follow_redirects=True,
                       data={"grant_id": grant.id, "purpose": "核实登记信息", "q": "组提交审计测试"})


def _allowed(user) -> int:
    session = get_session()
    session.expire_all()
    return len(session.execute(select(AuditRecord).where(AuditRecord.user_id == user.id)
                               .where(AuditRecord.action == Action.SEARCH)
                               .where(AuditRecord.outcome == "allowed")).scalars().all())


def test_a_read_in_a_failed_batch_returns_no_results(reader, client, app):
    user, grant = reader
    session = get_session()
    create, drop = _poison_sql(session.get_bind().dialect.name == "postgresql")
    for sql in create:
        session.execute(text(sql))
    session.commit()
    try:
        done, errors = _one_batch(app, writer(app), {
            "read": lambda: _search(client, grant),
            "poison": lambda: record_event(_actor(), _event(f"{POISON}记录"))})
    finally:
        for sql in drop:
            session.execute(text(sql))
        session.commit()
    assert isinstance(errors.get("poison"), AuditWriteError), errors
    resp = done["read"]
    assert resp.status_code == 503, resp.status_code
    assert "GC-0001" not in resp.get_data(as_text=True), \
        "RESULTS RETURNED (GC-0001) although the batch holding the read's record was not committed"
    assert _allowed(user) == 0, "an allowed record of the failed read was committed"


def test_a_writer_failing_between_record_and_commit_returns_nothing_and_recovers(
        reader, client, monkeypatch):
    user, grant = reader
    import search_app.audit.service as service

    real = service.head_mac

    def crash(*_a, **_k):  # after the INSERT of the record, before the head update and commit
        raise RuntimeError("writer crashed after writing the record")
    monkeypatch.setattr(service, "head_mac", crash)
    resp = _search(client, grant)
    assert resp.status_code == 503
    assert "GC-0001" not in resp.get_data(as_text=True), \
        "RESULTS RETURNED (GC-0001) although the writer failed before its commit"
    assert _allowed(user) == 0, "the uncommitted record of the failed read is in the log"
    monkeypatch.setattr(service, "head_mac", real)
    resp = _search(client, grant)  # the writer is not left busy: the next read goes through
    assert resp.status_code == 200 and "GC-0001" in resp.get_data(as_text=True)
    assert _allowed(user) == 1
    assert verify_chain(get_session(), anchored=False).ok
