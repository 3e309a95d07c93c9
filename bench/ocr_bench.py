"""OCR throughput benchmark: the whole ingest pipeline against plain Tesseract, fairly.

    PYTHONPATH=. .venv/bin/python bench/ocr_bench.py [--pages 8] [--runs 3] [--profile 2]

Headline: pages/s of the product's synchronous ingest (`start_job(queue=False)`: the file phase,
then the page loop in its pool of one process per core: page load, preprocessing, OCR, PII
detection, redaction, image burn-in, PNG encoding, encryption, the database commit and the bulk
index request, against the real SQLite file, blob store and secured OpenSearch), divided by
pages/s of plain single-threaded `tesseract` (one process per core, the same language, psm and
TSV output) on the SAME prepared image the pipeline hands Tesseract (the page loaded and
preprocessed exactly as ingest does, written beforehand in the format ocr_image gives Tesseract,
uncompressed PGM, so the baseline neither renders nor preprocesses and both sides decode the
same file). Each run measures both, interleaved; the table gives min/median/max over the runs
and the peak RSS of every pool process and Tesseract process (VmHWM, sampled). The text stages'
dictionaries are loaded once before the runs, as a long-lived worker does.

A third side, measured in the same runs, is the same recognition through libtesseract inside
one fresh process per core (models loaded once per process, as the pipeline now runs Tesseract,
indexer/tesseract_api.py): the headline's baseline pays Tesseract's start-up on every page, this
one does not, so "pipeline ÷ in-process recognition" is what the pipeline's own work costs.

Besides wall time each side's CPU seconds per page are counted (this process and every reaped
descendant: pool processes and their tesseract children, getrusage): on a machine shared with
other work the wall ratio moves with the load (each side gets the cores' share the scheduler
gives it), the CPU ratio hardly does, and it is what the wall ratio tends to on an idle machine
with every core busy. The engine's CPU (bulk requests, refreshes) is in neither figure.

Pages: realistic noisy A4 scans from tests/synth (`scanned_page`): 200 and 300 dpi alternating,
every fourth in traditional script, ±2° skew, paper tone, uneven light, blur, speckle, some on a
dark scanner bed, several people and every PII format per page. The CER column compares what
each side read with the page's printed text (whitespace removed, both folded width- and
traditional→simplified), so a speed-up that costs accuracy shows.

`--profile N` runs the same page loop in this process on N pages with every stage timed (where
the remaining time goes: wall, Python CPU and tesseract CPU per page); the profile is not part of
the headline. `--steps N` measures what the
preprocessing steps buy: CER on N of the pages with no preprocessing, with all default steps, and
with all but one (each step left out in turn), one process per core.
"""
from __future__ import annotations

import argparse
import base64
import os
import resource
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from indexer.normalise import for_search  # noqa: E402
from indexer.ocr import save_ocr_input  # noqa: E402
from indexer.pages import load_page  # noqa: E402
from indexer.pipeline import PipelineOptions  # noqa: E402
from indexer.preprocess import DEFAULT_STEPS, preprocess  # noqa: E402

OPTS = PipelineOptions()


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def make_app(tmp: Path, processes: int):
    """The product over the running services (var/local.env), with its own SQLite file, blob
    dir and index alias (named like the tests', the form the engine's roles let the worker
    write)."""
    from search_app import create_app
    from search_app.config import read_env_file
    from search_app.migrations import upgrade
    from search_app.search._backend import ensure_index, make_client

    local = read_env_file(ROOT / "var" / "local.env")
    settings = {
        "SECRET_KEY": _key(), "ARCHIVE_DATA_KEY": _key(), "ARCHIVE_BLIND_INDEX_KEY": _key(),
        "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3", "BLOB_DIR": str(tmp / "blobs"),
        "KEY_STORE_DIR": str(tmp / "keys"),  # its own: the default var/keys would keep this
        # run's per-file keys, wrapped by this run's random master key, for the next run to trip on
        **{k: v for k, v in local.items() if k.startswith("OPENSEARCH_") and k != "OPENSEARCH_INDEX"},
        "OPENSEARCH_INDEX": f"test-pages-{uuid.uuid4().hex[:8]}",
        "REDIS_URL": re.sub(r"/\d*$", "", local.get("REDIS_URL", "redis://127.0.0.1:6379/0")) + "/14",
        "INGEST_UPLOAD_DIR": str(tmp / "uploads"), "WORKER_CONCURRENCY": processes,
        "OCR_TIMEOUT_S": 1800,  # a loaded machine must not turn slowness into failures
    }
    app = create_app(settings)  # also the process set-up: OMP_THREAD_LIMIT=1 (config.init_process)
    upgrade(settings["DATABASE_URL"])
    ensure_index(make_client(app.config, "admin"), settings["OPENSEARCH_INDEX"])
    return app


