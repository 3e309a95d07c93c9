"""Load and soak: N concurrent API users against a real gunicorn of the app, on loopback.

    TEST_REDIS_DB=4 nice .venv/bin/python bench/load.py [--users 50] [--minutes 10]
        [--files 12] [--database-url postgresql+psycopg://…]

Set-up (this process): a fresh database and `test-pages-<hex>` alias on the secured engine;
--files text-layer PDFs of 3 pages (people, ID numbers, phones on every page) and one scanned
PNG ingested through the product's ingest; one staff user per simulated user, each with an
approved grant of its own (户籍档案, the unit, 内部; ID numbers unmaskable, exact look-up
allowed) and a bearer token; gunicorn (2 gthread workers × 4 threads, the web engine identity
only) on 127.0.0.1.

Load (a child process running locust as a library: gevent must patch before anything else is
imported, and the set-up forks an ingest pool that gevent must not see): each user opens a
reading session for its grant and then, for --minutes, picks by weight: search (POST
/api/v1/search, 4), page view (POST /api/v1/pages/<id>, 3), page image (GET the session's
page image, 2), exact look-up by ID number (POST /api/v1/lookup, 1), PDF export of one or two
pages (POST the session's export, 1); it re-opens its session every 40 requests, so images
are not all served from the session's cache. Any status other than 200 is an error.

Printed: requests, errors, p50/p99 per kind and overall, and the RSS of the gunicorn master
and every worker at start and end (and their peak, VmHWM). The export quota per grant
(EXPORT_PAGES_PER_GRANT) is raised for the run: a soak would otherwise exhaust it by design.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PURPOSE = "负载测试：并发检索与阅读"
KINDS = ("search", "page", "image", "lookup", "export")
QUERIES = ["户籍登记", "常住人口", "迁入", "海淀", "派出所", "户主", "登记表 户籍", "学院路",
           "身份证明", "婚姻状况"]


# --- the load (child process: locust) --------------------------------------------------------

def run_locust(spec_path: str) -> int:
    from gevent import monkey  # noqa: F401 (locust patches on import; be explicit)
    monkey.patch_all()
    import gevent
    from locust import HttpUser, between, task
    from locust.env import Environment

    spec = json.loads(Path(spec_path).read_text())
    accounts = list(spec["accounts"])
    docs, lookups = spec["doc_ids"], spec["id_numbers"]

    class Reader(HttpUser):
        host = spec["host"]
        wait_time = between(0.5, 2.0)

        def on_start(self) -> None:
            self.acct = accounts.pop() if accounts else random.choice(spec["accounts"])
            self.client.headers["Authorization"] = f"Bearer {self.acct['token']}"
            self.rng = random.Random(self.acct["grant_id"])
            self.calls = 0
            self._open()

        def _open(self) -> None:
            with self.client.post("/api/v1/sessions", json={"grant_id": self.acct["grant_id"],
                                                             "purpose": PURPOSE},
                                  name="session", catch_response=True) as r:
                if r.status_code != 201:
                    r.failure(f"{r.status_code}: {r.text[:200]}")
                    self.sid = None
                else:
                    self.sid = r.json()["id"]

        def _check(self, r, ctype: str = "application/json") -> None:
            if r.status_code == 0:  # no answer: the connection failed (its exception)
                r.failure(f"no answer: {type(r.error).__name__}: {r.error}")
            elif r.status_code != 200:
                r.failure(f"{r.status_code}: {r.text[:200]}")
            elif not r.headers.get("Content-Type", "").startswith(ctype):
                r.failure(f"content type {r.headers.get('Content-Type')}")
            else:
                r.success()

        def _tick(self) -> None:
            self.calls += 1
            if self.calls % 40 == 0 or self.sid is None:
                self._open()

        def _body(self, **more: Any) -> dict[str, Any]:
            return {"grant_id": self.acct["grant_id"], "purpose": PURPOSE, **more}

        @task(4)
        def search(self) -> None:
            self._tick()
            q = self.rng.choice(QUERIES)
            with self.client.post("/api/v1/search", json=self._body(q=q), name="search",
                                  catch_response=True) as r:
                self._check(r)
                if r.status_code == 200 and not r.json().get("total"):
                    r.failure(f"no hits for {q}")

        @task(3)
        def page(self) -> None:
            self._tick()
            doc = self.rng.choice(docs).replace("#", "%23")
            with self.client.post(f"/api/v1/pages/{doc}", json=self._body(), name="page",
                                  catch_response=True) as r:
                self._check(r)

        @task(2)
        def image(self) -> None:
            self._tick()
            doc = self.rng.choice(docs).replace("#", "%23")
            with self.client.get(f"/api/v1/sessions/{self.sid}/pages/{doc}/image", name="image",
                                 catch_response=True) as r:
                self._check(r, "image/png")

        @task(1)
        def lookup(self) -> None:
            self._tick()
            with self.client.post("/api/v1/lookup", json=self._body(
                    kind="id_number", value=self.rng.choice(lookups)), name="lookup",
                    catch_response=True) as r:
                self._check(r)
                if r.status_code == 200 and not r.json().get("total"):
                    r.failure("look-up found nothing")

        @task(1)
        def export(self) -> None:
            self._tick()
            pages = self.rng.sample(docs, self.rng.choice((1, 2)))
            with self.client.post(f"/api/v1/sessions/{self.sid}/export",
                                  json={"doc_ids": pages}, name="export",
                                  catch_response=True) as r:
                self._check(r, "application/pdf")

    # At the end each user finishes the request it is waiting for (stop_timeout) instead of
    # being killed mid-request, which locust would count as a failed request with status 0.
    env = Environment(user_classes=[Reader], stop_timeout=180)
    crashes: dict[str, int] = {}

    def user_error(user_instance, exception, tb) -> None:  # an exception in a task is an error
        key = f"exception: {type(exception).__name__}: {exception}"[:300]
        crashes[key] = crashes.get(key, 0) + 1
    env.events.user_error.add_listener(user_error)
    runner = env.create_local_runner()
    runner.start(spec["users"], spawn_rate=max(1, spec["users"] / 10))
    gevent.spawn_later(spec["seconds"], runner.stop)
    gevent.sleep(spec["seconds"] + 1)
    while runner.user_count:  # users still finishing their last request
        gevent.sleep(1)
    runner.quit()
    out = {"kinds": {}, "errors": {}}
    for (name, _method), e in env.stats.entries.items():
        out["kinds"][name] = {"n": e.num_requests, "errors": e.num_failures,
                              "p50": e.get_response_time_percentile(0.5),
                              "p99": e.get_response_time_percentile(0.99),
                              "max": e.max_response_time, "rps": e.total_rps}
    t = env.stats.total
    out["total"] = {"n": t.num_requests, "errors": t.num_failures,
                    "p50": t.get_response_time_percentile(0.5),
                    "p99": t.get_response_time_percentile(0.99), "max": t.max_response_time,
                    "rps": t.total_rps}
    for err in env.stats.errors.values():
        out["errors"][f"{err.name}: {err.error}"[:300]] = err.occurrences
    out["errors"].update(crashes)
    out["total"]["errors"] += sum(crashes.values())
    Path(spec["result"]).write_text(json.dumps(out, ensure_ascii=False))
    return 0


# --- set-up and the run (parent process) ------------------------------------------------------

def _people(n: int) -> list[dict[str, str]]:
    """Consistent synthetic people (valid ID checksums, phones): the tests' generator."""
    sys.path.insert(0, str(ROOT))
    from tests.synth.people import People
    source = People(random.Random(7))
    return [{"name": p.name, "id18": p.id18, "phone": p.mobile}
            for p in (source.person() for _ in range(n))]


