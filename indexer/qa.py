"""Digitisation quality checks of one page or file (DA/T 31-2017, 图像处理 and 数据质量检查): pure
functions.

What a records office checks on every scanned page before it accepts a batch: the image is the
right way up, not blank, scanned at 200 dpi or more, not skewed beyond what deskew corrects, and
the file has as many pages as the catalogue (manifest 页数) says. The ingest stages record the
findings per page (indexer.orient runs the orientation check); the QA review queue shows them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from PIL import Image

from indexer.preprocess import otsu_threshold

MIN_DPI = 200  # DA/T 31-2017 档案扫描: resolution generally not under 200 dpi (300 for small or faint print)
# A page is blank when under this share of its area (inside a 5 % margin, on a 1/4-size copy
# that averages speckle away) is ink, and OCR read nothing with confidence. Measured 2026-12-01 on
# A4 sheets at 300 dpi with paper tone, blur and 0.3-3 % speckle: a blank sheet 0.0, one short
# line (此页以下空白) 0.00066, a realistic text page 0.003-0.06. OCR of a blank sheet still returns
# paper grain as junk "text" (mean confidence ~30), so its confidence is judged as a whole.
BLANK_INK_RATIO = 0.0002
BLANK_MAX_CHARS = 2  # confident OCR characters a blank page may still "have" (speckle read as 一)
BLANK_MAX_CONFIDENCE = 60.0
SKEW_REPORT_DEG = 0.5  # skew above this is worth reporting (it was corrected, but say so)


@dataclass
class PageQa:
    """The findings for one page, stored with the page (search_app.qa.models.QaPage)."""

    dpi: float | None = None  # the scan's resolution: image metadata, or image pixels per PDF inch
    low_dpi: bool = False
    blank: bool = False
    ink_ratio: float | None = None
    rotation: int = 0  # degrees (clockwise) the page was turned to be upright before OCR
    osd_ran: bool = False  # Tesseract OSD was asked (it is only asked where it may help)
    osd_confidence: float | None = None
    skew: float = 0.0  # degrees, counter-clockwise, corrected by deskew
    first_confidence: float | None = None  # OCR confidence before any rotation

    def flags(self) -> list[str]:
        """Chinese labels of what a reviewer should look at (for the queue and the statistics)."""
        out = []
        if self.blank:
            out.append("空白页")
        if self.rotation:
            out.append(f"已自动旋转 {self.rotation}°")
        if self.low_dpi:
            out.append(f"分辨率不足 {MIN_DPI} dpi（{self.dpi:.0f} dpi）")
        if abs(self.skew) >= SKEW_REPORT_DEG:
            out.append(f"倾斜 {self.skew:+.1f}°（已纠偏）")
        return out

    def as_dict(self) -> dict:
        return asdict(self)


def low_dpi(dpi: float | None) -> bool:
    """Below MIN_DPI, with half a dpi of slack for metadata stored as rounded inches/cm."""
    return dpi is not None and dpi < MIN_DPI - 0.5


def ink_ratio(img: Image.Image) -> float:
    """Share of dark pixels inside a 5 % margin, on a 1/4-size copy.

    Otsu alone splits even a blank sheet into two populations (paper grain), so ink must also be
    clearly darker than the paper: under 60 % of the paper's brightness.
    """
    small = np.asarray(img.convert("L").reduce(4), dtype=np.float32)
    h, w = small.shape
    inner = small[h // 20: h - h // 20 or h, w // 20: w - w // 20 or w]
    if inner.size == 0:
        return 0.0
    paper = float(np.percentile(inner, 90))
    ink = (inner <= otsu_threshold(inner)) & (inner < paper * 0.6)
    return float(ink.mean())


def is_blank(ratio: float, confident_chars: int, confidence: float | None) -> bool:
    if ratio >= BLANK_INK_RATIO:
        return False
    return (confident_chars <= BLANK_MAX_CHARS or confidence is None
            or confidence < BLANK_MAX_CONFIDENCE)


def count_mismatch(declared: int | None, actual: int) -> str:
    """The reason a file fails the page-count check (""): its manifest 页数 against the pages the
    scan has. No 页数 in the manifest means nothing to check."""
    if declared is None or declared == actual:
        return ""
    return f"页数不符：著录 {declared} 页，扫描件实有 {actual} 页"
