"""OCR throughput benchmark: the whole ingest pipeline against plain Tesseract, fairly.

    PYTHONPATH=. .venv/bin/python bench/ocr_bench.py [--pages 8] [--runs 3] [--profile 2]

Headline: pages/s of the product's synchronous ingest (`start_job(queue=False)`: the file phase,
then the page loop in its pool of one process per core: page load, preprocessing, OCR, PII
detection, redaction, image burn-in, PNG encoding, encryption, the database commit and the bulk
index request, against the real SQLite file, blob store and secured OpenSearch), divided by
pages/s of plain single-threaded `tesseract` (one process per core, the same language, psm and
TSV output) on the SAME prepared image the pipeline hands Tesseract (the page loaded and
preprocessed exactly as ingest does, written losslessly beforehand, so the baseline neither
renders nor preprocesses). Each run measures both, interleaved; the table gives min/median/max
over the runs and the peak RSS of every pool process and Tesseract process (VmHWM, sampled).

Pages: realistic noisy A4 scans from tests/synth (`scanned_page`): 200 and 300 dpi alternating,
every fourth in traditional script, ±2° skew, paper tone, uneven light, blur, speckle, some on a
dark scanner bed, several people and every PII format per page. The CER column compares what
each side read with the page's printed text (whitespace removed, both folded width- and
traditional→simplified), so a speed-up that costs accuracy shows.

`--profile N` runs the same page loop in this process on N pages with every stage timed (where
the remaining time goes); the profile is not part of the headline.
"""
from __future__ import annotations