def setup(tmp: Path, cfg: dict[str, Any], files: int, users: int) -> dict[str, Any]:
    from search_app import create_app
    from search_app.accounts.services import create_user, issue_api_token
    from search_app.db import get_session
    from search_app.demo import render_file
    from search_app.grants.services import Scope, create_grant
    from search_app.ingest.jobs import start_job, wait_for_job
    from search_app.migrations import upgrade
    from search_app.search._backend import ensure_index, make_client

    app = create_app(cfg)
    upgrade(cfg["DATABASE_URL"])
    ensure_index(make_client(app.config, "admin"), cfg["OPENSEARCH_INDEX"])
    folder = tmp / "corpus"
    folder.mkdir()
    rng = random.Random(3)
    people = _people(files * 3 + 1)
    specs, ids = [], []
    for i in range(files):
        pages = []
        for p in range(3):
            person = people[i * 3 + p]
            ids.append(person["id18"])
            pages.append([f"常住人口登记表 户籍登记 第{p + 1}页", f"户主姓名 {person['name']}",
                          f"公民身份号码 {person['id18']}", f"联系电话 {person['phone']}",
                          f"住址 北京市海淀区{rng.choice(['学院路', '中关村大街', '海淀路'])}"
                          f"{rng.randint(1, 99)}号 迁入 派出所 身份证明 婚姻状况 已婚"])
        specs.append({"archive_no": f"LD-{i:04d}", "title": f"负载测试户籍档案{i}",
                      "category": "户籍档案", "unit": "北京市公安局海淀分局", "year": 2000 + i,
                      "classification": "内部", "file": f"LD-{i:04d}.pdf", "format": "pdf_text",
                      "pages": pages})
    person = people[-1]
    specs.append({"archive_no": "LD-SCAN", "title": "负载测试扫描件", "category": "户籍档案",
                  "unit": "北京市公安局海淀分局", "year": 1999, "classification": "内部",
                  "file": "LD-SCAN.png", "format": "png",
                  "pages": [["常住人口登记表 户籍登记", f"户主姓名 {person['name']}",
                             f"公民身份号码 {person['id18']}", "住址 北京市海淀区学院路"]]})
    with app.app_context():
        for spec in specs:
            render_file(spec, folder)
        manifest = [{k: v for k, v in s.items() if k not in ("format", "pages")} for s in specs]
        (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False))
        job = start_job(folder / "manifest.json", base_dir=folder, created_by="load", queue=False)
        progress = wait_for_job(job.id, echo=lambda _l: None, timeout=1800)
        if progress.files_failed:
            raise SystemExit(f"the load corpus did not ingest: {progress.errors}")
        session = get_session()
        approvers = [create_user(session, username=f"load-approver{k}", password="load-Pass-1234",
                                 role="approver", unit="北京市公安局海淀分局") for k in (1, 2)]
        accounts = []
        for k in range(users):
            user = create_user(session, username=f"load-staff{k:03d}", password="load-Pass-1234",
                               role="staff", unit="北京市公安局海淀分局")
            session.flush()
            grant = create_grant(session, user=user, approver=approvers[0],
                                 second_approver=approvers[1], purpose=PURPOSE, hours=12,
                                 scope=Scope(["户籍档案"], ["北京市公安局海淀分局"], "内部", []),
                                 unmask_fields=["id_number"], allow_lookup=True)
            accounts.append({"grant_id": grant.id, "token": issue_api_token(session, user)})
        session.commit()
    doc_ids = [f"LD-{i:04d}#p{p:04d}" for i in range(files) for p in (1, 2, 3)] + ["LD-SCAN#p0001"]
    return {"accounts": accounts, "doc_ids": doc_ids, "id_numbers": ids[:5]}


