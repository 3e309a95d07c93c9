"""What a viewer can still read on the served page images: values, and how much of each box is black.

    .venv/bin/python bench/image_leak_bench.py [--pages 60] [--seed 14] [--redis-db 15] [--show 10]

Realistic pages (tests/synth: A4 scans at 200/300 dpi as PNG, JPEG, TIFF and image-only PDF,
born-digital text-layer PDFs and mixed PDFs with an embedded ID-card picture; a quarter in
traditional script) are ingested through the real pipeline and services: an app built like
tests/conftest.py builds it, with its own index alias, SQLite file and blob directory, one
manifest, synchronous ingest. A staff user with a grant then fetches every page image through
the app's page-image route (watermark and all) and the product's own OCR reads it again.

Per kind it reports
* readable: ground-truth values found in the OCR of the served image — numbers (ID, phone,
  landline, card) when a line's digits contain the value's digits within 2 edits (Chinese
  numerals and full-width digits folded), names in either script (traditional folded to
  simplified; pinyin without case or spaces), addresses when the two characters before the
  detail's first number and that number (e.g. 东路544, 五组47) can be read. To keep 60 pages
  within half an hour on two cores, OCR reads only the text lines that hold a PII glyph box (each
  full width, with half a line above and below, stacked into one image: one Tesseract call per
  page); `--full-ocr` reads the whole served image instead;
* box coverage: the share of each ground-truth glyph box that is black (luminance < 40) in the
  served image, the box mapped into the served geometry — for scans by re-running
  indexer.preprocess.preprocess on the page as loaded (crop, deskew angle, scale), for
  text-layer pages by the rendering's scale — then by the served size. The watermark only ever
  darkens (a black box stays black), so it cannot make a box look less black; it could make an
  unredacted box look darker, so its pixels (the label of this read, rebuilt from the audit
  record the image's code names, and every slot of the record code) are left out of the count;
* watermark: pages whose served image names its audit record (indexer.watermark.read_audit_seq).
Target: 0 values readable, every box 100 % black (≥ 99.5 % allows for anti-aliased box edges),
every page's record read back. Exit status 1 when the target is missed. Ingest of one batch runs
while the previous batch is OCR'd (two Tesseract processes at a time).
"""
from __future__ import annotations

import argparse
import base64
import html
import io
import json
import math
import os
import re
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402
from rapidfuzz.distance import Levenshtein  # noqa: E402

from indexer.ocr import ocr_image  # noqa: E402
from indexer.pages import load_page  # noqa: E402
from indexer.pipeline import PipelineOptions  # noqa: E402
from indexer.preprocess import preprocess  # noqa: E402
from indexer.types import IngestError  # noqa: E402
from indexer.watermark import read_audit_seq, watermark_label, watermark_mask  # noqa: E402
from indexer.watermark_code import slot_mask  # noqa: E402
from page_truth import fold, squeeze, subject_of  # noqa: E402
from tests.synth.corpus import Entry, file_bytes, formats, make_entry, write  # noqa: E402
from tests.synth.scan import Truth  # noqa: E402

