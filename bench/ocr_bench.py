"""OCR benchmark on generated A4 scans: seconds per page, pipeline throughput vs the physical
limit (one single-threaded tesseract per core on the same pages), and character error rate.

    .venv/bin/python bench/ocr_bench.py [--pages 6] [--noise 0.004]
"""
from __future__ import annotations

import argparse
import os
import random
import time
from multiprocessing import Pool

from indexer.normalise import for_search
from indexer.ocr import ocr_image
from indexer.pipeline import prepare
from indexer.synthetic import render_page
from indexer.types import ArchiveMeta, PageText

TEXT = ("常住人口登记表户主姓名与户主关系公民身份号码出生日期民族籍贯文化程度婚姻状况服务处所职业何时由何地迁来本址"
        "干部履历表工作经历考察意见政治立场坚定工作实绩突出历任科员副科长科长民事判决书本院认为被告应支付拖欠工资")
META = ArchiveMeta("B-1", "bench", "户籍档案", "海淀分局", 2020, "内部", "b.png")


def lines_for(seed: int, n: int = 24) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(TEXT) for _ in range(rng.randint(18, 26))) for _ in range(n)]


def page(seed: int, noise: float):
    return render_page(lines_for(seed), width_mm=210, noise=noise, seed=seed)


def ocr_only(args):
    seed, noise = args
    return ocr_image(page(seed, noise)).text


def full_pipeline(args):
    seed, noise = args
    return prepare(ocr_image(page(seed, noise)), META).search_text


def cer(truth: str, got: str) -> float:
    a, b = "".join(truth.split()), "".join(got.split())
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] / max(len(a), 1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=6)
    ap.add_argument("--noise", type=float, default=0.004)
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    jobs = [(s, args.noise) for s in range(args.pages)]
    print(f"{args.pages} generated A4 pages at 300 dpi, 24 lines each, noise {args.noise}; {cores} cores")

    t = time.perf_counter()
    texts = [ocr_only(j) for j in jobs]
    single = (time.perf_counter() - t) / args.pages
    print(f"single process, OMP_THREAD_LIMIT=1: {single:.2f} s/page")

    with Pool(cores) as pool:
        pool.map(ocr_only, jobs[:cores])  # warm the workers
        t = time.perf_counter()
        pool.map(ocr_only, jobs)
        limit = args.pages / (time.perf_counter() - t)
        t = time.perf_counter()
        pool.map(full_pipeline, jobs)
        pipe = args.pages / (time.perf_counter() - t)
    print(f"physical limit ({cores} x tesseract): {limit:.2f} pages/s")
    print(f"whole pipeline (render+OCR+PII+redact+normalise+jieba): {pipe:.2f} pages/s "
          f"= {100 * pipe / limit:.0f}% of the limit")

    noisy = sum(cer(for_search("".join(lines_for(s))), for_search(t)) for (s, _), t in zip(jobs, texts))
    clean = sum(cer(for_search("".join(lines_for(s))), for_search(ocr_only((s, 0.0)))) for s, _ in jobs)
    print(f"CER noisy ({args.noise}): {100 * noisy / args.pages:.2f}%  clean: {100 * clean / args.pages:.2f}%")


if __name__ == "__main__":
    main()