def warm_up(host: str, account: dict[str, Any]) -> None:
    """A few reads before the clock starts: each gunicorn worker's first request loads what the
    app loads lazily (jieba, the engine client), about 10 s on the loaded machine."""
    import urllib.request
    for _ in range(6):
        req = urllib.request.Request(f"{host}/api/v1/search", method="POST", data=json.dumps(
            {"grant_id": account["grant_id"], "purpose": PURPOSE, "q": "户籍"}).encode(),
            headers={"Authorization": f"Bearer {account['token']}",
                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=120) as resp:
            resp.read()


def _rss(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in MiB, or (0, 0) if the process is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0, 0
    vals = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    kib = lambda k: int(vals.get(k, "0 kB").split()[0])  # noqa: E731
    return kib("VmRSS") // 1024, kib("VmHWM") // 1024


def _gunicorn_pids(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True,
                         text=True).stdout.split()
    return [master] + sorted(int(p) for p in out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--files", type=int, default=12)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--database-url", default=None)
    ap.add_argument("--run-locust", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.run_locust:
        return run_locust(args.run_locust)

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "bench"))
    from search_bench import settings
    from search_app.search._backend import drop_alias_and_indices, make_client

    tmp = Path(tempfile.mkdtemp(prefix="load-"))
    cfg = settings(tmp)
    if args.database_url:
        cfg["DATABASE_URL"] = args.database_url
    cfg["EXPORT_PAGES_PER_GRANT"] = 10_000_000
    port = args.port or random.randint(20_000, 40_000)
    print(f"index {cfg['OPENSEARCH_INDEX']}, work folder {tmp}")
    try:
        return _run(args, tmp, cfg, port)
    finally:
        from search_app.config import load_settings
        client = make_client(load_settings(env={}, overrides=cfg), "admin")
        drop_alias_and_indices(client, cfg["OPENSEARCH_INDEX"])
        client.indices.delete(index=cfg["AUDIT_CHECKPOINT_INDEX"], ignore_unavailable=True)
        shutil.rmtree(tmp, ignore_errors=True)  # database, blobs, keys, corpus of the run


def _run(args: argparse.Namespace, tmp: Path, cfg: dict[str, Any], port: int) -> int:
    from search_bench import start_server
    t0 = time.monotonic()
    spec = setup(tmp, cfg, args.files, args.users)
    print(f"set-up {time.monotonic() - t0:.0f} s: {len(spec['doc_ids'])} pages, "
          f"{len(spec['accounts'])} users with a grant each; load {os.getloadavg()[0]:.1f}")
    server = start_server(cfg, port, tmp / "gunicorn.log")
    try:
        warm_up(f"http://127.0.0.1:{port}", spec["accounts"][0])
        pids = _gunicorn_pids(server.pid)
        start_rss = {pid: _rss(pid) for pid in pids}
        spec.update(host=f"http://127.0.0.1:{port}", users=args.users,
                    seconds=int(args.minutes * 60), result=str(tmp / "result.json"))
        (tmp / "spec.json").write_text(json.dumps(spec))
        began = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        loads = [os.getloadavg()[0]]
        child = subprocess.Popen([sys.executable, __file__, "--run-locust", str(tmp / "spec.json")],
                                 cwd=ROOT)
        while child.poll() is None:
            time.sleep(15)
            loads.append(os.getloadavg()[0])
        end_pids = _gunicorn_pids(server.pid)
        end_rss = {pid: _rss(pid) for pid in end_pids}
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
    result = json.loads((tmp / "result.json").read_text())
    print(f"\n{args.users} users × {args.minutes:g} min from {began}; load average during the "
          f"run {min(loads):.1f}–{max(loads):.1f} (2 cores, shared)")
    print("\n| request | n | errors | p50 ms | p99 ms | max ms | req/s |\n|---|---|---|---|---|---|---|")
    for kind in (*KINDS, "session"):
        k = result["kinds"].get(kind)
        if k:
            print(f"| {kind} | {k['n']} | {k['errors']} | {k['p50']:.0f} | {k['p99']:.0f} | "
                  f"{k['max']:.0f} | {k['rps']:.1f} |")
    t = result["total"]
    print(f"| **all** | {t['n']} | **{t['errors']}** | {t['p50']:.0f} | {t['p99']:.0f} | "
          f"{t['max']:.0f} | {t['rps']:.1f} |")
    print("\n| process | pid | RSS start MiB | RSS end MiB | peak (VmHWM) MiB |\n|---|---|---|---|---|")
    for pid in sorted(set(pids) | set(end_pids)):
        role = "gunicorn master" if pid == server.pid else "gunicorn worker"
        s, e = start_rss.get(pid, (0, 0)), end_rss.get(pid, (0, 0))
        print(f"| {role} | {pid} | {s[0] or '—'} | {e[0] or '— (exited)'} | {max(s[1], e[1])} |")
    for err, n in result["errors"].items():
        print(f"ERROR ×{n}: {err}")
    return 0 if t["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
