"""A seeded mix of realistic pages in the file formats archives deliver, for benchmarks.

Scans (PNG, JPEG, TIFF, image-only PDF), born-digital text-layer PDFs and mixed PDFs (text layer
plus an embedded ID-card picture), about a quarter in traditional script. Each entry is written
as one file of one page so a benchmark can ingest, serve and score it page by page.
"""
from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path

from tests.synth.pdf import scans_pdf, text_layer_page
from tests.synth.scan import Page, scanned_page

# (format, share of the corpus); scans dominate, as in a real archive.
MIX = [("png", 0.30), ("jpeg", 0.20), ("tiff", 0.10), ("pdf_scan", 0.15), ("pdf_text", 0.15),
       ("pdf_mixed", 0.10)]
WIDE_SHARE = 0.5
SUFFIX = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "pdf_scan": ".pdf", "pdf_text": ".pdf",
          "pdf_mixed": ".pdf"}


@dataclass
class Entry:
    name: str
    fmt: str
    page: Page


def formats(count: int) -> list[str]:
    """`count` formats in the MIX proportions, interleaved so any prefix is mixed too."""
    out, owed = [], {f: 0.0 for f, _ in MIX}
    for _ in range(count):
        for f, share in MIX:
            owed[f] += share
        best = max(owed, key=owed.get)
        owed[best] -= 1
        out.append(best)
    return out


def is_wide(page_seed: int) -> bool:
    """Whether a corpus page uses the wider templates and formats (tests.synth.forms / wide).

    Drawn from its own RNG stream (not the page's), so the other pages of every seed stay
    byte for byte what they were; half the corpus is wide."""
    return random.Random(f"wide:{page_seed}").random() < WIDE_SHARE


def make_entry(seed: int, index: int, fmt: str, *, wide: bool | None = None) -> Entry:
    page_seed = seed * 1000 + index
    wide = is_wide(page_seed) if wide is None else wide
    if fmt == "pdf_text":
        page = text_layer_page(page_seed, wide=wide)
    elif fmt == "pdf_mixed":
        page = text_layer_page(page_seed, card=True, wide=wide)
    else:
        page = scanned_page(page_seed, wide=wide)
    return Entry(f"P{seed}-{index:03d}{SUFFIX[fmt]}", fmt, page)


def entries(seed: int, count: int) -> list[Entry]:
    return [make_entry(seed, i, fmt) for i, fmt in enumerate(formats(count))]


def file_bytes(entry: Entry) -> bytes:
    """The entry as the file a scanner or an office system would hand over."""
    page = entry.page
    if page.pdf is not None:
        return page.pdf
    assert page.image is not None
    if entry.fmt == "pdf_scan":
        return scans_pdf([page])
    buf = io.BytesIO()
    kwargs = {"png": {"format": "PNG"}, "jpeg": {"format": "JPEG", "quality": 88},
              "tiff": {"format": "TIFF", "compression": "tiff_lzw"}}[entry.fmt]
    page.image.save(buf, dpi=(page.dpi, page.dpi), **kwargs)
    return buf.getvalue()


def write(entry: Entry, out_dir: Path) -> Path:
    path = out_dir / entry.name
    path.write_bytes(file_bytes(entry))
    return path
