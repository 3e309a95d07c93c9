"""Search at scale: the API (choke point) against the engine alone, on N synthetic pages.

    TEST_REDIS_DB=9 nice .venv/bin/python bench/search_bench.py --pages 10000 [--pages 100000]
        [--latency 150] [--duration 4] [--clients 1,4,8,16] [--ablation] [--keep]
        [--before-tree DIR]   # the two-pass page search before/after (bench/slip_compare.py)

For each N: synthetic text-only pages (bench/search_corpus.py: jieba-dictionary Zipf words,
archive phrases, masked PII; files of 1–50 pages; 3 门类 × 8 单位 × 1980–2023 × 4 密级) are
bulk-loaded into a fresh versioned index (`test-pages-<hex>`, the engine's test alias form)
through indexer.index.build_document/build_file_documents and mappings/pages.json. A staff user
holds a grant over 2 of 3 门类 and half the 单位 (ceiling 秘密) and a bearer token. gunicorn serves
the app on loopback (2 gthread workers × 4 threads, the web identity only). Then, for three
kinds of read — search (page hits), grouped search (group=file) and page view:

* API = POST /api/v1/search (or /api/v1/pages/<id>) with the token: grant resolution, permission
  filter, query, audit record committed, redaction, JSON;
* raw = the same engine request(s) — the body built by the product's query builder and wrapped by
  _choke.scoped_body with the same permission filter — sent straight to OpenSearch as the web
  user (grouped: the file query, then the pages query for the files it returned).

Latency runs API and raw interleaved, query by query (order alternating), the same queries;
throughput runs 1/4/8/16 client threads for --duration seconds per mode, modes alternating.
Both modes use the same HTTP client (urllib3, keep-alive). The client threads run in this
process, on the same 2 cores as the engine and gunicorn: at 16 clients the figures include
their cost (the same for both modes). --ablation measures what each part of the engine query
costs (raw, same queries): exact totals vs bounded, facets, highlighting, the OCR-slip and
jieba clauses. The load average is printed with every table: the machine is shared.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import nullcontext
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import urllib3  # noqa: E402
from urllib.parse import quote  # noqa: E402

PURPOSE = "规模测试：检索性能评测"


def settings(tmp: Path) -> dict[str, Any]:
    from search_app.config import read_env_file, setting_names
    local = {**read_env_file(ROOT / "var" / "local.env"),
             **{k: v for k, v in os.environ.items() if k in setting_names()}}
    engine = {k: v for k, v in local.items() if k in ("OPENSEARCH_URL", "OPENSEARCH_CA_CERTS")
              or re.fullmatch(r"OPENSEARCH_\w+_(USER|PASSWORD)", k)}
    key = lambda: base64.urlsafe_b64encode(os.urandom(32)).decode()  # noqa: E731
    redis = re.sub(r"/\d*$", "", local.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    return {"SECRET_KEY": key(), "ARCHIVE_DATA_KEY": key(), "ARCHIVE_BLIND_INDEX_KEY": key(),
            "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", **engine,
            "OPENSEARCH_INDEX": f"test-pages-{uuid.uuid4().hex[:8]}",
            "AUDIT_CHECKPOINT_INDEX": f"test-audit-cp-{uuid.uuid4().hex[:8]}",
            "REDIS_URL": f"{redis}/{int(os.environ.get('TEST_REDIS_DB', '15'))}",
            "BLOB_DIR": str(tmp / "blobs"), "INGEST_UPLOAD_DIR": str(tmp / "uploads"),
            # the run's own per-file keys: the default var/keys outlives the run, and a later
            # run's fresh master key cannot unwrap the keys it left for the same 档号
            "KEY_STORE_DIR": str(tmp / "keys"),
            "AUDIT_CHECKPOINT_FILE": str(tmp / "cp.log")}


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


class Target:
    """One way to run a read: `call(kind, item)` raises on a wrong answer."""

    def __init__(self, name: str, call) -> None:
        self.name, self.call = name, call


def make_queries(rng: random.Random, vocab, n: int) -> list[str]:
    """Single words (rare/mid/common), two words, a quoted archive phrase, a 5+ character word
    (OCR-slip clauses), a word with a 年度 range or a 门类 filter."""
    from search_corpus import PHRASES
    out = []
    for i in range(n):
        k = i % 7
        if k == 0:
            out.append(vocab.rank(20, 400))
        elif k == 1:
            out.append(vocab.rank(400, 5000))
        elif k == 2:
            out.append(f"{vocab.rank(50, 3000)} {vocab.rank(50, 3000)}")
        elif k == 3:
            out.append(f'"{rng.choice(PHRASES)}"')
        elif k == 4:
            out.append(rng.choice([p for p in PHRASES if len(p) >= 5]))
        elif k == 5:
            y = rng.randint(1980, 2015)
            out.append(f"{vocab.rank(100, 3000)} 年度:{y}-{y + 8}")
        else:
            out.append(f"{vocab.rank(100, 3000)} 门类:户籍档案")
    return out


def garbled_queries(rng: random.Random, vocab, n: int) -> list[str]:
    """The second pass's own case (--garbled): every query a 5+ character word with few or no
    exact pages — an archive phrase with one character replaced (as a reader mistypes or OCR
    misreads it: no exact page, the second query always runs), or such a phrase followed by a
    mid-frequency word."""
    from search_corpus import PHRASES
    long = [p for p in PHRASES if len(p) >= 5]
    out = []
    for i in range(n):
        p = list(rng.choice(long))
        p[rng.randrange(len(p))] = rng.choice("甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥")
        out.append("".join(p) if i % 2 == 0 else f"{''.join(p)} {vocab.rank(50, 3000)}")
    return out


def start_server(cfg: dict[str, Any], port: int, log: Path, code: Path = ROOT) -> subprocess.Popen:
    """gunicorn serving the app of `code` (a checkout; the default is this one) with this
    checkout's venv: `--before DIR` serves the baseline's code on the same database and index."""
    env = {k: v for k, v in os.environ.items()}
    env.update({k: str(v) for k, v in cfg.items()})
    if code != ROOT:  # the baseline's packages come first on the path, before the editable install
        env["PYTHONPATH"] = str(code)
    for k in ("OPENSEARCH_WORKER_PASSWORD", "OPENSEARCH_ADMIN_PASSWORD"):
        env.pop(k, None)  # the web process holds the web identity only, as in deployment
    proc = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--worker-class", "gthread", "--log-level", "warning",
         "search_app:create_app()"], cwd=code, env=env, stdout=log.open("w"),
        stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(120):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                raise SystemExit(f"gunicorn exited: {log.read_text()[-2000:]}")
            time.sleep(0.5)
    raise SystemExit("gunicorn did not start")


def targets(cfg, token: str, grant_id: int, port: int, permission: dict, page_size: int):
    from search_app.search._choke import scoped_body
    from search_app.search._files import MAX_PAGES  # noqa: F401 (same import path as the app)
    from search_app.search._query import RESULT_FIELDS, build_file_pages_query, build_file_query, \
        build_query, parse

    local = threading.local()
    engine = cfg["OPENSEARCH_URL"].split(",")[0].rstrip("/")
    auth = urllib3.make_headers(basic_auth=f"{cfg['OPENSEARCH_WEB_USER']}:"
                                           f"{cfg['OPENSEARCH_WEB_PASSWORD']}")
    api_headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def pools():
        if not hasattr(local, "api"):
            local.api = urllib3.HTTPConnectionPool("127.0.0.1", port, maxsize=1)
            local.raw = urllib3.PoolManager(maxsize=1, ca_certs=cfg["OPENSEARCH_CA_CERTS"] or None,
                                            cert_reqs="CERT_REQUIRED")
        return local.api, local.raw

    def api(kind: str, item: str, pool=None) -> int:
        pool = pool or pools()[0]
        if kind == "view":
            body, path = {"grant_id": grant_id, "purpose": PURPOSE}, f"/api/v1/pages/{quote(item, safe='')}"
        else:
            body = {"grant_id": grant_id, "purpose": PURPOSE, "q": item,
                    **({"group": "file"} if kind == "file" else {})}
            path = "/api/v1/search"
        r = pool.request("POST", path, body=json.dumps(body).encode(), headers=api_headers)
        if r.status != 200:
            raise RuntimeError(f"API {path} -> {r.status}: {r.data[:300]!r}")
        out = json.loads(r.data)
        return out.get("total", 1)

    def engine_search(body: dict) -> dict:
        r = pools()[1].request("POST", f"{engine}/{cfg['OPENSEARCH_INDEX']}/_search",
                               body=json.dumps(body).encode(),
                               headers={**auth, "Content-Type": "application/json"})
        if r.status != 200:
            raise RuntimeError(f"engine -> {r.status}: {r.data[:300]!r}")
        return json.loads(r.data)

    parsed: dict[str, Any] = {}

    def raw_body(kind: str, item: str, variant=None) -> dict:
        if kind == "view":
            return {"size": 1, "_source": {"includes": [*RESULT_FIELDS, "text_display", "pii_kinds"]},
                    "query": {"ids": {"values": [item]}}}
        q = parsed.setdefault(item, parse(item))
        if kind == "file":
            return build_file_query(q, offset=0, size=page_size)
        body = build_query(q, offset=0, size=page_size)
        return variant(body) if variant else body

    def raw(kind: str, item: str, variant=None) -> int:
        q = parsed.setdefault(item, parse(item)) if kind != "view" else None
        resp = engine_search(scoped_body(permission, raw_body(kind, item, variant),
                                         files=kind == "file"))
        if kind == "file":
            nos = [h["_source"]["archive_no"] for h in resp["hits"]["hits"]]
            if nos:
                engine_search(scoped_body(permission, build_file_pages_query(q, nos, per_file=3)))
        return resp["hits"].get("total", {}).get("value", 0)

    def api_on(other: int) -> Target:  # the same reads against a second server (--before)
        def call(kind: str, item: str) -> int:
            if not hasattr(local, f"api{other}"):
                setattr(local, f"api{other}", urllib3.HTTPConnectionPool("127.0.0.1", other, maxsize=1))
            return api(kind, item, getattr(local, f"api{other}"))
        return Target("API before", call)

    return Target("API", api), Target("raw", raw), raw, api_on


def latency(a: Target, b: Target, kind: str, items: list[str], *more: Target) -> dict[str, list[float]]:
    """A and B (and `more`) in turn on the same items (which goes first rotates too)."""
    order = [a, b, *more]
    out: dict[str, list[float]] = {t.name: [] for t in order}
    for i, item in enumerate(items):
        k = i % len(order)
        for t in order[k:] + order[:k]:
            t0 = time.perf_counter()
            t.call(kind, item)
            out[t.name].append((time.perf_counter() - t0) * 1000)
    return out


def timed_threads(n_threads: int, seconds: float, call, context=None):
    """`call(k, i)` on `n_threads` threads until `seconds` are up (k the thread, i its call
    count), each thread's loop inside `context()` if given: (calls per second, latencies in ms,
    error texts). The throughput cells of this bench and of bench/audit_bench.py."""
    lat: list[float] = []
    errors: list[str] = []
    stop = time.monotonic() + seconds
    lock = threading.Lock()

    def worker(k: int) -> None:
        mine, i = [], 0
        with (context() if context is not None else nullcontext()):
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    call(k, i)
                except Exception as exc:  # noqa: BLE001 — counted and shown, never hidden
                    errors.append(str(exc)[:200])
                mine.append((time.perf_counter() - t0) * 1000)
                i += 1
        with lock:
            lat.extend(mine)

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return len(lat) / (time.monotonic() - started), lat, errors


def throughput(t: Target, kind: str, items: list[str], clients: int, seconds: float):
    rate, lat, errors = timed_threads(
        clients, seconds, lambda k, i: t.call(kind, items[(k + i * clients) % len(items)]))
    return rate, pct(lat, 99), errors


def _strip(node: Any, drop) -> Any:
    """The query tree without the clauses `drop(clause)` picks (empty bools pruned)."""
    if isinstance(node, list):
        return [x for x in (_strip(n, drop) for n in node) if x is not None]
    if not isinstance(node, dict):
        return node
    if drop(node):
        return None
    out = {k: _strip(v, drop) for k, v in node.items()}
    if "bool" in out and isinstance(out["bool"], dict):
        b = out["bool"]
        if not any(b.get(k) for k in ("must", "should", "filter", "must_not")):
            return None
        if "should" in b and not b["should"]:
            b.pop("should")
            b.pop("minimum_should_match", None)
    return out


def _slip(c: dict) -> bool:
    return "bool" in c and c["bool"].get("boost") is not None and any(
        "slop" in json.dumps(s) for s in c["bool"].get("should", []))


def _jieba(c: dict) -> bool:
    return "match" in c and "text_jieba" in c["match"]


ABLATIONS = {
    "as built (exact totals, 4 facets, highlight, all clauses)": lambda b: b,
    "track_total_hits 10000": lambda b: {**b, "track_total_hits": 10000},
    "no facets": lambda b: {k: v for k, v in b.items() if k != "aggs"},
    "no highlight": lambda b: {k: v for k, v in b.items() if k != "highlight"},
    "no OCR-slip clauses": lambda b: {**b, "query": _strip(b["query"], _slip)},
    "no jieba should": lambda b: {**b, "query": _strip(b["query"], _jieba)},
    "bounded totals + no facets (page 2+)": lambda b: {
        **{k: v for k, v in b.items() if k != "aggs"}, "track_total_hits": 10000},
}


def table(rows: list[list[str]], head: list[str]) -> str:
    w = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (x + 2) for x in w) + "|",
                      *map(line, rows)])


def measure_size(args, n_pages: int) -> None:
    from search_app import create_app
    from search_app.crypto import vault_from_config
    from search_app.db import get_session
    from search_app.migrations import upgrade
    from search_app.search._backend import admin, create_versioned_index, drop_alias_and_indices
    from search_app.search._choke import reader_identity
    from search_app.search._filter import permission_filter
    import search_corpus

    tmp = Path(tempfile.mkdtemp(prefix="searchbench-"))
    cfg = settings(tmp)
    if args.db == "postgresql":
        from audit_bench import database
        db = database("postgresql", tmp)
        cfg["DATABASE_URL"] = db.__enter__()  # dropped at the end of this size (below)
        args._drop_db = db
    app = create_app(cfg)
    upgrade(cfg["DATABASE_URL"])
    server = baseline = before_port = None
    with app.app_context():
        client = admin()
        alias = cfg["OPENSEARCH_INDEX"]
        index = create_versioned_index(client, alias)
        try:
            print(f"\n== {n_pages:,} pages  (index {index}; load avg {load_avg()})", flush=True)
            from search_app.search._backend import make_client as _make
            # no gzip for the load: level-9 compression of the bodies cost as much CPU as the
            # engine's indexing (bench/bulk_profile.py)
            t = search_corpus.load(_make(app.config, "admin", http_compress=False), index,
                                   n_pages, seed=args.seed,
                                   blind_index=vault_from_config(app.config).blind_index,
                                   threads=args.bulk_threads)
            client.indices.put_alias(index=index, name=alias)
            if args.reindex:
                from bulk_profile import profile
                from search_app.search._backend import index_body, make_client
                from search_app.search.reindex import reindex
                bulk = make_client(app.config, "admin", http_compress=False,
                                   pool_maxsize=args.bulk_threads + 2)
                raw = None if args.reprepare else profile(
                    bulk, index, index_body(), n_pages, threads=args.bulk_threads,
                    variants=args.variants, table=table)
                if args.reprepare:
                    from bulk_profile import store_secrets
                    from search_app.db import get_session as _session
                    stored = store_secrets(_session(), vault_from_config(app.config), bulk, index)
                    print(f"{stored:,} pages given a vault entry (PageSecret) for --reprepare",
                          flush=True)
                import resource
                kids = lambda: (lambda r: r.ru_utime + r.ru_stime)(  # noqa: E731
                    resource.getrusage(resource.RUSAGE_CHILDREN))
                cpu0 = kids()
                rep = reindex(bulk, alias, workers=args.bulk_threads,
                              reprepare=(os.cpu_count() or 1) if args.reprepare else 0)
                if rep.reprepared:
                    r = rep.reprepared
                    print(f"reindex --reprepare: text stages run again on {r.pages - r.copied:,} "
                          f"pages in {os.cpu_count()} processes ({r.copied} copied as stored) at "
                          f"{rep.pages_per_second:.0f} pages/s; the pool's CPU "
                          f"{1000 * (kids() - cpu0) / max(r.pages, 1):.1f} ms per page → "
                          f"{os.cpu_count()} dedicated cores re-prepare at most "
                          f"{os.cpu_count() * r.pages / max(kids() - cpu0, 1e-9):.0f} pages/s; "
                          f"load avg {load_avg()}", flush=True)
                index = rep.new_index
                print(f"flask reindex path: {rep.documents:,} documents ({n_pages:,} pages) "
                      f"loaded at {rep.docs_per_second:.0f} documents/s = "
                      f"{n_pages / rep.load_seconds:.0f} pages/s, {rep.total_seconds:.0f} s with "
                      f"refresh and force-merge; load avg {load_avg()}", flush=True)
                if raw:
                    print(f"reindex ÷ engine raw bulk (same documents, same run): "
                          f"{n_pages / rep.load_seconds / raw['pages_per_s']:.0%}; engine "
                          f"{raw['cpu_ms_per_page']:.2f} CPU ms per page → {os.cpu_count()} cores "
                          f"fully used index at most {os.cpu_count() * 1000 / raw['cpu_ms_per_page']:,.0f} "
                          "pages/s", flush=True)
            stats = client.indices.stats(index=index, metric="store,docs")["indices"][index]
            size = stats["primaries"]["store"]["size_in_bytes"]
            docs = stats["primaries"]["docs"]["count"]
            print(f"loaded {t['documents']:,} documents ({n_pages:,} pages + file documents) in "
                  f"{t['load_s']:.0f} s ({n_pages / t['load_s']:.0f} pages/s, "
                  f"{args.bulk_threads} bulk threads), force-merge {t['merge_s']:.0f} s; "
                  f"index {size / 1e6:.1f} MB = {size / n_pages:.0f} bytes per page "
                  f"({docs:,} Lucene docs); load avg {load_avg()}", flush=True)
            staff, grant, token = bench_reader(get_session(), "bench")
            permission = permission_filter(grant, reader_identity(staff))
            grant_id = grant.id
            page_size = app.config["SEARCH_PAGE_SIZE"]
            port = args.port or _free_port()
            if not args.reads:
                return
            server = start_server(cfg, port, tmp / "gunicorn.log")
            if args.before_tree:  # the two-pass search against the tree before it
                before_port = _free_port()
                baseline = start_server(cfg, before_port, tmp / "gunicorn-before.log",
                                        code=Path(args.before_tree).resolve())
                run_slip_compare(args, cfg, token, grant_id, port, before_port, permission,
                                 page_size, n_pages, app.config["SEARCH_SLIP_BELOW"])
                return
            if args.before:  # the baseline's code on the same database, index and token
                before_port = _free_port()
                baseline = start_server(cfg, before_port, tmp / "gunicorn-before.log",
                                        code=Path(args.before).resolve())
            run_reads(args, cfg, token, grant_id, port, permission, page_size, n_pages, size,
                      before_port=before_port)
        finally:
            for proc in (server, baseline):
                if proc is not None:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=30)
            if args.keep:
                print(f"kept alias {alias} -> {index}")
            else:
                drop_alias_and_indices(client, alias)
                client.indices.delete(index=index, ignore_unavailable=True)
                client.indices.delete(index=cfg["AUDIT_CHECKPOINT_INDEX"], ignore_unavailable=True)
            if getattr(args, "_drop_db", None) is not None:
                app.extensions["db_engine"].dispose()
                args._drop_db.__exit__(None, None, None)
                args._drop_db = None


def bench_reader(session, prefix: str):
    """A staff reader with a two-approver grant over 2 of 3 categories and 4 units (as the issue's
    measurements) and an API token: (user, grant, token)."""
    import search_corpus
    from search_app.accounts.services import create_user, issue_api_token
    from search_app.grants.services import Scope, create_grant

    def mk(role: str, i: int):
        return create_user(session, username=f"{prefix}-{role}{i}", password="bench-password-1",
                           role=role, unit=search_corpus.UNITS[0])
    staff, a1, a2 = mk("staff", 0), mk("approver", 1), mk("approver", 2)
    session.commit()
    grant = create_grant(session, user=staff, approver=a1, second_approver=a2, purpose="规模测试",
                         hours=8, scope=Scope(["户籍档案", "干部人事档案"],
                                              list(search_corpus.UNITS[:4]), "秘密", []))
    session.commit()
    token = issue_api_token(session, staff)
    session.commit()
    return staff, grant, token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_slip_compare(args, cfg, token, grant_id, port, before_port, permission, page_size,
                     n_pages, slip_below) -> None:
    """--before-tree: the two-pass page search against the tree before it (bench/slip_compare)."""
    import numpy as np

    import search_corpus
    from slip_compare import compare, page_one_diff, raw_pair
    api_after, _, _ = targets(cfg, token, grant_id, port, permission, page_size)
    api_before, _, _ = targets(cfg, token, grant_id, before_port, permission, page_size)
    engine = cfg["OPENSEARCH_URL"].split(",")[0].rstrip("/")
    auth = urllib3.make_headers(basic_auth=f"{cfg['OPENSEARCH_WEB_USER']}:"
                                           f"{cfg['OPENSEARCH_WEB_PASSWORD']}")
    local = threading.local()

    def engine_search(body: dict) -> dict:
        if not hasattr(local, "pool"):
            local.pool = urllib3.PoolManager(maxsize=1, cert_reqs="CERT_REQUIRED",
                                             ca_certs=cfg["OPENSEARCH_CA_CERTS"] or None)
        r = local.pool.request("POST", f"{engine}/{cfg['OPENSEARCH_INDEX']}/_search",
                               body=json.dumps(body).encode(),
                               headers={**auth, "Content-Type": "application/json"})
        if r.status != 200:
            raise RuntimeError(f"engine -> {r.status}: {r.data[:300]!r}")
        return json.loads(r.data)

    before, after, ran = raw_pair(engine_search, permission, page_size, slip_below)
    rng = random.Random(args.seed)
    vocab = search_corpus.Vocabulary(np.random.default_rng(args.seed + 1))
    queries = (garbled_queries(rng, vocab, args.latency) if args.garbled
               else make_queries(rng, vocab, args.latency))
    by_name = {"API after": Target("API after", api_after.call),
               "API before": Target("API before", api_before.call),
               "raw before": Target("raw before", before), "raw after": Target("raw after", after)}
    print(page_one_diff(before, after, queries), flush=True)
    ran.update(second=0, searches=0)
    compare(args, by_name, queries, table, pct, load_avg)
    print(f"raw after: the second pass ran in {ran['second']} of {ran['searches']} searches "
          f"({ran['second'] / max(ran['searches'], 1):.0%}); SEARCH_SLIP_BELOW={slip_below}, "
          f"page size {page_size}; {n_pages:,} pages")


def run_reads(args, cfg, token, grant_id, port, permission, page_size, n_pages, size,
              before_port: int | None = None) -> None:
    import numpy as np

    import search_corpus
    api, raw, raw_fn, api_on = targets(cfg, token, grant_id, port, permission, page_size)
    more = [api_on(before_port)] if before_port else []
    rng = random.Random(args.seed)
    vocab = search_corpus.Vocabulary(np.random.default_rng(args.seed + 1))
    queries = make_queries(rng, vocab, args.latency)
    # page views: pages the grant covers, found by its own searches
    views = []
    for q in queries[:40]:
        body = {"size": 5, "_source": ["doc_id"], "query": {"match_phrase": {"text.uni": q.split()[0].strip('"')}}}
        from search_app.search._choke import scoped_body
        import json as _j
        pool = urllib3.PoolManager(ca_certs=cfg["OPENSEARCH_CA_CERTS"] or None)
        r = pool.request("POST", f"{cfg['OPENSEARCH_URL'].rstrip('/')}/{cfg['OPENSEARCH_INDEX']}/_search",
                         body=_j.dumps(scoped_body(permission, body)).encode(),
                         headers={**urllib3.make_headers(basic_auth=f"{cfg['OPENSEARCH_WEB_USER']}:{cfg['OPENSEARCH_WEB_PASSWORD']}"),
                                  "Content-Type": "application/json"})
        views += [h["_id"] for h in _j.loads(r.data)["hits"]["hits"]]
    views = (views * 10)[:args.latency]
    items = {k: v for k, v in {"search": queries, "file": queries, "view": views}.items()
             if k in args.kinds}
    for kind in items:  # warm-up: caches, JIT, connections
        latency(api, raw, kind, items[kind][:10], *more)
        for t in (api, *more):  # every gunicorn worker: the first search loads jieba (seconds)
            throughput(t, kind, items[kind], 8, 1.5)
    lat_rows, tp_rows, summary = [], [], {}
    modes = ["API", "raw", *(t.name for t in more)]
    for kind, its in items.items():
        la = latency(api, raw, kind, its, *more)
        r = la["raw"]
        p = {m: (pct(la[m], 50), pct(la[m], 95), pct(la[m], 99)) for m in modes}
        for m in [m for m in modes if m != "raw"]:
            lat_rows.append([kind, m, len(la[m]), *(f"{v:.1f}" for v in p[m]),
                             *(f"{v:.1f}" for v in p["raw"]),
                             f"{p[m][0] / p['raw'][0]:.2f}", f"{p[m][2] / p['raw'][2]:.2f}",
                             f"{statistics.mean(la[m]) - statistics.mean(r):.1f}", load_avg()])
        summary[kind] = p
    print(f"\nlatency, ms ({n_pages:,} pages; {' / '.join(modes)} interleaved on the same reads)")
    print(table(lat_rows, ["read", "mode", "n", "p50", "p95", "p99", "raw p50", "raw p95",
                           "raw p99", "÷raw p50", "÷raw p99", "−raw mean ms", "load avg"]))
    for kind, its in items.items():
        for c in args.clients:
            res = {}
            order = [api, raw, *more]
            for t in order[c % len(order):] + order[:c % len(order)]:  # order rotating
                res[t.name] = throughput(t, kind, its, c, args.duration)
            tr, pr, er = res["raw"]
            for m in [m for m in modes if m != "raw"]:
                ta, pa, ea = res[m]
                tp_rows.append([kind, c, m, f"{ta:.1f}", f"{pa:.0f}", f"{tr:.1f}", f"{pr:.0f}",
                                f"{ta / tr:.0%}", len(ea) + len(er), load_avg()])
    print(f"\nthroughput ({n_pages:,} pages; {args.duration:.0f} s per cell, modes rotating)")
    print(table(tp_rows, ["read", "clients", "mode", "reads/s", "p99 ms", "raw reads/s",
                          "raw p99 ms", "÷raw", "errors", "load avg"]))
    if args.ablation:
        names = list(ABLATIONS)
        xs: dict[str, list[float]] = {n: [] for n in names}
        for i, q in enumerate(queries * 2):  # variants interleaved per query, order rotating
            for k in range(len(names)):
                name = names[(i + k) % len(names)]
                t0 = time.perf_counter()
                raw_fn("search", q, ABLATIONS[name])
                xs[name].append((time.perf_counter() - t0) * 1000)
        base = statistics.mean(xs[names[0]])
        rows = [[n, f"{pct(x, 50):.1f}", f"{pct(x, 95):.1f}", f"{pct(x, 99):.1f}",
                 f"{statistics.mean(x):.1f}", f"{statistics.mean(x) / base:.2f}"]
                for n, x in xs.items()]
        print(f"\nengine query parts (raw page search, {n_pages:,} pages, {len(queries)} queries "
              f"× 2, variants interleaved; load avg {load_avg()})")
        print(table(rows, ["variant", "p50 ms", "p95 ms", "p99 ms", "mean ms", "mean ÷ as built"]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, action="append", help="repeatable; default 10000")
    ap.add_argument("--latency", type=int, default=150, help="reads per kind for the latency table")
    ap.add_argument("--duration", type=float, default=4.0, help="seconds per throughput cell")
    ap.add_argument("--clients", default="1,4,8,16")
    ap.add_argument("--kinds", default="search,file,view", help="which reads (comma-separated)")
    ap.add_argument("--bulk-threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--ablation", action="store_true")
    ap.add_argument("--reindex", action="store_true",
                    help="also rebuild the loaded index with search_app.search.reindex (pages/s)")
    ap.add_argument("--reprepare", action="store_true",
                    help="with --reindex: give every page a vault entry and run reindex "
                         "--reprepare (the text stages again, every core)")
    ap.add_argument("--variants", action="store_true",
                    help="with --reindex: raw bulk per mapping variant (engine CPU per field)")
    ap.add_argument("--reads", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--garbled", action="store_true",
                    help="with --before-tree: queries whose 5+ character word has no exact page "
                         "(the second pass always runs: its worst case)")
    ap.add_argument("--before-tree", default="",
                    help="a source tree of the code before the two-pass search (git archive): "
                         "page search before/after, API and raw (bench/slip_compare.py)")
    ap.add_argument("--keep", action="store_true", help="keep the index (and print its alias)")
    ap.add_argument("--before", metavar="DIR",
                    help="a checkout of the baseline (e.g. `git archive <commit> | tar -x -C DIR`):"
                         " its app is served too, on the same database and index, and its API "
                         "reads interleave with this one's and the engine's (mode 'API before')")
    ap.add_argument("--db", default="sqlite", choices=("sqlite", "postgresql"),
                    help="the app's database (postgresql: a fresh database on DATABASE_URL_PG)")
    args = ap.parse_args()
    args.clients = [int(c) for c in args.clients.split(",")]
    args.kinds = args.kinds.split(",")
    print(f"search bench: {os.cpu_count()} CPUs, load avg {load_avg()} (the machine is shared: "
          "figures are noisy)")
    for n in args.pages or [10000]:
        measure_size(args, n)
    return 0


if __name__ == "__main__":
    sys.exit(main())