import argparse
import base64
import os
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
from indexer.pages import load_page  # noqa: E402
from indexer.pipeline import PipelineOptions  # noqa: E402
from indexer.preprocess import preprocess  # noqa: E402

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
        prepared = folder / f"prepared{i}.png"
        preprocess(loaded.image, steps=OPTS.preprocess).image.save(prepared)
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
    """Peak RSS (VmHWM) of every descendant process, sampled every 50 ms, by command."""

    def __init__(self) -> None:
        self.peaks: dict[int, tuple[str, int]] = {}
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
        while not self._stop.is_set():
            todo, seen = self._children(os.getpid()), set()
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
            time.sleep(0.05)

    def by_kind(self) -> dict[str, int]:
        """Largest peak (MiB) among the pool's Python processes and among tesseract processes."""
        out: dict[str, int] = defaultdict(int)
        for name, kb in self.peaks.values():
            kind = "tesseract" if name.startswith("tesseract") else "pool process"
            out[kind] = max(out[kind], kb // 1024)
        return out


def run_baseline(pages: list[dict], processes: int) -> tuple[float, float, dict[str, int]]:
    with RssSampler() as rss, ProcessPoolExecutor(processes) as pool:
        t = time.perf_counter()
        texts = list(pool.map(tesseract_tsv, [str(p["prepared"]) for p in pages]))
        seconds = time.perf_counter() - t
    return len(pages) / seconds, statistics.mean(cer(p["text"], x) for p, x in zip(pages, texts)), \
        rss.by_kind()


def run_pipeline(app, pages: list[dict], run: int, folder: Path) -> tuple[float, float, dict[str, int]]:
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
    with RssSampler() as rss:
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
    return len(pages) / seconds, statistics.mean(errors), rss.by_kind()


def profile(app, pages: list[dict], folder: Path) -> None:
    """The same page loop, in this process, with each stage timed (wall seconds per page)."""
    import json

    import pytesseract
    from sqlalchemy.orm import Session

    from indexer import ocr, page_image, pipeline
    from search_app.blobs import BlobStore
    from search_app.crypto import Vault
    from search_app.ingest import jobs, keep, pagework
    from search_app.ingest.jobs import start_job

    spent: dict[str, float] = defaultdict(float)
    originals = []

    def timed(owner, name: str, label: str) -> None:
        real = getattr(owner, name)
        originals.append((owner, name, real))

        def wrapper(*args, **kwargs):
            t = time.perf_counter()
            try:
                return real(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - t
        setattr(owner, name, wrapper)

    timed(jobs, "run_file", "file phase (hash, encrypt and store the original, page rows)")
    timed(pagework, "load_page", "load page (decode file, render/scale)")
    timed(pipeline, "preprocess", "preprocess (crop, deskew, denoise, binarise, scale)")
    timed(ocr.pytesseract, "image_to_data", "OCR: pytesseract total")
    timed(pytesseract.pytesseract, "run_tesseract", "OCR: tesseract process")
    timed(pipeline, "fit_view", "fit served view")
    timed(pagework, "prepare", "PII detection, redaction, normalise, jieba")
    timed(keep, "redact_image", "image burn-in (boxes)")
    timed(keep, "store_redacted_image", "burn-in + PNG encode + encrypt + write image")
    timed(BlobStore, "put_page_image", "encrypt + write page image")
    timed(Vault, "encrypt", "AES-GCM encrypt (all)")
    timed(keep, "build_document", "build index document")
    timed(Session, "commit", "database commits")
    timed(pagework, "index_pages", "bulk index request")
    timed(pagework, "keep_page", "keep page (secret, image, document)")
    rows = [{"archive_no": f"BENCH-P-{i:03d}", "title": f"基准页面{i}", "category": "户籍档案",
             "unit": "北京市公安局海淀分局", "year": 2020, "classification": "内部",
             "file": p["scan"].name} for i, p in enumerate(pages)]
    manifest = folder / "manifest-profile.json"
    manifest.write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    app.config["WORKER_CONCURRENCY"] = 1  # in this process, where the wrappers are
    try:
        t = time.perf_counter()
        start_job(manifest, base_dir=folder, created_by="bench", queue=False)
        total = time.perf_counter() - t
    finally:
        for owner, name, real in originals:
            setattr(owner, name, real)
    n = len(pages)
    print(f"\nprofile: the page loop in one process, {n} pages, {total / n:.2f} s/page in all")
    print(f"{'stage':<52} {'s/page':>7} {'share':>6}")
    for label, sec in spent.items():
        print(f"{label:<52} {sec / n:>7.3f} {100 * sec / total:>5.1f}%")
    _ = page_image  # imported for the reader: fit_view and redact_image live there


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--profile", type=int, default=2, help="pages for the per-stage profile (0: none)")
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
                tess, pipe, ratio = [], [], []
                tess_cer = pipe_cer = 0.0
                rss: dict[str, int] = defaultdict(int)
                for run in range(args.runs):  # interleaved, so both see the same machine
                    b, tess_cer, b_rss = run_baseline(pages, cores)
                    p, pipe_cer, p_rss = run_pipeline(app, pages, run, folder)
                    tess.append(b)
                    pipe.append(p)
                    ratio.append(p / b)
                    for k, v in {**{"tesseract": b_rss.get("tesseract", 0)}, **p_rss}.items():
                        rss[k] = max(rss[k], v)
                    print(f"run {run + 1}: tesseract {b:.3f} pages/s, pipeline {p:.3f} pages/s "
                          f"= {100 * p / b:.0f}%", flush=True)
                if not args.runs:
                    profile(app, pages[:args.profile], folder)
                    return 0
                print(f"\n| figure ({args.runs} runs) | min / median / max |\n|---|---|")
                print(f"| plain tesseract on the prepared images, {cores} processes, pages/s | {spread(tess)} |")
                print(f"| whole pipeline, {cores} pool processes, pages/s | {spread(pipe)} |")
                print(f"| **pipeline ÷ tesseract (headline)** | "
                      f"{' / '.join(f'{100 * r:.0f}%' for r in (min(ratio), statistics.median(ratio), max(ratio)))} |")
                print(f"| CER: tesseract on the prepared images / pipeline's stored text | "
                      f"{100 * tess_cer:.2f}% / {100 * pipe_cer:.2f}% |")
                print(f"| peak RSS: largest pool process / largest tesseract process | "
                      f"{rss.get('pool process', 0)} MiB / {rss.get('tesseract', 0)} MiB |")
                if args.profile:
                    profile(app, pages[:args.profile], folder)
        finally:
            from search_app.search._backend import drop_alias_and_indices, make_client
            drop_alias_and_indices(make_client(app.config, "admin"), app.config["OPENSEARCH_INDEX"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
