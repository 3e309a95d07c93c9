"""What the orientation check costs (indexer.orient.upright_ocr), measured against the OCR path
without it (preprocess + ocr_image, as page_text ran before), on the same realistic pages.

    PYTHONPATH=. .venv/bin/python bench/qa_osd_bench.py [--pages 3] [--overhead N]

Pages: realistic A4 scans from tests/synth (`scanned_page`: 200/300 dpi, skew, paper tone, blur,
speckle, PII). Upright pages are the common case and must cost (nearly) nothing extra: OSD only
runs on a page that looks sideways or reads badly. Pages fed turned by 90° and 180° show what a
rotated page costs and whether it ends up upright. One process, one Tesseract thread.
`--overhead N` times only what the check adds to an upright page that reads well (the blank and
sideways tests, numpy on a 1/4-size copy), against that page's preprocessing, on N pages: whole
OCR timings on a shared loaded machine vary by more than that.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # the benchmark's own process set-up

from indexer.ocr import ocr_image  # noqa: E402
from indexer.orient import sideways, upright_ocr  # noqa: E402
from indexer.qa import ink_ratio  # noqa: E402
from indexer.preprocess import DEFAULT_STEPS, preprocess  # noqa: E402
from indexer.textview import fold_chars  # noqa: E402
from tests.synth.scan import scanned_page  # noqa: E402

LANGS = "chi_sim+chi_tra"


def _similar(got: str, truth: str) -> float:
    a = "".join(c for c in fold_chars(got) if not c.isspace())
    b = "".join(c for c in fold_chars(truth) if not c.isspace())
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def _baseline(img) -> tuple[float, str]:
    t = time.monotonic()
    text = ocr_image(preprocess(img, steps=DEFAULT_STEPS).image, langs=LANGS, timeout=300)
    return time.monotonic() - t, text.text


def _checked(img) -> tuple[float, str, object]:
    t = time.monotonic()
    _, text, qa = upright_ocr(img, steps=DEFAULT_STEPS, langs=LANGS, timeout=300, page_no=1)
    return time.monotonic() - t, text.text, qa


def overhead(n: int) -> None:
    print(f"{'page':>4} {'dpi':>4} {'preprocess s':>12} {'checks s':>9} {'share':>6}")
    shares = []
    for seed in range(1, n + 1):
        page = scanned_page(seed)
        t = time.monotonic()
        pre = preprocess(page.image, steps=DEFAULT_STEPS)
        pre_s = time.monotonic() - t
        t = time.monotonic()
        ink_ratio(pre.view), sideways(pre.image)
        chk = time.monotonic() - t
        shares.append(chk / pre_s)
        print(f"{seed:>4} {page.dpi:>4} {pre_s:>12.3f} {chk:>9.3f} {chk / pre_s:>6.1%}")
    print(f"checks cost a median {statistics.median(shares):.1%} of preprocessing alone "
          "(OCR of the page takes several times longer still)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=3)
    ap.add_argument("--overhead", type=int, default=0)
    args = ap.parse_args()
    if args.overhead:
        overhead(args.overhead)
        return
    rows = []
    for seed in range(1, args.pages + 1):
        page = scanned_page(seed)
        base_s, base_text = _baseline(page.image)
        for turned in (0, 90, 180):
            img = page.image.rotate(turned, expand=True) if turned else page.image
            s, text, qa = _checked(img)
            rows.append((seed, page.dpi, turned, base_s, s, qa.osd_ran, qa.rotation,
                         _similar(base_text, page.text), _similar(text, page.text)))
    print(f"{'page':>4} {'dpi':>4} {'fed':>4} {'base s':>7} {'check s':>8} {'ratio':>6} "
          f"{'OSD':>4} {'turned':>6} {'sim base':>8} {'sim chk':>8}")
    for seed, dpi, turned, b, s, osd, rot, sb, sc in rows:
        print(f"{seed:>4} {dpi:>4} {turned:>3}° {b:>7.2f} {s:>8.2f} {s / b:>6.2f} "
              f"{'yes' if osd else 'no':>4} {rot:>5}° {sb:>8.3f} {sc:>8.3f}")
    for turned in (0, 90, 180):
        sel = [r for r in rows if r[2] == turned]
        print(f"fed {turned:>3}°: median cost ratio {statistics.median(r[4] / r[3] for r in sel):.2f} "
              f"(baseline = upright page without the check), OSD on {sum(r[5] for r in sel)}/"
              f"{len(sel)}, turned upright {sum(r[6] == turned for r in sel)}/{len(sel)}")


if __name__ == "__main__":
    main()
