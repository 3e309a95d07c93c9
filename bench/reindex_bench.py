"""`flask reindex` from stored prepared documents: where the time goes, and before/after.

    TEST_REDIS_DB=9 nice .venv/bin/python bench/reindex_bench.py --pages 3000 [--rounds 2]
        [--workers 2] [--before <commit>] [--no-stages]

N synthetic pages (bench/search_corpus.py, the product's build_document/build_file_documents
and mappings/pages.json) are bulk-loaded into a fresh versioned index behind an alias of the
run's own. Then, every figure from the same run and the same documents, each with the engine's
CPU per page (node stats: the engine process's CPU time over the stage — an upper bound on a
shared machine — and the same minus the engine's background rate measured over 3 s of silence
just before the stage, pro rata: the other engineers' searches), this process's CPU per page and
the load average; and per reindex run the cap that its CPU per page (engine minus background,
plus client) puts on 2 dedicated cores:

* stages alone: the source read in doc_id order (search_after, as reindex reads it: 500 per
  request, and the larger read batches of the new code), the client's JSON of the bulk bodies,
  and the engine's raw bulk of the documents already in memory (refresh off, async translog,
  no replicas: the engine's own indexing rate), with the engine's merge settings as shipped and
  with the merge settings reindex now loads with;
* `reindex` before (search_app/search/reindex.py of `--before`, default the branch's base,
  loaded from git into this process) and after (the working tree), alternating for `--rounds`
  rounds: each run rebuilds the index behind the alias from the one the previous run left.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

BACKGROUND_S = 3.0
BASE = "00da7b3"  # the branch's base: reindex at 435 pages/s (docs/scaling.md)


def load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def engine_cpu_ms(client) -> float:
    nodes = client.nodes.stats(metric="process")["nodes"]
    return float(sum(n["process"]["cpu"]["total_in_millis"] for n in nodes.values()))


class Stage:
    """Wall time, engine CPU and this process's CPU over a `with` block."""

    def __init__(self, client) -> None:
        self.client = client

    def __enter__(self) -> Stage:
        # the engine's CPU while this process sends nothing (the other engineers' searches and
        # loads): subtracted from the stage's, pro rata, for the "own" figure
        b0, t = engine_cpu_ms(self.client), time.perf_counter()
        time.sleep(BACKGROUND_S)
        self.background = (engine_cpu_ms(self.client) - b0) / (time.perf_counter() - t)
        self.e0, self.c0, self.t0 = (engine_cpu_ms(self.client), time.process_time(),
                                     time.perf_counter())
        return self

    def __exit__(self, *exc: object) -> None:
        self.s = time.perf_counter() - self.t0
        self.client_ms = 1000 * (time.process_time() - self.c0)
        self.engine_ms = engine_cpu_ms(self.client) - self.e0
        self.own_ms = max(0.0, self.engine_ms - self.background * self.s)


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def row(name: str, st: Stage, n_docs: int, n_pages: int) -> list[str]:
    return [name, f"{st.s:.2f}", f"{n_docs / st.s:,.0f}", f"{n_pages / st.s:,.0f}",
            f"{st.engine_ms / n_pages:.2f} / {st.own_ms / n_pages:.2f}",
            f"{st.client_ms / n_pages:.2f}", load_avg()]


