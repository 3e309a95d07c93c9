"""OCR benchmark on generated A4 scans: character error rate for plain Tesseract vs each
preprocessing step vs all of them, on noisy and clean pages; seconds per page; pipeline
throughput vs the physical limit (one single-threaded tesseract per core on the same pages).

    .venv/bin/python bench/ocr_bench.py [--pages 6] [--skip-table]

"Noisy" pages combine what real archive scans show: yellowed, unevenly aged paper, the page
lying 0.5-3 degrees skewed on a dark scanner bed with an edge shadow, slight blur and speckle.
"""
from __future__ import annotations

import argparse
import os
import random
import time
from multiprocessing import Pool

from indexer.normalise import for_search
from indexer.ocr import ocr_image
from indexer.pipeline import PipelineOptions, page_text, prepare
from indexer.preprocess import DEFAULT_STEPS, STEPS, preprocess
from tests.synth import render_page
from indexer.types import ArchiveMeta, PageInput

TEXT = ("常住人口登记表户主姓名与户主关系公民身份号码出生日期民族籍贯文化程度婚姻状况服务处所职业何时由何地迁来本址"
        "干部履历表工作经历考察意见政治立场坚定工作实绩突出历任科员副科长科长民事判决书本院认为被告应支付拖欠工资")
META = ArchiveMeta("B-1", "bench", "户籍档案", "海淀分局", 2020, "内部", "b.png")
OPTS = PipelineOptions()


def lines_for(seed: int, n: int = 24) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(TEXT) for _ in range(rng.randint(18, 26))) for _ in range(n)]


def page(seed: int, kind: str):
    if kind == "clean":
        return render_page(lines_for(seed), width_mm=210, seed=seed)
    rng = random.Random(seed)
    skew = rng.choice([-1, 1]) * rng.uniform(0.5, 3.0)
    return render_page(lines_for(seed), width_mm=210, seed=seed, noise=0.004, blur=0.8,
                       paper=0.6, border_px=90, skew_deg=skew, yellow=True)


def cer(truth: str, got: str) -> float:
    a, b = "".join(truth.split()), "".join(got.split())
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(len(a), 1)


def measure(args):
    """CER and preprocessing seconds for one page under one step list (None: plain Tesseract)."""
    seed, kind, steps = args
    img = page(seed, kind)
    t = time.perf_counter()
    if steps is not None:
        img = preprocess(img, steps=steps).image
    pre = time.perf_counter() - t
    return cer(for_search("".join(lines_for(seed))), for_search(ocr_image(img).text)), pre


def ocr_only(args):
    seed, kind = args
    return ocr_image(page(seed, kind)).text


def preprocessed(args):
    seed, kind = args
    return preprocess(page(seed, kind), steps=OPTS.preprocess).image


def ocr_image_only(img):
    return ocr_image(img).text


def full_pipeline(args):
    seed, kind = args
    return prepare(page_text(PageInput(1, image=page(seed, kind)), OPTS), META).search_text


def table(pool: Pool, pages: int) -> None:
    configs: list[tuple[str, tuple[str, ...] | None]] = [("plain tesseract", None)]
    configs += [(step, ("grayscale", step)) for step in STEPS]
    configs.append(("all: " + ",".join(DEFAULT_STEPS), DEFAULT_STEPS))
    print(f"{'preprocessing':<48} {'CER noisy':>9} {'CER clean':>9} {'s/page':>7}")
    for name, steps in configs:
        row = []
        for kind in ("noisy", "clean"):
            res = pool.map(measure, [(s, kind, steps) for s in range(pages)])
            row.append((sum(r[0] for r in res) / pages, sum(r[1] for r in res) / pages))
        print(f"{name:<48} {100 * row[0][0]:>8.2f}% {100 * row[1][0]:>8.2f}% "
              f"{(row[0][1] + row[1][1]) / 2:>7.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=6)
    ap.add_argument("--skip-table", action="store_true")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    jobs = [(s, "noisy") for s in range(args.pages)]
    print(f"{args.pages} generated A4 pages at 300 dpi, 24 lines each; {cores} cores; "
          f"pipeline preprocessing: {','.join(OPTS.preprocess)}")

    t = time.perf_counter()
    for j in jobs:
        ocr_only(j)
    single = (time.perf_counter() - t) / args.pages
    print(f"single process, OMP_THREAD_LIMIT=1, noisy page as scanned: {single:.2f} s/page")

    with Pool(cores) as pool:
        if not args.skip_table:
            table(pool, args.pages)
        pool.map(ocr_only, jobs[:cores])  # warm the workers
        t = time.perf_counter()
        pool.map(ocr_only, jobs)
        limit = args.pages / (time.perf_counter() - t)
        images = pool.map(preprocessed, jobs)
        t = time.perf_counter()
        pool.map(ocr_image_only, images)
        strict = args.pages / (time.perf_counter() - t)
        t = time.perf_counter()
        pool.map(full_pipeline, jobs)
        pipe = args.pages / (time.perf_counter() - t)
    print(f"physical limit ({cores} x tesseract on the pages as scanned, render included): "
          f"{limit:.2f} pages/s")
    print(f"tesseract alone on the preprocessed images ({cores} x, no render): {strict:.2f} pages/s")
    print(f"whole pipeline (render+preprocess+OCR+PII+redact+boxes+normalise+jieba): {pipe:.2f} "
          f"pages/s = {100 * pipe / limit:.0f}% of the limit, {100 * pipe / strict:.0f}% of "
          f"tesseract alone on preprocessed images")


if __name__ == "__main__":
    main()