KINDS = ["id_number", "phone", "landline", "bank_card", "name", "address"]
NUMERIC = {"id_number", "phone", "landline", "bank_card"}
BLACK = 40
OCR_TIMEOUT = 1800
FULL = 0.995
PASSWORD = "bench-leak-Pass-9"
_CN = str.maketrans("〇零一二三四五六七八九", "00123456789")


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def make_app(tmp: Path, redis_db: int):
    from search_app import create_app
    from search_app.migrations import upgrade
    from search_app.config import read_env_file
    from search_app.search._backend import ensure_index, make_client
    # the secured engine and Redis as scripts/services.sh wrote them; the alias is named like the
    # tests' (`test-pages-<8 hex>`), the form the engine's roles grant (scripts/engine_security.py)
    local = read_env_file(ROOT / "var" / "local.env")
    settings = {
        "SECRET_KEY": _key(), "ARCHIVE_DATA_KEY": _key(), "ARCHIVE_BLIND_INDEX_KEY": _key(),
        "DATABASE_URL": f"sqlite:///{tmp}/bench.sqlite3",
        **{k: v for k, v in local.items() if k.startswith("OPENSEARCH_") and k != "OPENSEARCH_INDEX"},
        "OPENSEARCH_INDEX": f"test-pages-{uuid.uuid4().hex[:8]}",
        "REDIS_URL": re.sub(r"/\d*$", "", local.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
                     + f"/{redis_db}", "BLOB_DIR": str(tmp / "blobs"),
        "INGEST_UPLOAD_DIR": str(tmp / "uploads"), "TESTING": True, "WTF_CSRF_ENABLED": False,
        # per-file keys with this run's data key, gone with the run: in var/keys they outlived it
        # and a re-run of a page (--first) failed to unwrap the first run's key
        "KEY_STORE_DIR": str(tmp / "keys"),
        "OCR_TIMEOUT_S": OCR_TIMEOUT,  # a loaded machine must not turn slowness into failures
    }
    app = create_app(settings)
    upgrade(settings["DATABASE_URL"])
    ensure_index(make_client(app.config, "admin"), settings["OPENSEARCH_INDEX"])
    return app


def ingest(app, pages: list[Entry], folder: Path) -> dict[str, str]:
    """Write the files and one manifest, ingest synchronously; archive_no → doc_id."""
    from sqlalchemy import select

    from search_app.db import get_session
    from search_app.ingest.jobs import start_job, wait_for_job
    from search_app.ingest.models import PageSecret
    rows = []
    for e in pages:
        write(e, folder)
        ids = [t.value for t in e.page.truths if t.kind == "id_number" and len(t.value) == 18]
        rows.append({"archive_no": e.name.rsplit(".", 1)[0], "title": f"基准页面{e.name}",
                     "category": "户籍档案", "unit": "北京市公安局海淀分局", "year": 2020,
                     "classification": "内部", "file": e.name,
                     "subject_name": subject_of(e.page.truths), "subject_id": ids[0] if ids else ""})
    (folder / "manifest.json").write_text(json.dumps(rows, ensure_ascii=False), "utf-8")
    job = start_job(folder / "manifest.json", base_dir=folder, created_by="bench", queue=False)
    progress = wait_for_job(job.id, echo=lambda _l: None, timeout=36000, poll=1.0)
    for name, error in progress.errors:
        print(f"  ingest failed: {name}: {error}")
    secrets = get_session().execute(select(PageSecret.archive_no, PageSecret.doc_id)).all()
    return dict(secrets)


def staff_client(app):
    from search_app.accounts.services import create_user
    from search_app.db import get_session
    from search_app.grants.services import Scope, create_grant
    session = get_session()
    staff = create_user(session, username=f"bench-staff-{uuid.uuid4().hex[:4]}", password=PASSWORD,
                        role="staff", unit="北京市公安局海淀分局")
    approvers = [create_user(session, username=f"bench-appr{i}-{uuid.uuid4().hex[:4]}",
                             password=PASSWORD, role="approver", unit="北京市公安局海淀分局")
                 for i in range(2)]
    session.commit()
    grant = create_grant(session, user=staff, approver=approvers[0], second_approver=approvers[1],
                         purpose="图像脱敏基准测试", hours=8.0,
                         scope=Scope(["户籍档案"], ["北京市公安局海淀分局"], "内部", []))
    session.commit()
    client = app.test_client()
    resp = client.post("/login", data={"username": staff.username, "password": PASSWORD})
    if resp.status_code != 302:
        raise SystemExit(f"staff login failed: HTTP {resp.status_code}")
    return client, grant.id, f"{staff.display_name}（{staff.username}）"


def _rot(x: float, y: float, cx: float, cy: float, angle: float) -> tuple[float, float]:
    a = math.radians(angle)
    dx, dy = x - cx, y - cy
    return cx + dx * math.cos(a) + dy * math.sin(a), cy - dx * math.sin(a) + dy * math.cos(a)


def served_boxes(entry: Entry, served: tuple[int, int], opts: PipelineOptions
                 ) -> list[tuple[Truth, list[tuple[float, float, float, float]]]]:
    """Each truth's boxes in the served image's pixels."""
    page = load_page(file_bytes(entry), 1, dpi=opts.dpi, max_pixels=opts.max_pixels)
    w0, h0 = entry.page.size
    if page.text_layer is not None:
        kx, ky = served[0] / w0, served[1] / h0

        def to_served(x: float, y: float) -> tuple[float, float]:
            return x * kx, y * ky
    else:
        k_in = page.image.width / w0  # a scan PDF is rendered at opts.dpi, not the scan's dpi
        pre = preprocess(page.image, steps=opts.preprocess)
        left, top, right, bottom = pre.crop or (0, 0, page.image.width, page.image.height)
        cx, cy = (right - left) / 2, (bottom - top) / 2
        k_out = served[0] / pre.view.width

        def to_served(x: float, y: float) -> tuple[float, float]:
            rx, ry = _rot(x * k_in - left, y * k_in - top, cx, cy, pre.angle)
            return rx * pre.scale * k_out, ry * pre.scale * k_out
    out = []
    for t in entry.page.truths:
        boxes = []
        for quad in t.quads:
            pts = [to_served(x, y) for x, y in quad]
            boxes.append((min(p[0] for p in pts), min(p[1] for p in pts),
                          max(p[0] for p in pts), max(p[1] for p in pts)))
        out.append((t, boxes))
    return out


def coverage(lum: np.ndarray, box: tuple[float, float, float, float],
             skip: np.ndarray | None = None) -> float:
    """Black share of `box`, not counting the pixels in `skip` (the watermark's)."""
    h, w = lum.shape
    l, t = max(0, int(math.floor(box[0]))), max(0, int(math.floor(box[1])))
    r, b = min(w, int(math.ceil(box[2]))), min(h, int(math.ceil(box[3])))
    if r <= l or b <= t:
        return 0.0
    black = lum[t:b, l:r] < BLACK
    if skip is not None:
        keep = ~skip[t:b, l:r]
        return float(black[keep].mean()) if keep.any() else 1.0
    return float(black.mean())


def strips(img: Image.Image, boxes) -> Image.Image:
    """The text lines holding a PII glyph box, full width, half a line above and below, stacked
    with paper between them: what a reader of those lines sees, in one image for one OCR call."""
    spans: list[list[int]] = []
    for _t, tboxes in boxes:
        for l, t, r, b in tboxes:
            pad = (b - t) / 2
            spans.append([max(0, int(t - pad)), min(img.height, int(math.ceil(b + pad)))])
    spans.sort()
    merged: list[list[int]] = []
    for span in spans:
        if merged and span[0] <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], span[1])
        else:
            merged.append(span)
    gap = 24
    gray = img.convert("L")
    paper = int(np.median(np.asarray(gray)))
    out = Image.new("L", (img.width, sum(b - t + gap for t, b in merged) + gap), paper)
    y = gap
    for t, b in merged:
        out.paste(gray.crop((0, t, img.width, b)), (0, y))
        y += b - t + gap
    return out


