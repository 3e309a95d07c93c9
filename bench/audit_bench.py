"""What a read's audit record costs: record_event alone, one transaction per record (as before
the group commit) against the group-committing writer, on SQLite and on PostgreSQL.

    TEST_REDIS_DB=5 nice .venv/bin/python bench/audit_bench.py [--db sqlite,postgresql]
        [--latency 200] [--duration 3] [--threads 1,4,8,16] [--processes 2,4]

For each database (a fresh SQLite file in WAL mode with synchronous=FULL, as the app opens it;
a fresh PostgreSQL database on DATABASE_URL_PG from var/local.env, synchronous_commit=on):

* latency: N records written one after another, the two modes alternating record by record;
* throughput: 1/4/8/16 threads in one process, then P processes × 4 threads (each process its
  own app, engine and writer, as gunicorn workers are), for --duration seconds per cell, the two
  modes alternating cell by cell.

"before" is record_event as it was (a copy below: the ORM's unit of work, one transaction per
record); "per record" the new statements (Core, multi-row INSERT) still one transaction per
record; "group" is record_event as the app runs it now (audit.writer: group commit). Every cell ends with `verify_chain` over the whole log (gap-free and
intact, or the bench fails). Prints figures, group ÷ per record, and the load average.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from search_bench import load_avg, pct, settings, table, timed_threads  # noqa: E402


def _event(n: int):
    from search_app.audit.actions import Action
    from search_app.audit.service import Actor, Event
    return (Actor(7, "bench-staff", "staff", "127.0.0.1"),
            Event(action=Action.PAGE_VIEW, outcome="allowed", purpose="规模测试：审计写入评测",
                  approval_ref="SQ-2026-0001", grant_id=1, query=f"户籍 登记 {n}",
                  filters={"categories": ["户籍档案"], "units": ["海淀分局"]}, result_count=1,
                  returned_ids=[f"BENCH-{n:06d}#p0001"]))


def before(actor, event) -> None:
    """record_event as it was before the group commit (before branch audit5), kept here as the
    baseline: the ORM's unit of work, one transaction per record (lock, INSERT, head, COMMIT)."""
    import json
    from sqlalchemy import update
    from search_app.audit.models import AuditHead, AuditRecord
    from search_app.audit.redaction import scrub
    from search_app.audit.service import _canonical, _values, chain_key, head_mac, record_hash
    from search_app.db import fresh_session
    from search_app.timeutil import utcnow
    event = scrub(event)
    with fresh_session() as session:
        head = session.execute(update(AuditHead).where(AuditHead.id == 1)
                               .values(last_seq=AuditHead.last_seq)
                               .returning(AuditHead.last_seq, AuditHead.last_hash)
                               .execution_options(synchronize_session=False)).first()
        rec = AuditRecord(
            seq=head.last_seq + 1, ts=utcnow(), user_id=actor.user_id, username=actor.username,
            role=actor.role, client_addr=actor.client_addr, action=event.action,
            outcome=event.outcome, reason=event.reason, purpose=event.purpose,
            approval_ref=event.approval_ref, grant_id=event.grant_id, query=event.query,
            filters=event.filters, result_count=event.result_count,
            returned_ids=list(event.returned_ids), prev_hash=head.last_hash)
        rec.filters = json.loads(_canonical(rec.filters))
        key = chain_key()
        rec.hash = record_hash(rec.prev_hash, _values(rec), key)
        session.add(rec)
        session.execute(update(AuditHead).where(AuditHead.id == 1)
                        .values(last_seq=rec.seq, last_hash=rec.hash,
                                mac=head_mac(key, rec.seq, rec.hash)))
        session.commit()


MODES = ("before", "per record", "group")


def write_one(mode: str, n: int) -> None:
    from search_app.audit.redaction import scrub
    from search_app.audit.service import _append, record_event
    from search_app.db import fresh_session
    actor, event = _event(n)
    if mode == "group":
        record_event(actor, event)
    elif mode == "before":
        before(actor, event)
    else:  # the new statements, one transaction per record (no batching)
        with fresh_session() as own:
            _append(own, actor, scrub(event), commit=True)


def make_app(cfg: dict):
    from search_app import create_app
    return create_app(cfg)

def run_threads(app, mode: str, threads: int, seconds: float, base: int = 0):
    return timed_threads(threads, seconds,
                         lambda k, i: write_one(mode, base + k * 1_000_000 + i), app.app_context)


def _child(cfg, mode, threads, seconds, ready, go, base, out) -> None:
    app = make_app(cfg)  # its own app, engine and writer: never the parent's connections
    with app.app_context():  # warm-up outside the clock: connections, the masking's detectors
        for n in range(4):
            write_one(mode, base - 10 - n)
    ready.put(1)
    go.wait()
    rate, lat, errors = run_threads(app, mode, threads, seconds, base)
    out.put((rate, lat, errors))


def run_processes(cfg, mode: str, procs: int, threads: int, seconds: float):
    ctx = mp.get_context("spawn")
    out, ready, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    ps = [ctx.Process(target=_child, args=(cfg, mode, threads, seconds, ready, go,
                                           (p + 1) * 100_000_000, out)) for p in range(procs)]
    for p in ps:
        p.start()
    for _ in ps:  # every process started and warm before the clock starts
        ready.get(timeout=900)
    go.set()
    results = [out.get(timeout=300 + seconds) for _ in ps]
    for p in ps:
        p.join()
    lat = [x for r in results for x in r[1]]
    return sum(r[0] for r in results), lat, [e for r in results for e in r[2]]


