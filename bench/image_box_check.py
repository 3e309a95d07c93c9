"""Quick geometric check of the served-image boxes, with the page OCR cached: for developing
the image path's fail-safe between runs of bench/image_leak_bench.py (which ingests through the
app and OCRs the served images again, half an hour for 60 pages).

    .venv/bin/python bench/image_box_check.py --seed 5813 --pages 20 [--first 0] [--show 20]

Each page is read once by the product's own loading, preprocessing and OCR
(indexer.pipeline.page_text) and the result (text, word boxes, view image) is cached under
var/cache/image_box_check/, keyed by the file's bytes, the options and the reading stages'
source. Then the product's detectors and box builder (indexer.pipeline.prepare) run on it and
the ground-truth glyph boxes, mapped into the view's geometry as the leak bench maps them, are
compared with the black boxes:
* uncovered: truths whose glyph boxes are not entirely inside the union of the black boxes
  (a share of a box not black, as the leak bench's coverage, with a pixel's tolerance);
* over-masking: the share of the page's ink (luminance < 128 on the unredacted view) outside
  every truth box (padded by a quarter of its height) that the black boxes cover: text that
  is no person's data and that a reader loses.
It is a proxy: a truth counted covered here is black on the served image; one counted
uncovered may still be unreadable (the leak bench decides).
"""
from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402

from indexer.pages import load_page  # noqa: E402
from indexer.pipeline import PipelineOptions, page_text, prepare  # noqa: E402
from indexer.types import ArchiveMeta  # noqa: E402
from page_truth import subject_of  # noqa: E402
from tests.synth.corpus import Entry, file_bytes, formats, is_wide, make_entry  # noqa: E402

CACHE = ROOT / "var" / "cache" / "image_box_check"
INK = 128
FULL = 0.995


def _code_version() -> bytes:
    root = ROOT / "indexer"
    return hashlib.sha256(b"".join((root / f).read_bytes() for f in
                                   ("pages.py", "preprocess.py", "ocr.py", "orient.py")
                                   if (root / f).exists())).digest()


def read(entry: Entry, opts: PipelineOptions):
    data = file_bytes(entry)
    key = hashlib.sha256(data + _code_version() + repr(opts).encode()).hexdigest()[:20]
    path = CACHE / f"{key}.pickle"
    if path.exists():
        return pickle.loads(path.read_bytes())
    page = load_page(data, 1, dpi=opts.dpi, max_pixels=opts.max_pixels)
    text = page_text(page, opts)
    CACHE.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(text))
    path.chmod(0o600)
    return text


def meta_of(entry: Entry) -> ArchiveMeta:
    ids = [t.value for t in entry.page.truths if t.kind == "id_number" and len(t.value) == 18]
    return ArchiveMeta(archive_no=entry.name.rsplit(".", 1)[0], title=f"基准页面{entry.name}",
                       category="户籍档案", unit="北京市公安局海淀分局", year=2020,
                       classification="内部", file=entry.name,
                       subject_name=subject_of(entry.page.truths),
                       subject_id=ids[0] if ids else "")


def black_mask(size: tuple[int, int], boxes) -> np.ndarray:
    mask = np.zeros((size[1], size[0]), dtype=bool)
    for b in boxes:
        mask[max(0, b.top):max(0, b.bottom), max(0, b.left):max(0, b.right)] = True
    return mask


def check(entry: Entry, opts: PipelineOptions) -> dict:
    from image_leak_bench import served_boxes  # the leak bench's own mapping
    text = read(entry, opts)
    prepared = prepare(text, meta_of(entry))
    out = {"rows": Counter(), "misses": []}
    if text.image is None:
        return out
    size = text.image.size
    black = black_mask(size, prepared.pii_boxes)
    ink = np.asarray(text.image.convert("L")) < INK
    pii_area = np.zeros_like(black)
    h, w = black.shape
    for t, tboxes in served_boxes(entry, size, opts):
        worst = 1.0
        for l, tp, r, b in tboxes:
            l, tp = max(0, int(l) + 1), max(0, int(tp) + 1)
            r, b = min(w, int(r)), min(h, int(b))
            if r > l and b > tp:
                worst = min(worst, float(black[tp:b, l:r].mean()))
            pad = int((b - tp) / 4)
            pii_area[max(0, tp - pad):b + pad, max(0, l - pad):r + pad] = True
        out["rows"][t.kind, "values"] += 1
        out["rows"][t.kind, "covered"] += worst >= FULL
        if worst < FULL:
            line = _line_of(text.text, t, prepared)
            out["misses"].append(f"  UNCOVERED {t.kind} {t.value!r} on {entry.name} ({entry.fmt}): "
                                 f"{worst:.0%} black; read line {line!r}")
    other = ink & ~pii_area
    out["rows"]["ink", "other"] += int(other.sum())
    out["rows"]["ink", "other_black"] += int((other & black).sum())
    return out


def _line_of(text: str, t, prepared) -> str:
    """The OCR line that most likely holds the value (first characters of the value found)."""
    from page_truth import fold
    f = fold(text)
    key = fold("".join(t.value.split()))
    for n in (len(key), 3, 2):
        i = f.find(key[:n]) if len(key) >= n else -1
        if i >= 0:
            a, b = text.rfind("\n", 0, i) + 1, text.find("\n", i)
            return text[a:b if b >= 0 else None]
    return "(not found in the OCR text)"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=5813)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--only", type=int, nargs="*", default=None, help="only these page indices")
    ap.add_argument("--wide", action="store_true", help="only the wide pages (tests.synth.forms)")
    args = ap.parse_args()
    opts = PipelineOptions()
    fmts = formats(args.first + args.pages)
    rows: Counter = Counter()
    misses: list[str] = []
    for i in range(args.first, args.first + args.pages):
        if (args.only is not None and i not in args.only) or (args.wide and not is_wide(args.seed * 1000 + i)):
            continue
        entry = make_entry(args.seed, i, fmts[i])
        page = check(entry, opts)
        rows.update(page["rows"])
        misses += page["misses"]
        print(f"  {entry.name}: {len(page['misses'])} uncovered", flush=True)
        for line in page["misses"]:
            print(line, flush=True)
    print("\n| kind | values | fully covered | uncovered |\n|---|---|---|---|")
    kinds = sorted({k for k, _ in rows if k != "ink"})
    for kind in [*kinds, "all"]:
        v = sum(rows[k, "values"] for k in kinds) if kind == "all" else rows[kind, "values"]
        c = sum(rows[k, "covered"] for k in kinds) if kind == "all" else rows[kind, "covered"]
        print(f"| {kind} | {v} | {c} | {v - c} |")
    other = rows["ink", "other"]
    print(f"\nover-masking: {rows['ink', 'other_black'] / max(1, other):.2%} of the ink outside "
          f"PII boxes is blacked ({rows['ink', 'other_black']} of {other} px)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