def _digit_lines(text: str) -> list[str]:
    lines = [re.sub(r"\D", "", fold(line).translate(_CN)) for line in text.split("\n")]
    return lines + [a + b for a, b in zip(lines, lines[1:])]  # a value broken across two lines


def _near(value: str, hay: str, edits: int) -> bool:
    n = len(value)
    if n == 0 or len(hay) < n - edits:
        return False
    return any(Levenshtein.distance(value, hay[i:i + n + d], score_cutoff=edits) <= edits
               for i in range(0, max(1, len(hay) - n + edits + 1)) for d in (-1, 0, 1) if n + d > 0)


def readable(t: Truth, read: str, digit_lines: list[str]) -> bool:
    if t.kind in NUMERIC:
        value = re.sub(r"\D", "", fold(t.value.removeprefix("+86")).translate(_CN))
        return any(_near(value, line, 2) for line in digit_lines)
    flat = squeeze(read)
    if t.kind == "name":
        if t.value.isascii():
            return t.value.replace(" ", "").lower() in flat.lower()
        name = squeeze(t.value).replace("·", "")
        return name in flat.replace("·", "").replace(".", "")
    detail = squeeze(t.value)[t.detail:]
    road = re.search(r"(\D{2})(\d+)", detail)  # 东路544, 五组47, 花园3
    if road and road.group(0) in flat:
        return True
    # a house, flat or lane number with its neighbours: 门313号, 3单元502室, 544弄
    return any(m.group(0) in flat for m in re.finditer(r"\D\d{2,}[号室弄栋]", detail))


def _dump(path: Path, img: Image.Image, boxes) -> None:
    """The served image with each truth box outlined (red: not fully black), for debugging."""
    from PIL import ImageDraw
    path.parent.mkdir(parents=True, exist_ok=True)
    out = img.convert("RGB")
    draw = ImageDraw.Draw(out)
    lum = np.asarray(img.convert("L"), dtype=np.float32)
    for _t, tboxes in boxes:
        for box in tboxes:
            draw.rectangle(box, outline=(0, 160, 0) if coverage(lum, box) >= FULL else (255, 0, 0))
    out.save(path)


