"""Where a read's time goes inside the app: the page view and the search, profiled in-process.

    TEST_REDIS_DB=7 nice .venv/bin/python bench/api_profile.py [--db sqlite,postgresql]
        [--pages 3000] [--reads 200] [--top 25]

Loads N synthetic pages (bench/search_corpus.py) into a fresh versioned index, creates a staff
user with a grant and a bearer token (as bench/search_bench.py does), then sends `--reads`
POST /api/v1/pages/<id> and POST /api/v1/search through Flask's test client (no HTTP server:
what is left is the app's own cost) and reports, per read kind and database:

* wall time per request (p50 / p99) and CPU time per request (this thread's);
* the SQL statements per request, grouped by their first words (a round trip each);
* the wall time of the parts: token check, grant resolution, the catalogue, the engine, the
  audit record (its queue wait, statements, commit = the durable flush), JSON — from cProfile,
  cumulative per request; and the top functions by own time.

The load average is printed: the machine is shared, compare parts within one run.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from audit_bench import database  # noqa: E402
from search_bench import PURPOSE, bench_reader, load_avg, make_queries, pct, settings, table  # noqa: E402

# (label, file fragment, function name): cumulative time per request
PARTS = [
    ("whole request (test client)", "flask/app.py", "wsgi_app"),
    ("token check (load_bearer_user)", "accounts/views.py", "load_bearer_user"),
    ("grant resolution (resolve_grant)", "grants/queries.py", "resolve_grant"),
    ("catalogue names (former_names)", "search/_choke.py", "former_names"),
    ("permission filter", "search/_filter.py", "permission_filter"),
    ("engine request (ScopedIndex.search)", "search/_choke.py", "search"),
    ("audit: record_event", "audit/service.py", "record_event"),
    ("audit: scrub (masking free text)", "audit/redaction.py", "scrub"),
    ("audit: writer.submit (queue + batch)", "audit/writer.py", "submit"),
    ("audit: _append_many (hash + statements)", "audit/service.py", "_append_many"),
    ("audit: COMMIT (durable flush)", "orm/session.py", "commit"),
    ("SQL execute (all statements)", "engine/base.py", "_execute_context"),
    ("JSON response (flask json)", "flask/json/provider.py", "response"),
    ("json.dumps (all)", "json/__init__.py", "dumps"),
]


def _stat_rows(stats: pstats.Stats, n: int) -> list[list[str]]:
    rows = []
    for label, frag, name in PARTS:
        cum, calls = 0.0, 0
        for (file, _line, fn), (_cc, nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            if fn == name and file.replace("\\", "/").endswith(frag):
                cum, calls = cum + ct, calls + nc
        rows.append([label, f"{1000 * cum / n:.2f}", f"{calls / n:.1f}"])
    return rows


def run(kind_db: str, args, tmp: Path) -> None:
    import search_corpus
    from search_app import create_app
    from search_app.crypto import vault_from_config
    from search_app.db import get_session
    from search_app.migrations import upgrade
    from search_app.search._backend import admin, create_versioned_index, drop_alias_and_indices
    from search_app.search._backend import make_client

    with database(kind_db, tmp) as url:
        cfg = {**settings(tmp), "DATABASE_URL": url}
        upgrade(url)
        app = create_app(cfg)
        with app.app_context():
            client = admin()
            alias = cfg["OPENSEARCH_INDEX"]
            index = create_versioned_index(client, alias)
            try:
                search_corpus.load(make_client(app.config, "admin", http_compress=False), index,
                                   args.pages, seed=11,
                                   blind_index=vault_from_config(app.config).blind_index,
                                   echo=lambda *_: None)
                client.indices.put_alias(index=index, name=alias)
                staff, grant, token = bench_reader(get_session(), "prof")
                grant_id = grant.id
                views = [h["_id"] for h in client.search(index=alias, body={
                    "size": 50, "_source": False, "query": {"bool": {
                        "filter": [{"terms": {"category": ["户籍档案", "干部人事档案"]}},
                                   {"terms": {"unit": list(search_corpus.UNITS[:4])}}],
                        "must_not": [{"exists": {"field": "doc_kind"}}]}}})["hits"]["hits"]]
            except BaseException:
                drop_alias_and_indices(client, alias)
                client.indices.delete(index=index, ignore_unavailable=True)
                raise
        try:
            _profile(app, kind_db, args, token, grant_id, views)
        finally:
            with app.app_context():
                drop_alias_and_indices(client, alias)
                client.indices.delete(index=index, ignore_unavailable=True)
                client.indices.delete(index=cfg["AUDIT_CHECKPOINT_INDEX"], ignore_unavailable=True)
            app.extensions["db_engine"].dispose()


def _profile(app, kind_db: str, args, token: str, grant_id: int, views: list[str]) -> None:
    import random

    import numpy as np
    from sqlalchemy import event

    import search_corpus

    engine = app.extensions["db_engine"]
    statements: list[str] = []
    record = threading.local()

    def on_sql(_conn, _cursor, statement, _params, _context, _many):
        if getattr(record, "on", False):
            statements.append(" ".join(statement.split()[:3])[:40])

    event.listen(engine, "before_cursor_execute", on_sql)
    queries = make_queries(random.Random(11),
                           search_corpus.Vocabulary(np.random.default_rng(12)), max(args.reads, 20))
    headers = {"Authorization": f"Bearer {token}"}
    http = app.test_client()

    def call(kind: str, i: int) -> None:
        if kind == "view":
            r = http.post(f"/api/v1/pages/{quote(views[i % len(views)], safe='')}", headers=headers,
                          json={"grant_id": grant_id, "purpose": PURPOSE})
        else:
            r = http.post("/api/v1/search", headers=headers,
                          json={"grant_id": grant_id, "purpose": PURPOSE, "q": queries[i]})
        if r.status_code != 200:
            raise SystemExit(f"{kind} -> {r.status_code}: {r.data[:300]!r}")

    print(f"\n== {kind_db} ({engine.dialect.name}); {args.pages:,} pages; load avg {load_avg()}")
    for kind in ("view", "search"):
        for i in range(20):  # warm-up
            call(kind, i)
        plain_walls, plain_cpus = [], []
        for i in range(args.reads):  # without the profiler first: its overhead is ~2x
            t0, c0 = time.perf_counter(), time.thread_time()
            call(kind, i)
            plain_walls.append(1000 * (time.perf_counter() - t0))
            plain_cpus.append(1000 * (time.thread_time() - c0))
        print(f"\n{kind}, profiler off: {args.reads} reads, wall p50 {pct(plain_walls, 50):.2f} ms, "
              f"p99 {pct(plain_walls, 99):.2f} ms; CPU of the request thread p50 "
              f"{pct(plain_cpus, 50):.2f} ms, mean {statistics.mean(plain_cpus):.2f} ms")
        walls, cpus = [], []
        statements.clear()
        record.on = True
        prof = cProfile.Profile()
        for i in range(args.reads):
            t0, c0 = time.perf_counter(), time.thread_time()
            prof.enable()
            call(kind, i)
            prof.disable()
            walls.append(1000 * (time.perf_counter() - t0))
            cpus.append(1000 * (time.thread_time() - c0))
        record.on = False
        n = args.reads
        print(f"\n{kind}: {n} reads, wall p50 {pct(walls, 50):.2f} ms, p99 {pct(walls, 99):.2f} ms, "
              f"mean {statistics.mean(walls):.2f} ms; CPU (this thread, profiler on) mean "
              f"{statistics.mean(cpus):.2f} ms; load avg {load_avg()}")
        counts = Counter(re.sub(r"\s+", " ", s) for s in statements)
        print(f"SQL statements per request: {len(statements) / n:.1f}")
        print(table([[s, f"{c / n:.2f}"] for s, c in counts.most_common()], ["statement", "per request"]))
        stats = pstats.Stats(prof)
        print(table(_stat_rows(stats, n), ["part (cumulative, profiler on)", "ms per request",
                                           "calls per request"]))
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(args.top)
        print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))
    event.remove(engine, "before_cursor_execute", on_sql)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", default="sqlite,postgresql")
    ap.add_argument("--pages", type=int, default=3000)
    ap.add_argument("--reads", type=int, default=200)
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    print(f"api profile: {os.cpu_count()} CPUs, load avg {load_avg()}")
    for kind in args.db.split(","):
        with tempfile.TemporaryDirectory(prefix="apiprofile-") as tmp:
            run(kind, args, Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
