"""Watermark bench (issue 8, requirement 8): does a leaked copy name the read that produced it?

Over N served-like pages of the realistic generator (tests/synth: A4 at 200 and 300 dpi, the
300 dpi ones reduced to VIEW_MAX_EDGE_PX 2480 as the app serves them), each page is marked with
audit record A and, separately, B = A + 1, and every leak of tests/watermark_leaks.py is
applied to both copies and to the unmarked page. Printed per leak:

* recovered — copies whose read names their own record, by the previous reader (the served
  grid, then the same-scale crop search) and by the current one (+ lattice registration);
* false — reads that name a record the copy does not carry (a marked copy read as another
  number, an unmarked copy read as any number): must be 0;
* the marking time of a full A4 300 dpi page (2480×3508) before (the per-dot loop and the
  summed-area erosion, patched back in; the pixels are the same) and after,
  in this run, and the OCR character error rate against the page's true text without and with
  the mark (the reader's cost of the mark).

    .venv/bin/python bench/watermark_bench.py --pages 2
Exit status 1 when a read names a wrong record.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from indexer import watermark as wm  # noqa: E402
from indexer import watermark_code  # noqa: E402
from indexer.ocr import ocr_image  # noqa: E402
from indexer.watermark import read_audit_seq, watermark  # noqa: E402
from indexer.watermark_search import decode_cropped  # noqa: E402
from tests.synth.scan import scanned_page  # noqa: E402
from tests.watermark_leaks import LEAKS  # noqa: E402

SERVED_EDGE = 2480


def previous_reader(img: Image.Image) -> int | None:
    """The reader before this change: the served grid, then the same-scale crop search."""
    seq = watermark_code.decode(img).seq
    return seq if seq is not None else decode_cropped(img).seq


def _loop_code_mask(size, seq, *, keep_clear=None):
    """The previous code_mask (one Python step per dot): same dots, the marking-time baseline."""
    w, h = size
    dot, pitch = watermark_code.geometry(size)
    y, xs = watermark_code._slot_origins(dot, pitch)
    bits = watermark_code._word(seq)
    ty, tx, perms = watermark_code._tiles(size, pitch, whole=False)
    mask = np.zeros((h, w), dtype=bool)
    clear = None
    if keep_clear is not None and keep_clear.any():
        clear = np.pad(keep_clear.astype(np.int32), ((1, 0), (1, 0))).cumsum(0).cumsum(1)
    m = dot // 2
    for t0, l0, perm in zip(ty, tx, perms):
        for k in range(watermark_code.WORD_BITS):
            top, left = t0 + y[k], l0 + xs[k, 0 if bits[perm[k]] else 1]
            if top + dot > h or left + dot > w:
                continue
            if clear is not None:
                a, b = max(0, top - m), min(h, top + dot + m)
                c, d = max(0, left - m), min(w, left + dot + m)
                if clear[b, d] - clear[a, d] - clear[b, c] + clear[a, c]:
                    continue
            mask[top:top + dot, left:left + dot] = True
    return mask


def _summed_area_solid(dark: np.ndarray, k: int = 7) -> np.ndarray:
    """The previous indexer.watermark._solid (a summed-area table): same result, baseline."""
    pad = np.pad(dark.astype(np.int32), ((k // 2 + 1, k // 2), (k // 2 + 1, k // 2)))
    integral = pad.cumsum(0).cumsum(1)
    return (integral[k:, k:] - integral[:-k, k:] - integral[k:, :-k] + integral[:-k, :-k]) == k * k


def served(seed: int) -> tuple[Image.Image, str]:
    page = scanned_page(seed, dpi=200 if seed % 2 else 300)
    img = page.image.convert("RGB")
    if max(img.size) > SERVED_EDGE:
        img.thumbnail((SERVED_EDGE, SERVED_EDGE), Image.Resampling.LANCZOS)
    return img, page.text


def label(seq: int) -> str:
    return f"王芳（wangfang） 2026-12-01 16:20 审计记录 #{seq}"


def marking_time(repeats: int) -> tuple[float, float, bool]:
    page = scanned_page(2, dpi=300).image.convert("RGB")  # 2480×3508, not reduced
    current = watermark_code.code_mask, wm._solid
    times = {}
    out = {}
    for name, fns in (("before", (_loop_code_mask, _summed_area_solid)), ("after", current)):
        watermark_code.code_mask, wm._solid = fns
        try:
            best = float("inf")
            for _ in range(repeats):
                t = time.perf_counter()
                out[name] = np.asarray(watermark(page, label(4711)))
                best = min(best, time.perf_counter() - t)
            times[name] = best
        finally:
            watermark_code.code_mask, wm._solid = current
    return times["before"], times["after"], bool((out["before"] == out["after"]).all())


def cer(text: str, img: Image.Image) -> tuple[float, float]:
    """OCR character error rate against the true text, and the part of it that is the true
    text's characters lost or misread (not characters OCR made up, e.g. from the mark's dots)."""
    truth = "".join(text.split())
    read = "".join(ocr_image(img.convert("L")).text.split())
    ops = Levenshtein.editops(truth, read)
    lost = sum(op.tag in ("delete", "replace") for op in ops)
    return len(ops) / max(1, len(truth)), lost / max(1, len(truth))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=2)
    ap.add_argument("--seed", type=int, default=101)
    ap.add_argument("--leaks", nargs="*", default=None, help="names of tests/watermark_leaks.LEAKS")
    ap.add_argument("--no-baseline", action="store_true", help="skip the previous reader")
    ap.add_argument("--no-ocr", action="store_true")
    args = ap.parse_args()
    leaks = {k: LEAKS[k] for k in (args.leaks or LEAKS)}

    before, after, same = marking_time(2)
    print(f"marking a full A4 300 dpi page (2480×3508): before {before:.2f} s, after {after:.2f} s "
          f"(ratio {after / before:.2f}); same pixels: {same}")

    pages = [served(args.seed + i) for i in range(args.pages)]
    if not args.no_ocr:
        plain = [cer(text, img) for img, text in pages]
        marked = [cer(text, watermark(img, label(4711))) for img, text in pages]
        p, m = np.mean(plain, axis=0), np.mean(marked, axis=0)
        print(f"OCR CER against the true text over {len(pages)} page(s): unmarked {p[0]:.3f}, "
              f"marked {m[0]:.3f} (change {m[0] - p[0]:+.3f}); of which true characters lost or "
              f"misread: unmarked {p[1]:.3f}, marked {m[1]:.3f} (change {m[1] - p[1]:+.3f})")

    print(f"\n{'leak':34s} {'previous':>9s} {'current':>9s} {'false':>7s} {'s/read':>7s}")
    wrong_total = 0
    for name, leak in leaks.items():
        old_ok = new_ok = wrong = trials = 0
        spent = 0.0
        for i, (img, _) in enumerate(pages):
            a = 4711 + 1000 * i
            for seq in (a, a + 1):  # the copy of record A and of record B = A + 1
                copy = leak(watermark(img, label(seq)))
                t = time.perf_counter()
                got = read_audit_seq(copy)
                spent += time.perf_counter() - t
                trials += 1
                new_ok += got == seq
                wrong += got is not None and got != seq
                if not args.no_baseline and seq == a:
                    old_ok += previous_reader(copy) == seq
            t = time.perf_counter()
            got = read_audit_seq(leak(img))  # the unmarked page
            spent += time.perf_counter() - t
            trials += 1
            wrong += got is not None
        wrong_total += wrong
        marked_n = 2 * len(pages)
        old = "-" if args.no_baseline else f"{old_ok}/{len(pages)}"
        print(f"{name:34s} {old:>9s} {new_ok:>6d}/{marked_n:<2d} {wrong:>3d}/{trials:<3d} "
              f"{spent / trials:7.1f}", flush=True)
    print(f"\nfalse reads over all leaks: {wrong_total}")
    return 1 if wrong_total else 0


if __name__ == "__main__":
    sys.exit(main())