def verified(app) -> int:
    from search_app.audit.service import verify_chain
    from search_app.db import get_session
    with app.app_context():
        report = verify_chain(get_session(), anchored=False)
        if not report.ok:
            raise SystemExit(f"audit chain BROKEN after the bench: {report.problems[:5]}")
        return report.records


def database(kind: str, tmp: Path):
    """A scratch database of `kind` made as the tests make theirs (tests/scratch_db.py)."""
    from search_app.config import read_env_file
    from tests.scratch_db import scratch_database
    return scratch_database(kind, tmp, lambda: read_env_file(ROOT / "var" / "local.env")
                            ["DATABASE_URL_PG"], prefix="bench_audit")


def db_settings(app) -> str:
    from sqlalchemy import text
    from search_app.db import get_session
    with app.app_context():
        s = get_session()
        if s.get_bind().dialect.name == "sqlite":
            return (f"journal_mode={s.execute(text('PRAGMA journal_mode')).scalar()}, "
                    f"synchronous={s.execute(text('PRAGMA synchronous')).scalar()} (2 = FULL)")
        return ", ".join(f"{k}={s.execute(text(f'SHOW {k}')).scalar()}" for k in (
            "synchronous_commit", "fsync", "wal_sync_method", "commit_delay", "commit_siblings"))


def bench(kind: str, args, tmp: Path) -> None:
    from search_app.audit.writer import writer
    from search_app.migrations import upgrade

    with database(kind, tmp) as url:
        cfg = {**settings(tmp), "DATABASE_URL": url}
        upgrade(url)
        app = make_app(cfg)
        print(f"\n== {kind}: {db_settings(app)}; load avg {load_avg()}", flush=True)
        modes = MODES
        with app.app_context():
            for n in range(30):  # warm-up: connections, statement caches
                write_one(modes[n % 3], n)
            lat: dict[str, list[float]] = {m: [] for m in modes}
            for n in range(args.latency):
                for m in modes[n % 3:] + modes[:n % 3]:  # order rotating
                    t0 = time.perf_counter()
                    write_one(m, 10_000 + n)
                    lat[m].append((time.perf_counter() - t0) * 1000)
        rows = [[m, len(x), *(f"{pct(x, p):.2f}" for p in (50, 95, 99)),
                 f"{pct(x, 50) / pct(lat['before'], 50):.2f}",
                 f"{pct(x, 99) / pct(lat['before'], 99):.2f}"] for m, x in lat.items()]
        print("record_event alone, one writer, modes rotating record by record (ms)")
        print(table(rows, ["mode", "n", "p50", "p95", "p99", "÷ before p50", "÷ before p99"]))
        cells = [("threads", t, 1) for t in args.threads] + \
                [("processes", p, 4) for p in args.processes]
        tp_rows = []
        for i, (how, n, per) in enumerate(cells):
            res = {}
            for m in modes[i % 3:] + modes[:i % 3]:
                w = writer(app)
                b0, r0 = w.batches, w.records
                if how == "threads":
                    rate, xs, errs = run_threads(app, m, n, args.duration, 20_000_000 + i * 10**9)
                    batch = (w.records - r0) / max(w.batches - b0, 1) if m == "group" else 1.0
                else:
                    rate, xs, errs = run_processes(cfg, m, n, per, args.duration)
                    batch = float("nan")
                res[m] = (rate, xs, errs, batch)
            label = f"{n} thread{'s' if n > 1 else ''}" if how == "threads" else f"{n} proc × {per}"
            row = [label]
            for m in modes:
                rate, xs, _, _ = res[m]
                row += [f"{rate:.0f} ({pct(xs, 50):.0f} / {pct(xs, 99):.0f})"]
            bg = res["group"][3]
            row += ["—" if bg != bg else f"{bg:.1f}",
                    f"{res['group'][0] / res['before'][0]:.2f}",
                    sum(len(r[2]) for r in res.values()), load_avg()]
            tp_rows.append(row)
            print(f"  {label}: " + ", ".join(f"{m} {res[m][0]:.0f}/s" for m in modes), flush=True)
        records = verified(app)
        print(f"throughput, records/s (p50 / p99 ms) ({args.duration:.0f} s per cell, modes "
              f"rotating; chain verified after: {records:,} records, gap-free and intact)")
        print(table(tp_rows, ["writers", *(f"{m}/s" for m in modes), "records per txn",
                              "group ÷ before", "errors", "load avg"]))
        app.extensions["db_engine"].dispose()


def flush_probe(folder: Path, n: int = 100) -> str:
    """The disk's own durable flush (4 KB written in place, fdatasync), the floor of any commit."""
    path = folder / "flush-probe.bin"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"\0" * 4096 * 64)
        os.fsync(fd)
        xs = []
        for i in range(n):
            os.pwrite(fd, os.urandom(4096), (i % 64) * 4096)
            t0 = time.perf_counter()
            os.fdatasync(fd)
            xs.append((time.perf_counter() - t0) * 1000)
    finally:
        os.close(fd)
        path.unlink()
    return f"fdatasync of 4 KB on {folder}: p50 {pct(xs, 50):.2f} ms, p99 {pct(xs, 99):.2f} ms"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--latency", type=int, default=200)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--threads", default="1,4,8,16")
    ap.add_argument("--processes", default="2,4")
    args = ap.parse_args()
    args.threads = [int(x) for x in args.threads.split(",") if x]
    args.processes = [int(x) for x in args.processes.split(",") if x]
    print(f"audit bench: {os.cpu_count()} CPUs, load avg {load_avg()} (shared machine)")
    tmp = Path(tempfile.mkdtemp(prefix="auditbench-"))
    print(flush_probe(tmp), flush=True)
    for kind in args.db.split(","):
        bench(kind, args, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