def make_pages(n: int, folder: Path) -> list[dict]:
    """Scans as PNG files (what an operator ingests) and, for the baseline, the image the
    pipeline gives Tesseract for each (loaded and preprocessed as ingest does)."""
    from tests.synth.scan import scanned_page

    out = []
    for i in range(n):
        page = scanned_page(1000 + i, dpi=200 if i % 2 else 300, traditional=i % 4 == 3)
        scan = folder / f"scan{i}.png"
        page.image.save(scan, dpi=(page.dpi, page.dpi))
        loaded = load_page(scan.read_bytes(), 1, dpi=OPTS.dpi, max_pixels=OPTS.max_pixels,
                           view_max_edge=OPTS.view_max_edge)
        prepared = folder / f"prepared{i}.pgm"  # the format the pipeline hands Tesseract
        save_ocr_input(preprocess(loaded.image, steps=OPTS.preprocess).image, prepared)
        out.append({"scan": scan, "prepared": prepared, "text": page.text, "dpi": page.dpi,
                    "traditional": page.traditional})
    return out


def cer(truth: str, got: str) -> float:
    a, b = for_search("".join(truth.split())), for_search("".join(got.split()))
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(len(a), 1)


def tesseract_tsv(path: str) -> str:
    """Plain Tesseract as the pipeline calls it (pytesseract.image_to_data: psm 6, TSV), on a
    file already written: no Python around it but the subprocess call."""
    out = subprocess.run(["tesseract", path, "stdout", "-l", OPTS.langs, "--psm", "6", "tsv"],
                         check=True, capture_output=True, env={**os.environ, "OMP_THREAD_LIMIT": "1"})
    words = [line.split("\t")[11] for line in out.stdout.decode().splitlines()[1:]
             if line.count("\t") >= 11 and line.split("\t")[0] == "5"]
    return "".join(w.strip() for w in words)