def baseline_module(commit: str, name: str = "reindex"):
    """search_app/search/<name>.py as it was at `commit`, as a module of this process (its
    reindex using the re-prepare of the same commit)."""
    src = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:search_app/search/{name}.py"],
                         check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp(prefix=f"{name}-before-")) / f"{name}_before.py"
    path.write_text(src, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"{name}_before", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[f"{name}_before"] = mod  # forked pool children find its functions by name
    spec.loader.exec_module(mod)  # type: ignore[union-attr]
    if name == "reindex":
        mod.Reprepare = baseline_module(commit, "reprepare").Reprepare
    return mod


def read_stream(client, index: str, size: int, filter_path: bool) -> list[dict[str, Any]]:
    docs, after = [], None
    while True:
        body: dict[str, Any] = {"size": size, "sort": [{"doc_id": "asc"}],
                                "query": {"match_all": {}}, "track_total_hits": False}
        if after is not None:
            body["search_after"] = [after]
        kw = {"filter_path": "hits.hits._id,hits.hits._source,hits.hits.sort"} if filter_path else {}
        hits = client.search(index=index, body=body, request_timeout=120, **kw)
        hits = hits.get("hits", {}).get("hits", [])
        if not hits:
            return docs
        docs += [{"_id": h["_id"], "_source": h["_source"]} for h in hits]
        after = hits[-1]["sort"][0]


def raw_bulk(client, docs, body: dict[str, Any], name: str, threads: int,
             extra: dict[str, Any], chunk: int = 500) -> None:
    from opensearchpy import helpers
    import copy

    b = copy.deepcopy(body)
    b["settings"]["index"].update({"refresh_interval": "-1", "number_of_replicas": 0,
                                   "translog": {"durability": "async"}, **extra})
    client.indices.create(index=name, body=b)
    try:
        for ok, item in helpers.parallel_bulk(
                client, ({"_op_type": "index", "_index": name, **d} for d in docs),
                thread_count=threads, chunk_size=chunk, max_chunk_bytes=10 << 20,
                request_timeout=300):
            if not ok:
                raise RuntimeError(f"raw bulk refused a document: {str(item)[:300]}")
        client.indices.flush(index=name, request_timeout=300)
    finally:
        client.indices.delete(index=name, ignore_unavailable=True)


def table(rows: list[list[str]], head: list[str]) -> str:
    w = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w[i]) for i, c in enumerate(r)) + " |"  # noqa: E731
    return "\n".join([line(head), "|" + "|".join("-" * (x + 2) for x in w) + "|",
                      *map(line, rows)])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--before", default=BASE)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--stages", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--reprepare", action="store_true",
                    help="give every page a vault entry and run reindex --reprepare (the text "
                         "stages on every core) before/after instead of the copy")
    args = ap.parse_args()

    from search_bench import settings
    import search_corpus
    from search_app import create_app
    from search_app.crypto import vault_from_config
    from search_app.migrations import upgrade
    from search_app.search import reindex as after_mod
    from search_app.search._backend import (admin, create_versioned_index,
                                            drop_alias_and_indices, index_body, make_client)

    before_mod = baseline_module(args.before)
    tmp = Path(tempfile.mkdtemp(prefix="reindexbench-"))
    cfg = settings(tmp)
    app = create_app(cfg)
    upgrade(cfg["DATABASE_URL"])
    with app.app_context():
        client = make_client(app.config, "admin", http_compress=False,
                             pool_maxsize=args.workers + 2)
        alias = cfg["OPENSEARCH_INDEX"]
        index = create_versioned_index(admin(), alias)
        try:
            print(f"== {args.pages:,} pages, {args.workers} bulk workers, {os.cpu_count()} CPUs; "
                  f"load avg {load_avg()}", flush=True)
            t = search_corpus.load(client, index, args.pages, seed=args.seed,
                                   blind_index=vault_from_config(app.config).blind_index,
                                   threads=args.workers)
            client.indices.put_alias(index=index, name=alias)
            n_docs = client.count(index=index)["count"]
            print(f"bench loader: {t['documents']:,} documents in {t['load_s']:.1f} s = "
                  f"{args.pages / t['load_s']:,.0f} pages/s; load avg {load_avg()}", flush=True)
            head = ["stage", "s", "documents/s", "pages/s", "engine CPU ms/page (all / minus background)",
                    "client CPU ms/page", "load avg"]
            rows: list[list[str]] = []
            if args.stages:
                for size, fp in ((500, False), (500, True), (2000, False)):
                    with Stage(client) as st:
                        docs = read_stream(client, index, size, fp)
                    rows.append(row(f"source read, 1 stream, {size}/request"
                                    + (", filter_path" if fp else ""), st, n_docs, args.pages))
                ser = client.transport.serializer
                with Stage(client) as st:
                    body = "".join(ser.dumps({"index": {"_id": d["_id"]}}) + "\n"
                                   + ser.dumps(d["_source"]) + "\n" for d in docs)
                rows.append(row("client JSON of the bulk bodies", st, n_docs, args.pages))
                print(f"bulk body {len(body.encode()) / 1e6:.1f} MB "
                      f"({len(body.encode()) / n_docs:,.0f} bytes per document)", flush=True)
                for label, extra, chunk in (
                        ("merge settings as shipped", {}, 500),
                        ("reindex's load settings", after_mod.loading_settings(), 500),
                        ("reindex's load settings, 1,300 per request (10 MB)",
                         after_mod.loading_settings(), 1300)):
                    with Stage(client) as st:
                        raw_bulk(client, docs, index_body(), f"{index}-raw{len(rows)}",
                                 args.workers, extra, chunk)
                    rows.append(row(f"engine raw bulk (in memory), {label}", st, n_docs,
                                    args.pages))
                del docs, body
                print(table(rows, head), flush=True)
            procs = 0
            if args.reprepare:
                from bulk_profile import store_secrets
                from search_app.db import get_session
                stored = store_secrets(get_session(), vault_from_config(app.config), client, index)
                procs = os.cpu_count() or 1
                print(f"{stored:,} pages given a vault entry; reindex --reprepare in {procs} "
                      "processes", flush=True)
            runs: list[list[str]] = []
            for r in range(args.rounds):
                for label, mod in (("before", before_mod), ("after", after_mod)):
                    with Stage(client) as st:
                        kids0 = _children_cpu()
                        rep = mod.reindex(client, alias, workers=args.workers, reprepare=procs)
                    if procs:
                        pool = 1000 * (_children_cpu() - kids0) / args.pages
                        print(f"  {label}: pool CPU {pool:.1f} ms/page → {procs} dedicated "
                              f"cores re-prepare at most {procs * 1000 / max(pool, 1e-9):.0f} "
                              "pages/s", flush=True)
                    load_st = Stage(client)
                    load_st.s, load_st.client_ms, load_st.engine_ms = (rep.load_seconds,
                                                                        st.client_ms, st.engine_ms)
                    runs.append([f"round {r + 1} {label}: load", f"{rep.load_seconds:.2f}",
                                 f"{rep.docs_per_second:,.0f}", f"{rep.pages_per_second:,.0f}",
                                 "—", "—", load_avg()])
                    runs[-1][0] += f" (background engine {st.background / 10:.0f} % of a core)"
                    runs.append(row(f"round {r + 1} {label}: whole run (+ refresh, merge, swap)",
                                    st, n_docs, args.pages))
                    cpu = (st.own_ms + st.client_ms) / args.pages
                    print(" | ".join(runs[-2]) + f" || whole run: engine + client CPU "
                          f"{cpu:.2f} ms/page → {os.cpu_count()} dedicated cores: at most "
                          f"{(os.cpu_count() or 1) * 1000 / cpu:,.0f} pages/s", flush=True)
            print(f"\nflask reindex path, before = {args.before}, after = working tree "
                  f"({n_docs:,} documents = {args.pages:,} pages + file documents)")
            print(table(runs, head))
            def rate(lbl: str) -> list[float]:
                return [float(x[3].replace(",", "")) for x in runs
                        if f"{lbl}: load" in x[0]]
            b, a = rate("before"), rate("after")
            print(f"load pages/s before {b} after {a}: after ÷ before "
                  f"{sum(a) / max(sum(b), 1e-9):.2f}; load avg {load_avg()}")
            print(json.dumps({"before": b, "after": a}))
        finally:
            drop_alias_and_indices(admin(), alias)
            for name in admin().indices.get(index=f"{alias}-v*", allow_no_indices=True):
                admin().indices.delete(index=name, ignore_unavailable=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
