"""Before/after of the two-pass page search (OCR-slip clauses in a second query only when the
exact matches leave the page short), for bench/search_bench.py --before-tree DIR.

Four ways to run the same page search, interleaved query by query (order rotating) and then
alternating per throughput cell, so the machine's load is the same for all of them:

* API before = POST /api/v1/search on a second gunicorn started from DIR (the tree before the
  change: `git archive <commit> | tar -x -C DIR`), same index, same database, same token;
* API after  = the same request to this tree's gunicorn;
* raw before = the old single query (every clause, build_query(slip=True)) with the permission
  filter, straight to the engine;
* raw after  = this tree's search_app.search._hits.flat_run — the product's two-pass code —
  over an index handle that sends each body wrapped by _choke.scoped_body straight to the engine.

It also prints how often the second pass ran and how far page 1 differs (the same pages in the
same order, the same pages reordered, other pages) between raw before and raw after.
"""
from __future__ import annotations

import statistics
import time
from typing import Any


def raw_pair(engine_search, permission: dict, page_size: int, slip_below: int):
    """(before, after, ran): call(kind, query) functions for the raw modes; `ran` counts the
    second passes of `after`."""
    from search_app.search._choke import scoped_body
    from search_app.search._hits import flat_run
    from search_app.search._query import build_query, parse

    parsed: dict[str, Any] = {}
    ran = {"second": 0, "searches": 0}

    class RawIndex:
        def search(self, body: dict) -> dict:
            return engine_search(scoped_body(permission, body))

    def before(kind: str, q: str) -> list[str]:
        p = parsed.setdefault(q, parse(q))
        resp = engine_search(scoped_body(permission, build_query(p, offset=0, size=page_size)))
        return [h["_id"] for h in resp["hits"]["hits"]]

    def after(kind: str, q: str) -> list[str]:
        p = parsed.setdefault(q, parse(q))
        found = flat_run(p, 0, page_size, "relevance", slip_below=slip_below)(None, RawIndex())
        ran["searches"] += 1
        ran["second"] += bool(found.extra.get("slip_pass"))
        return found.returned_ids

    return before, after, ran


def compare(args, targets_by_name: dict, queries: list[str], table, pct, load_avg) -> None:
    """The latency and throughput tables of the four modes, with the after ÷ before ratios."""
    from search_bench import throughput

    names = ["API before", "API after", "raw before", "raw after"]
    ts = [targets_by_name[n] for n in names]
    for i, q in enumerate(queries[:10]):  # warm-up
        for t in ts:
            t.call("search", q)
    lat: dict[str, list[float]] = {n: [] for n in names}
    for i, q in enumerate(queries):
        for k in range(len(ts)):
            t = ts[(i + k) % len(ts)]
            t0 = time.perf_counter()
            t.call("search", q)
            lat[t.name].append((time.perf_counter() - t0) * 1000)
    rows = []
    for n in names:
        x = lat[n]
        rows.append([n, len(x), f"{pct(x, 50):.1f}", f"{pct(x, 95):.1f}", f"{pct(x, 99):.1f}",
                     f"{statistics.mean(x):.1f}"])
    for side in ("API", "raw"):
        b, a = lat[f"{side} before"], lat[f"{side} after"]
        rows.append([f"{side} after ÷ before", "", *(f"{pct(a, p) / pct(b, p):.2f}"
                                                      for p in (50, 95, 99)),
                     f"{statistics.mean(a) / statistics.mean(b):.2f}"])
    print(f"\ntwo-pass page search, latency ms ({len(queries)} queries, 4 modes interleaved per "
          f"query; load avg {load_avg()})")
    print(table(rows, ["mode", "n", "p50", "p95", "p99", "mean"]))
    from search_app.search._query import has_slip, parse
    slipish = [i for i, q in enumerate(queries) if has_slip(parse(q))]
    if slipish:
        sub = []
        for n in names:
            x = [lat[n][i] for i in slipish]
            sub.append([n, len(x), f"{pct(x, 50):.1f}", f"{pct(x, 95):.1f}", f"{pct(x, 99):.1f}",
                        f"{statistics.mean(x):.1f}"])
        for side in ("API", "raw"):
            b = [lat[f"{side} before"][i] for i in slipish]
            a = [lat[f"{side} after"][i] for i in slipish]
            sub.append([f"{side} after ÷ before", "", *(f"{pct(a, p) / pct(b, p):.2f}"
                                                         for p in (50, 95, 99)),
                        f"{statistics.mean(a) / statistics.mean(b):.2f}"])
        print(f"\nthe same, only the {len(slipish)} queries with a word of 5+ characters (OCR-slip "
              "clauses; the others send the same single query before and after)")
        print(table(sub, ["mode", "n", "p50", "p95", "p99", "mean"]))
    tp = []
    for c in args.clients:
        res = {}
        order = ts if c % 2 else list(reversed(ts))
        for t in order:
            res[t.name] = throughput(t, "search", queries, c, args.duration)
        cells = [f"{res[n][0]:.1f} ({res[n][1]:.0f})" for n in names]
        tp.append([c, *cells, f"{res['API after'][0] / res['API before'][0]:.2f}",
                   f"{res['raw after'][0] / res['raw before'][0]:.2f}",
                   sum(len(res[n][2]) for n in names), load_avg()])
    print(f"\ntwo-pass page search, throughput searches/s (p99 ms), {args.duration:.0f} s cells, "
          "modes alternating")
    print(table(tp, ["clients", *names, "API after÷before", "raw after÷before", "errors",
                     "load avg"]))


def page_one_diff(before, after, queries: list[str]) -> str:
    same = reordered = other = 0
    for q in dict.fromkeys(queries):
        b, a = before("search", q), after("search", q)
        if a == b:
            same += 1
        elif set(a) == set(b):
            reordered += 1
        else:
            other += 1
    return (f"page 1, raw before vs after, {same + reordered + other} distinct queries: "
            f"{same} identical, {reordered} same pages reordered, {other} with other pages")