class RssSampler:
    """Peak RSS (VmHWM) of every descendant process, sampled every 200 ms, by command.

    Its own CPU (`cpu`, this thread's) is measured so the sides' CPU figures can leave it out:
    walking /proc every 50 ms cost 1.3 % of a core, which on a slow run added up to a second of
    CPU per page, more on the slower side."""

    def __init__(self) -> None:
        self.cpu = 0.0
        self.peaks: dict[int, tuple[str, int]] = {}
        self.direct: set[int] = set()  # this process's own children: the pool's processes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _children(self, pid: int) -> list[int]:
        out = []
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                out += [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                pass
        return out

    def _run(self) -> None:
        start = time.thread_time()
        try:
            self._sample()
        finally:
            self.cpu = time.thread_time() - start

    def _sample(self) -> None:
        while not self._stop.is_set():
            todo, seen = self._children(os.getpid()), set()
            self.direct.update(todo)
            while todo:
                pid = todo.pop()
                if pid in seen:
                    continue
                seen.add(pid)
                todo += self._children(pid)
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    name = Path(f"/proc/{pid}/comm").read_text().strip()
                except OSError:
                    continue
                hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
                if hwm:
                    kb = int(hwm.group(1))
                    if kb > self.peaks.get(pid, ("", 0))[1]:
                        self.peaks[pid] = (name, kb)
            self._stop.wait(0.2)  # VmHWM is a high-water mark: only a process's end is missed

    def by_kind(self) -> dict[str, int]:
        """Largest peak (MiB) among the pool's Python processes and among tesseract processes."""
        out: dict[str, int] = defaultdict(int)
        for name, kb in self.peaks.values():
            kind = "tesseract" if name.startswith("tesseract") else "pool process"
            out[kind] = max(out[kind], kb // 1024)
        return out

    def pool_peaks(self) -> list[int]:
        """Peak RSS (MiB) of each pool (worker) process, largest first: this process's own
        children (a pool process's fork for a tesseract, caught before its exec, would show the
        pool process's figure again)."""
        return sorted((kb // 1024 for pid, (name, kb) in self.peaks.items()
                       if pid in self.direct and not name.startswith("tesseract")), reverse=True)


class CpuClock:
    """CPU seconds (user + system) of this process and of its reaped descendants: the pool
    processes and every tesseract they ran (a child's figures reach its parent when it is
    waited for, so a side's pool must be joined inside the block). Unlike wall time it hardly
    depends on what else the shared machine runs; the engine's own CPU is not in it."""

    def __enter__(self) -> CpuClock:
        self._start = self._now()
        return self

    def __exit__(self, *_exc) -> None:
        self.seconds = self._now() - self._start

    @staticmethod
    def _now() -> float:
        me = resource.getrusage(resource.RUSAGE_SELF)
        return me.ru_utime + me.ru_stime + _children_cpu()


def engine_tsv(path: str) -> str:
    """The same recognition through libtesseract in this (pool) process, as the pipeline now
    runs it: the models are loaded once per process, not once per page."""
    from PIL import Image

    from indexer import tesseract_api

    with Image.open(path) as img:
        img.load()
        tsv = tesseract_api.recognise_tsv(img, langs=OPTS.langs, timeout=1800)
    words = [line.split("\t")[11] for line in tsv.splitlines()
             if line.count("\t") >= 11 and line.split("\t")[0] == "5"]
    return "".join(w.strip() for w in words)


def run_engine(pages: list[dict], processes: int) -> tuple[float, float]:
    """Plain recognition in process (no start-up per page), one fresh process per core: pages/s
    and CPU s/page. What the pipeline's own work is measured against once start-up is gone."""
    with CpuClock() as cpu:
        with ProcessPoolExecutor(processes, mp_context=_fork()) as pool:
            t = time.perf_counter()
            list(pool.map(engine_tsv, [str(p["prepared"]) for p in pages]))
            seconds = time.perf_counter() - t
    return len(pages) / seconds, cpu.seconds / len(pages)


def _fork():
    import multiprocessing

    return multiprocessing.get_context("fork")


def run_baseline(pages: list[dict], processes: int) -> tuple[float, float, dict[str, int], float]:
    with RssSampler() as rss, CpuClock() as cpu:
        with ProcessPoolExecutor(processes) as pool:
            t = time.perf_counter()
            texts = list(pool.map(tesseract_tsv, [str(p["prepared"]) for p in pages]))
            seconds = time.perf_counter() - t
    return len(pages) / seconds, statistics.mean(cer(p["text"], x) for p, x in zip(pages, texts)), \
        rss.by_kind(), (cpu.seconds - rss.cpu) / len(pages)


def run_pipeline(app, pages: list[dict], run: int, folder: Path
                 ) -> tuple[float, float, dict[str, int], float, list[int]]:
    """The product's synchronous ingest of the scans as one job (new 档号 each run, so nothing is
    skipped as unchanged); pages/s from the job's start to its last page indexed."""
    import json

    from sqlalchemy import select

    from search_app.crypto import vault_from_config
    from search_app.db import get_session
    from search_app.ingest.jobs import start_job, wait_for_job
    from search_app.ingest.models import IngestFile, PageSecret
    from search_app.ingest.secrets import decode_secret

    rows = [{"archive_no": f"BENCH-R{run}-{i:03d}", "title": f"基准页面{i}", "category": "户籍档案",
             "unit": "北京市公安局海淀分局", "year": 2020, "classification": "内部",
             "file": p["scan"].name} for i, p in enumerate(pages)]
    manifest = folder / f"manifest{run}.json"
    manifest.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    with RssSampler() as rss, CpuClock() as cpu:
        t = time.perf_counter()
        job = start_job(manifest, base_dir=folder, created_by="bench", queue=False)
        seconds = time.perf_counter() - t
    progress = wait_for_job(job.id, echo=lambda _l: None, poll=0.2)
    for name, error in progress.errors:
        print(f"  ingest failed: {name}: {error}", flush=True)
    session = get_session()
    vault = vault_from_config(app.config)
    errors = []
    for row, p in zip(rows, pages):
        secret = session.get(PageSecret, f"{row['archive_no']}#p0001")
        text, _ = decode_secret(vault.decrypt(secret.ciphertext, aad=secret.doc_id.encode()))
        errors.append(cer(p["text"], text))
    assert all(f.state == "done" for f in session.execute(
        select(IngestFile).where(IngestFile.job_id == job.id)).scalars()), progress.errors
    return len(pages) / seconds, statistics.mean(errors), rss.by_kind(), \
        (cpu.seconds - rss.cpu) / len(pages), rss.pool_peaks()


ENGINE = "OCR: recognition in process (libtesseract)"


def profile(app, pages: list[dict], folder: Path) -> None:
    """The same page loop, in this process, with each stage timed: wall seconds, this process's
    CPU seconds and its children's (the tesseract processes) per page. The CPU columns are what
    the shared machine's load does not distort."""
    import json

    import pytesseract
    from sqlalchemy.orm import Session

    from indexer import orient, page_image, pipeline, tesseract_api
    from search_app.blobs import BlobStore
    from search_app.crypto import Vault
    from search_app.ingest import jobs, keep, pagework
    from search_app.ingest.jobs import start_job

    spent: dict[str, float] = defaultdict(float)
    own: dict[str, float] = defaultdict(float)
    kids: dict[str, float] = defaultdict(float)
    originals = []

    def timed(owner, name: str, label: str) -> None:
        real = getattr(owner, name)
        originals.append((owner, name, real))

        def wrapper(*args, **kwargs):
            t, c, k = time.perf_counter(), time.process_time(), _children_cpu()
            try:
                return real(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - t
                own[label] += time.process_time() - c
                kids[label] += _children_cpu() - k
        setattr(owner, name, wrapper)

    timed(jobs, "run_file", "file phase (hash, encrypt and store the original, page rows)")
    timed(pagework, "load_page", "load page (decode file, render/scale)")
    timed(pipeline, "preprocess", "preprocess an embedded picture")
    timed(orient, "preprocess", "preprocess (crop, deskew, denoise, binarise, scale)")
    timed(orient, "osd_rotation", "orientation detection (OSD, a second tesseract run)")
    timed(orient, "ink_ratio", "page checks (ink ratio, sideways)")
    timed(orient, "sideways", "page checks (ink ratio, sideways)")
    timed(orient, "ocr_image", "OCR: ocr_image in all (input file, tesseract, TSV, lines)")
    timed(pytesseract.pytesseract, "run_tesseract", "OCR: tesseract process")
    timed(tesseract_api, "recognise_tsv", ENGINE)
    timed(pipeline, "fit_view", "fit served view")
    timed(pagework, "prepare", "PII detection, redaction, normalise, jieba")
    timed(keep, "redact_image", "image burn-in (boxes)")
    timed(keep, "store_redacted_image", "burn-in + PNG encode + encrypt + write image")
    timed(BlobStore, "put_page_image", "encrypt + write page image")
    timed(Vault, "encrypt", "AES-GCM encrypt (all)")
    timed(keep, "build_document", "build index document")
    timed(Session, "commit", "database commits")
    timed(pagework, "index_pages", "bulk index request")
    timed(pagework, "record_page", "digitisation QA record")
    timed(pagework, "finish_file", "finish file (file documents, refreshes)")
    timed(pagework, "keep_page", "keep page (secret, image, document)")
    rows = [{"archive_no": f"BENCH-P-{i:03d}", "title": f"基准页面{i}", "category": "户籍档案",
             "unit": "北京市公安局海淀分局", "year": 2020, "classification": "内部",
             "file": p["scan"].name} for i, p in enumerate(pages)]
    manifest = folder / "manifest-profile.json"
    manifest.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    app.config["WORKER_CONCURRENCY"] = 1  # in this process, where the wrappers are
    t = time.perf_counter()
    pagework.warm_up()  # what the pool's parent does once before forking
    warm = time.perf_counter() - t
    try:
        t, c, k = time.perf_counter(), time.process_time(), _children_cpu()
        start_job(manifest, base_dir=folder, created_by="bench", queue=False)
        total = time.perf_counter() - t
        own_total, kids_total = time.process_time() - c, _children_cpu() - k
    finally:
        for owner, name, real in originals:
            setattr(owner, name, real)
    n = len(pages)
    # Recognition in process is this process's CPU: counted as tesseract's, and taken out of
    # the Python figure of the stage around it (ocr_image).
    engine = own.get(ENGINE, 0.0)
    own_total, kids_total = own_total - engine, kids_total + engine
    if ENGINE in own:
        kids[ENGINE], own[ENGINE] = engine, 0.0
        around = "OCR: ocr_image in all (input file, tesseract, TSV, lines)"
        own[around] -= engine
        kids[around] += engine
    cpu_total = own_total + kids_total
    print(f"\nprofile: the page loop in one process, {n} pages, {total / n:.2f} s/page wall, "
          f"CPU {own_total / n:.2f} s/page in Python + {kids_total / n:.2f} s/page in tesseract "
          f"(after {warm:.2f} s loading the text stages' dictionaries once per process tree)")
    print("| stage | wall s/page | CPU s/page (Python) | CPU s/page (tesseract) | share of CPU |\n"
          "|---|---|---|---|---|")
    for label, sec in spent.items():
        print(f"| {label} | {sec / n:.3f} | {own[label] / n:.3f} | {kids[label] / n:.3f} | "
              f"{100 * (own[label] + kids[label]) / max(cpu_total, 1e-9):.1f}% |")
    print(f"| (all) | {total / n:.3f} | {own_total / n:.3f} | {kids_total / n:.3f} | 100% |")
    _ = page_image  # imported for the reader: fit_view and redact_image live there


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _steps_case(args: tuple[str, tuple[str, ...] | None, str]) -> tuple[str, float, float]:
    from indexer.ocr import ocr_image

    scan, steps, truth = args
    img = load_page(Path(scan).read_bytes(), 1, dpi=OPTS.dpi, max_pixels=OPTS.max_pixels,
                    view_max_edge=OPTS.view_max_edge).image
    t = time.perf_counter()
    if steps is not None:
        img = preprocess(img, steps=steps).image
    seconds = time.perf_counter() - t
    return scan, cer(truth, ocr_image(img, langs=OPTS.langs).text), seconds


def steps_table(pages: list[dict], processes: int) -> None:
    """CER with no preprocessing, all default steps, and all but one step."""
    configs: list[tuple[str, tuple[str, ...] | None]] = [("none (the page as loaded)", None),
                                                         ("all: " + ",".join(DEFAULT_STEPS), DEFAULT_STEPS)]
    configs += [(f"all but {s}", tuple(x for x in DEFAULT_STEPS if x != s))
                for s in DEFAULT_STEPS if s != "grayscale"]
    cases = [(str(p["scan"]), steps, p["text"]) for _, steps in configs for p in pages]
    with ProcessPoolExecutor(processes) as pool:
        results = list(pool.map(_steps_case, cases))
    print(f"\npreprocessing steps, {len(pages)} pages: CER (mean) and preprocessing s/page\n"
          "| steps | CER | preprocess s/page |\n|---|---|---|")
    for i, (name, _) in enumerate(configs):
        chunk = results[i * len(pages):(i + 1) * len(pages)]
        print(f"| {name} | {100 * statistics.mean(r[1] for r in chunk):.2f}% | "
              f"{statistics.mean(r[2] for r in chunk):.2f} |", flush=True)


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def percents(values: list[float]) -> str:
    return " / ".join(f"{100 * r:.0f}%" for r in (min(values), statistics.median(values), max(values)))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", type=int, default=2, help="pages for the per-stage profile (0: none)")
    ap.add_argument("--steps", type=int, default=0, help="pages for the preprocessing-steps CER table")
    args = ap.parse_args()
    from search_app.config import cpu_count

    cores = cpu_count()
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as tmp:
        folder = Path(tmp)
        app = make_app(folder, cores)
        try:
            with app.app_context():
                t = time.perf_counter()
                pages = make_pages(args.pages, folder)
                print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC; {args.pages} synthetic A4 scans "
                      f"({sum(p['dpi'] == 300 for p in pages)} at 300 dpi, "
                      f"{sum(p['dpi'] == 200 for p in pages)} at 200 dpi, "
                      f"{sum(p['traditional'] for p in pages)} traditional) made in "
                      f"{time.perf_counter() - t:.0f} s; {cores} processes each side; "
                      f"{OPTS.langs}, preprocessing {','.join(OPTS.preprocess)}", flush=True)
                from search_app.ingest.pagework import warm_up

                t = time.perf_counter()
                warm_up()  # once per process tree, as a long-lived worker does: not per run
                print(f"text stages' dictionaries loaded in {time.perf_counter() - t:.1f} s "
                      "(once, before the runs)", flush=True)
                tess, pipe, ratio, tess_cpu, pipe_cpu, cpu_ratio = [], [], [], [], [], []
                eng, eng_cpu, eng_ratio, eng_cpu_ratio = [], [], [], []
                tess_cer = pipe_cer = 0.0
                rss: dict[str, int] = defaultdict(int)
                workers: list[int] = []
                for run in range(args.runs):  # interleaved, so both see the same machine
                    load = os.getloadavg()[0]
                    b, tess_cer, b_rss, b_cpu = run_baseline(pages, cores)
                    p, pipe_cer, p_rss, p_cpu, p_workers = run_pipeline(app, pages, run, folder)
                    e, e_cpu = run_engine(pages, cores)
                    eng.append(e)
                    eng_cpu.append(e_cpu)
                    eng_ratio.append(p / e)
                    eng_cpu_ratio.append(e_cpu / p_cpu)
                    tess.append(b)
                    pipe.append(p)
                    ratio.append(p / b)
                    tess_cpu.append(b_cpu)
                    pipe_cpu.append(p_cpu)
                    cpu_ratio.append(b_cpu / p_cpu)
                    workers = max(workers, p_workers)
                    for k, v in {**{"tesseract": b_rss.get("tesseract", 0)}, **p_rss}.items():
                        rss[k] = max(rss[k], v)
                    print(f"run {run + 1} (load {load:.1f} → {os.getloadavg()[0]:.1f}): "
                          f"tesseract {b:.3f} pages/s, pipeline {p:.3f} pages/s = "
                          f"{100 * p / b:.0f}%; CPU {b_cpu:.2f} vs {p_cpu:.2f} s/page = "
                          f"{100 * b_cpu / p_cpu:.0f}%; in-process engine {e:.3f} pages/s, "
                          f"{e_cpu:.2f} s/page", flush=True)
                if args.steps:
                    steps_table(pages[:args.steps], cores)
                if not args.runs:
                    if args.profile:
                        profile(app, pages[:args.profile], folder)
                    return 0
                print(f"\n| figure ({args.runs} runs) | min / median / max |\n|---|---|")
                print(f"| plain tesseract on the prepared images, {cores} processes, pages/s | {spread(tess)} |")
                print(f"| whole pipeline, {cores} pool processes, pages/s | {spread(pipe)} |")
                print(f"| **pipeline ÷ tesseract (headline)** | {percents(ratio)} |")
                print(f"| CPU s/page, plain tesseract (its processes) | {spread(tess_cpu)} |")
                print(f"| CPU s/page, whole pipeline (this process, pool, tesseracts) | "
                      f"{spread(pipe_cpu)} |")
                print(f"| tesseract CPU ÷ pipeline CPU (the ratio on an otherwise idle machine) | "
                      f"{percents(cpu_ratio)} |")
                print(f"| plain recognition in process (libtesseract, models loaded once per "
                      f"process), {cores} processes, pages/s | {spread(eng)} |")
                print(f"| pipeline ÷ in-process recognition, wall | {percents(eng_ratio)} |")
                print(f"| in-process recognition CPU ÷ pipeline CPU | {percents(eng_cpu_ratio)} |")
                print(f"| CPU s/page, in-process recognition | {spread(eng_cpu)} |")
                print(f"| CER: tesseract on the prepared images / pipeline's stored text | "
                      f"{100 * tess_cer:.2f}% / {100 * pipe_cer:.2f}% |")
                print(f"| peak RSS: largest pool process / largest tesseract process | "
                      f"{rss.get('pool process', 0)} MiB / {rss.get('tesseract', 0)} MiB |")
                print(f"| peak RSS of each pool (worker) process, MiB | "
                      f"{', '.join(map(str, workers))} |")
                if args.profile:
                    profile(app, pages[:args.profile], folder)
        finally:
            from search_app.search._backend import drop_alias_and_indices, make_client
            drop_alias_and_indices(make_client(app.config, "admin"), app.config["OPENSEARCH_INDEX"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