def table(rows: dict[str, Counter]) -> bool:
    print("\n| kind | values | readable on served image | boxes | fully black boxes | "
          "mean black share | worst box | result |")
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for kind in [*KINDS, "all"]:
        s = rows[kind]
        mean = s["black_sum"] / s["boxes"] if s["boxes"] else 1.0
        worst = s["worst_milli"] / 1000 if s["boxes"] else 1.0
        passed = s["readable"] == 0 and s["full"] == s["boxes"]
        ok &= passed if kind == "all" else True
        print(f"| {kind} | {s['values']} | {s['readable']} | {s['boxes']} | {s['full']} | "
              f"{mean:.1%} | {worst:.1%} | {'PASS' if passed else 'FAIL'} |")
    s = rows["all"]
    print(f"\nwatermark: {s['watermark_read']} of {s['pages']} served images name their audit record")
    return ok and s["watermark_read"] == s["pages"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--redis-db", type=int, default=15)
    ap.add_argument("--show", type=int, default=10, help="print up to N readable values per kind")
    ap.add_argument("--first", type=int, default=0, help="start at page FIRST of the seed's corpus")
    ap.add_argument("--batch", type=int, default=10, help="pages per ingest job (table after each)")
    ap.add_argument("--json", type=Path, default=None, help="also write the counts here")
    ap.add_argument("--combine", type=Path, nargs="+", default=None,
                    help="print the table of several runs' --json files (pages split over processes)")
    ap.add_argument("--full-ocr", action="store_true",
                    help="OCR the whole served image, not only the lines that hold PII")
    ap.add_argument("--dump", type=Path, default=None,
                    help="save each served image with the ground-truth boxes outlined here")
    args = ap.parse_args()
    if args.combine:
        total = {k: Counter() for k in [*KINDS, "all"]}
        for path in args.combine:
            for kind, counts in json.loads(path.read_text()).items():
                worst = min(total[kind].get("worst_milli", 1000), counts.pop("worst_milli", 1000))
                total[kind].update(counts)
                total[kind]["worst_milli"] = worst
        print(f"combined {len(args.combine)} runs, {total['all']['pages']} pages:")
        return 0 if table(total) else 1
    # a stopped run (kill, deadline) still drops its index alias in the finally below
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    t0 = time.perf_counter()
    fmts = formats(args.first + args.pages)
    pages = [make_entry(args.seed, i, fmts[i]) for i in range(args.first, args.first + args.pages)]
    print(f"{len(pages)} pages (seed {args.seed}, from {args.first}): {dict(Counter(e.fmt for e in pages))}, "
          f"{sum(e.page.traditional for e in pages)} traditional, "
          f"{sum(len(e.page.truths) for e in pages)} PII values")
    with tempfile.TemporaryDirectory(prefix="image-leak-") as tmp:
        os.chmod(tmp, 0o700)
        app = make_app(Path(tmp), args.redis_db)
        try:
            with app.app_context():
                client, grant_id, viewer = staff_client(app)
                rows = {k: Counter() for k in [*KINDS, "all"]}
                shown: Counter = Counter()
                pending, done = [], 0
                from search_app.ingest.service import options_from_config
                opts = options_from_config()  # the app's OCR dpi and preprocessing, as ingest uses
                with ThreadPoolExecutor(max_workers=1) as pool:  # OCR while the next batch ingests
                    for first in range(0, len(pages), args.batch):
                        batch = pages[first:first + args.batch]
                        folder = Path(tmp) / f"batch{first}"
                        folder.mkdir()
                        docs = ingest(app, batch, folder)
                        for e in batch:
                            served = fetch(client, grant_id, e, docs, viewer)
                            pending.append(pool.submit(evaluate, e, served, opts, args.full_ocr,
                                                       args.dump))
                        print(f"ingested {first + len(batch)} pages, "
                              f"{time.perf_counter() - t0:.0f} s", flush=True)
                        done = collect(pending, done, rows, shown, args, t0, wait=False)
                    collect(pending, done, rows, shown, args, t0, wait=True)
                    ok = table(rows)
        finally:
            from search_app.search._backend import drop_alias_and_indices, make_client
            drop_alias_and_indices(make_client(app.config, "admin"), app.config["OPENSEARCH_INDEX"])
    print(f"\ntotal {time.perf_counter() - t0:.0f} s")
    print("RESULT:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


def fetch(client, grant_id: int, e: Entry, docs: dict[str, str], viewer: str):
    """The served image of `e` through the app (None: not ingested or refused) and the label of
    the read that produced it, rebuilt from the audit record its code names."""
    from search_app.audit.models import AuditRecord
    from search_app.db import get_session
    from zoneinfo import ZoneInfo
    from flask import current_app
    doc_id = docs.get(e.name.rsplit(".", 1)[0])
    if doc_id is None:
        print(f"  {e.name}: not ingested; every value counted readable")
        return None, None
    # as a reader does: the page view (an audited read under the grant, with its purpose) mints
    # the signed image link, and the <img> fetches it
    view = client.post(f"/pages/{quote(doc_id, safe='')}",
                       data={"grant_id": grant_id, "purpose": "图像脱敏基准测试"})
    link = re.search(r'id="page-image"[^>]*src="([^"]+)"', view.get_data(as_text=True))
    if view.status_code != 200 or not link:
        print(f"  {e.name}: page view answered {view.status_code} without an image link; "
              "every value counted readable")
        return None, None
    resp = client.get(html.unescape(link.group(1)))
    if resp.status_code != 200:
        print(f"  {e.name}: image route answered {resp.status_code} "
              f"({resp.get_data(as_text=True)[:60]!r}); every value counted readable")
        return None, None
    img = Image.open(io.BytesIO(resp.data))
    img.load()
    seq = read_audit_seq(img)
    rec = get_session().get(AuditRecord, seq) if seq is not None else None
    if rec is None or rec.action != "page.image":
        print(f"  {e.name}: the served image's watermark names no image read (read {seq})")
        return img, None
    local = rec.ts.replace(tzinfo=UTC).astimezone(ZoneInfo(current_app.config["AUDIT_TIMEZONE"]))
    return img, watermark_label(viewer, local, rec.seq)


def evaluate(e: Entry, served, opts: PipelineOptions, full_ocr: bool, dump: Path | None) -> dict:
    """Counts for one page (runs in a worker thread: OCR is a Tesseract child process)."""
    img, label = served
    out = {"rows": {k: Counter() for k in [*KINDS, "all"]}, "readable": []}
    rows = out["rows"]
    rows["all"]["pages"] += 1
    rows["all"]["watermark_read"] += label is not None
    unread = img is None
    boxes = served_boxes(e, img.size, opts) if img else [(t, list(t.boxes)) for t in e.page.truths]
    try:
        read = (ocr_image(img.convert("L") if full_ocr else strips(img, boxes), langs=opts.langs,
                          timeout=OCR_TIMEOUT).text if img else "")
    except IngestError as exc:  # cannot tell what is readable: count the page as leaking
        print(f"  {e.name}: served image could not be read ({exc}); every value counted readable")
        read, unread = "", True
    lum = np.asarray(img.convert("L"), dtype=np.float32) if img else None
    skip = watermark_mask(img.size, label) | slot_mask(img.size) if img and label else None
    lines = _digit_lines(read)
    if dump and img:
        _dump(dump / f"{e.name}.png", img, boxes)
    for t, tboxes in boxes:
        leak = unread or readable(t, read, lines)
        for row in (t.kind, "all"):
            rows[row]["values"] += 1
            rows[row]["readable"] += leak
        if leak:
            out["readable"].append(f"  READABLE {t.kind} {t.value!r} on {e.name} ({e.fmt})")
        for box in tboxes:
            share = coverage(lum, box, skip) if lum is not None else 0.0
            if lum is not None and share < FULL:
                out["readable"].append(f"  UNDER {t.kind} {t.value!r} on {e.name} ({e.fmt}): "
                                       f"{share:.1%} black, box {tuple(round(v) for v in box)}")
            for row in (t.kind, "all"):
                s = rows[row]
                s["boxes"] += 1
                s["black_sum"] += share
                s["full"] += share >= FULL
                s["worst_milli"] = min(s.get("worst_milli", 1000), int(share * 1000))
    return out


def collect(pending: list, done: int, rows, shown: Counter, args, t0: float, *, wait: bool) -> int:
    """Merge the scored pages in order (all of them when `wait`, else those already scored),
    print the table and write --json, so a run stopped early still leaves its counts."""
    start = done
    while done < len(pending) and (wait or pending[done].done()):
        merge(rows, shown, args.show, pending[done].result())
        done += 1
    if done > start:
        print(f"scored {done} pages, {time.perf_counter() - t0:.0f} s:")
        table(rows)
        if args.json:
            args.json.write_text(json.dumps(rows))
    return done


def merge(rows: dict[str, Counter], shown: Counter, show: int, page: dict) -> None:
    for line in page["readable"]:
        key = tuple(line.split()[:2])  # (READABLE|UNDER, kind)
        if shown[key] < show:
            shown[key] += 1
            print(line)
    for kind, counts in page["rows"].items():
        worst = min(rows[kind].get("worst_milli", 1000), counts.pop("worst_milli", 1000))
        rows[kind].update(counts)
        if rows[kind]["boxes"]:
            rows[kind]["worst_milli"] = worst


if __name__ == "__main__":
    raise SystemExit(main())
