"""Scan clean-up before OCR: each step a small function, chosen by name from configuration.

Only steps that the OCR benchmark (`bench/ocr_bench.py --steps N`, docs/benchmarks.md) shows to
lower the character error rate belong in the default; the others stay available for measurement.
Geometric steps (crop, deskew, scale) run first on the grayscale page and give the `view` image the OCR word
boxes refer to; photometric steps (denoise, binarise) only change what Tesseract is shown.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from indexer.types import Box

STEPS = ("grayscale", "crop", "deskew", "scale", "denoise", "binarise")
# All of them. Measured with `bench/ocr_bench.py --steps 8` on 2026-12-01 (8 realistic scans of
# tests/synth, docs/benchmarks.md): 3.12 % CER with no step, 2.02 % with all; leaving out deskew
# gave 14.31 %, crop 2.27 %, scale 2.22 %, but denoise 1.76 % and binarise 1.74 %. Too few pages
# (and redaction not measured) to change the default on; measure on more before dropping a step.
DEFAULT_STEPS = STEPS
# Text lines are scaled down towards this height (px) before OCR (the `scale` step above).
TARGET_GLYPH_PX = 26
_DARK = 0.5  # a row or column more than half dark at the page edge is scanner bed, not text


@dataclass(frozen=True)
class Preprocessed:
    """What OCR reads (`image`), what a viewer sees (`view`, same geometry) and how it got there.

    `crop` is (left, top, right, bottom) in the input page, `angle` the counter-clockwise rotation
    about the cropped page's centre (degrees, size kept), `scale` the resize factor applied last.
    OCR word boxes are in `image` coordinates, which are also `view`'s.
    """

    image: Image.Image
    view: Image.Image
    steps: tuple[str, ...]
    angle: float = 0.0
    crop: tuple[int, int, int, int] | None = None
    scale: float = 1.0
    frame: tuple[int, int] = (0, 0)  # size of the page that was rotated (after the crop)

    def to_input(self, box: Box) -> Box:
        """`box` (in `image`/`view` pixels) in the input page's pixels: undo the scale, the
        rotation (its four corners, bounded) and the crop. Rounded outwards: never smaller."""
        s = self.scale or 1.0
        cx, cy = self.frame[0] / 2.0, self.frame[1] / 2.0
        a = math.radians(self.angle)
        cos, sin = math.cos(a), math.sin(a)
        xs, ys = [], []
        for x, y in ((box.left, box.top), (box.right, box.top), (box.left, box.bottom),
                     (box.right, box.bottom)):
            x, y = x / s - cx, y / s - cy
            xs.append(cx + x * cos - y * sin)
            ys.append(cy + x * sin + y * cos)
        ox, oy = (self.crop[0], self.crop[1]) if self.crop else (0, 0)
        return Box(math.floor(min(xs)) + ox, math.floor(min(ys)) + oy,
                   math.ceil(max(xs)) + ox, math.ceil(max(ys)) + oy)


def grayscale(img: Image.Image) -> Image.Image:
    return img if img.mode == "L" else img.convert("L")


def _small(img: Image.Image, factor: int = 4) -> np.ndarray:
    return np.asarray(img.reduce(factor), dtype=np.float32)


def gray_histogram(arr: np.ndarray) -> np.ndarray:
    """Counts of the 256 gray levels of `arr` (cast to 8 bits like `astype(np.uint8)`).

    Pillow's histogram, not np.bincount: bincount widens every pixel to a 64-bit index first,
    37 ms against 4 ms on a 300-dpi A4 page (2026-12-01); the counts are the same.
    """
    u8 = arr if arr.dtype == np.uint8 else arr.astype(np.uint8)
    if u8.size == 0:
        return np.zeros(256, dtype=np.float64)
    if u8.ndim != 2:
        u8 = u8.reshape(1, -1)
    return np.array(Image.fromarray(np.ascontiguousarray(u8), mode="L").histogram(),
                    dtype=np.float64)


def otsu_threshold(arr: np.ndarray) -> float:
    """Global threshold that best separates the two gray-level populations (ink vs paper)."""
    hist = gray_histogram(arr)
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * levels)
    mean0 = m0 / np.maximum(w0, 1)
    mean1 = (m0[-1] - m0) / np.maximum(w1, 1)
    between = w0 * w1 * (mean0 - mean1) ** 2
    return float(np.argmax(between))


def border_box(img: Image.Image) -> tuple[int, int, int, int]:
    """The page inside a dark scanner bed: trim edge rows/columns that are mostly very dark.

    Text never fills half a row with near-black, the bed does; "very dark" is a third of the
    paper's brightness, so shadows and aged paper are kept as page.
    """
    factor = 4
    small = _small(img, factor)
    paper = float(np.percentile(small, 90))
    dark = small < paper / 3
    rows, cols = dark.mean(axis=1), dark.mean(axis=0)

    def span(frac: np.ndarray) -> tuple[int, int]:
        lo, hi = 0, len(frac)
        while lo < hi and frac[lo] > _DARK:
            lo += 1
        while hi > lo and frac[hi - 1] > _DARK:
            hi -= 1
        return lo, hi

    top, bottom = span(rows)
    left, right = span(cols)
    if bottom - top < 8 or right - left < 8:  # nothing but bed: leave the page alone
        return 0, 0, img.width, img.height
    # One reduced pixel inwards so the bed's soft edge does not survive the trim.
    pad = 1 if (top, left, bottom, right) != (0, 0, len(rows), len(cols)) else 0
    return ((left + pad) * factor, (top + pad) * factor,
            min(img.width, (right - pad) * factor), min(img.height, (bottom - pad) * factor))


def estimate_skew(img: Image.Image, *, limit: float = 5.0) -> float:
    """Angle (degrees, counter-clockwise) that makes text lines horizontal; 0 when under 0.15.

    Projection profile: rotate an ink mask and keep the angle whose row sums are most peaked
    (lines and gaps sharply separated). A coarse 0.5 degree search on a 1/8-size mask, then
    0.05 degree steps on a 1/4-size one. Rotating by less than 0.15 degree only resamples the
    page (a line drifts under 5 px across A4), so such angles count as straight.
    """
    coarse = max(np.arange(-limit, limit + 1e-9, 0.5), key=_profile_score(img, 8))
    fine = max(np.arange(coarse - 0.5, coarse + 0.5 + 1e-9, 0.05), key=_profile_score(img, 4))
    return 0.0 if abs(fine) < 0.15 else round(float(fine), 2)


def _profile_score(img: Image.Image, factor: int):
    arr = _small(img, factor)
    mask = Image.fromarray(_white_where(arr <= otsu_threshold(arr)), mode="L")
    w, h = mask.size
    mask = mask.crop((w // 20, h // 20, w - w // 20, h - h // 20))  # ignore what is left of borders

    def score(angle: float) -> float:
        rotated = mask.rotate(float(angle), resample=Image.Resampling.BILINEAR, fillcolor=0)
        rows = np.asarray(rotated).sum(axis=1, dtype=np.float64)  # exact: integer sums
        return float(np.sum(rows ** 2))

    return score


def rotate(img: Image.Image, angle: float) -> Image.Image:
    """Rotate about the centre keeping the size; corners are filled like the page's own edge.

    Bilinear, not bicubic: measured 2026-12-01 on the OCR benchmark's 8 realistic scans (200/300
    dpi; preprocess + ocr_image with each), CER 2.02 % bilinear vs 2.13 % bicubic, and on a 300-dpi
    A4 page 0.18 s vs 0.64 s per rotation (loaded machine); the page is median-filtered and scaled
    down afterwards anyway.
    """
    arr = np.asarray(img)
    fill = int(np.median(np.concatenate([arr[[0, -1], :].ravel(), arr[:, [0, -1]].ravel()])))
    return img.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=fill)


def glyph_height(img: Image.Image) -> float | None:
    """Median height of text lines (runs of inked rows), or None when there are too few lines."""
    arr = np.asarray(img)  # compared as 8-bit: a float copy of the page cost more than the rest
    ink_rows = (arr <= np.uint8(otsu_threshold(arr))).mean(axis=1) > 0.002
    # Runs of inked rows, ended by an uninked row (a run reaching the last row is not a line)
    edges = np.diff(np.concatenate(([0], ink_rows.astype(np.int8))))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    runs = ends - starts[:len(ends)]
    runs = runs[runs >= 6]  # speckle rows are not lines
    return float(np.median(runs)) if len(runs) >= 2 else None


def scale_factor(img: Image.Image, *, target: int = TARGET_GLYPH_PX) -> float:
    """Downscale large text towards `target` px; never upscale (small print stays as scanned)."""
    height = glyph_height(img)
    if height is None or height <= target * 1.25:
        return 1.0
    return round(target / height, 3)


# Paeth's 19 compare-exchanges that leave the median of 9 values in position 4.
_MEDIAN9 = ((1, 2), (4, 5), (7, 8), (0, 1), (3, 4), (6, 7), (1, 2), (4, 5), (7, 8), (0, 3),
            (5, 8), (4, 7), (3, 6), (1, 4), (2, 5), (4, 7), (4, 2), (6, 4), (4, 2))
_STRIP = 256  # rows per strip: the nine shifted copies stay small and in cache


def denoise(img: Image.Image) -> Image.Image:
    """3×3 median: removes isolated dust/sensor speckle, which costs Tesseract more than blur.

    The same pixels as Pillow's MedianFilter(3) (edges replicated; checked equal on 200/300-dpi
    scans), computed as a sorting network over the nine shifted neighbours with numpy min/max, a
    strip of rows at a time: on a 300-dpi A4 page 0.12-0.17 s against Pillow's 4.1-4.9 s
    (2026-12-01, loaded 2-core machine), which sorts each pixel's window.
    """
    arr = np.asarray(grayscale(img))
    padded = np.pad(arr, 1, mode="edge")
    out = np.empty_like(arr)
    h, w = arr.shape
    for top in range(0, h, _STRIP):
        rows = min(_STRIP, h - top)
        v = [padded[top + dy:top + dy + rows, dx:dx + w] for dy in range(3) for dx in range(3)]
        for i, j in _MEDIAN9:
            v[i], v[j] = np.minimum(v[i], v[j]), np.maximum(v[i], v[j])
        out[top:top + rows] = v[4]
    return Image.fromarray(out, mode="L")


def binarise(img: Image.Image) -> Image.Image:
    """Flatten uneven paper (divide by a blurred background estimate), then Otsu.

    The background is the page with the ink removed: a max filter on a 1/8-size copy, smoothed
    and scaled back up. Dividing by it turns stains, yellowing and edge shadows into plain white.
    """
    bg = _max5(img.reduce(8)).filter(ImageFilter.GaussianBlur(2))
    bg_arr = np.array(bg.resize(img.size, Image.Resampling.BILINEAR), dtype=np.float32)
    flat = np.array(img, dtype=np.float32)
    # In place, in the order of `clip(page / max(bg, 1) * 255, 0, 255)`: the same float32 values
    # without four page-sized temporaries.
    np.maximum(bg_arr, 1.0, out=bg_arr)
    np.divide(flat, bg_arr, out=flat)
    np.multiply(flat, 255.0, out=flat)
    np.clip(flat, 0, 255, out=flat)
    ink = flat <= np.float32(otsu_threshold(flat))
    return Image.fromarray(_white_where(~ink), mode="L")


def _max5(img: Image.Image) -> Image.Image:
    """Pillow's MaxFilter(5) (edges replicated), as two separable numpy maxima: the same pixels,
    about 15 ms less a 300-dpi page than Pillow's rank filter, which sorts every 5x5 window."""
    padded = np.pad(np.asarray(img), 2, mode="edge")
    h, w = padded.shape[0] - 4, padded.shape[1] - 4
    rows = padded[:, 0:w].copy()
    for dx in range(1, 5):
        np.maximum(rows, padded[:, dx:dx + w], out=rows)
    out = rows[0:h].copy()
    for dy in range(1, 5):
        np.maximum(out, rows[dy:dy + h], out=out)
    return Image.fromarray(out, mode="L")


def _white_where(mask: np.ndarray) -> np.ndarray:
    """255 where `mask`, else 0, as 8 bits: np.where with two scalars took 46 ms on a 300-dpi
    page, this 2 ms (same values)."""
    out = mask.astype(np.uint8)
    out *= np.uint8(255)
    return out


def preprocess(img: Image.Image, *, steps: Sequence[str] = STEPS) -> Preprocessed:
    """Apply the named steps in their fixed order (grayscale always, the rest on request).

    Denoise and binarise run at scan resolution (speckle and stroke edges are resolved there);
    the downscale comes last so Tesseract gets anti-aliased strokes at the height it reads best.
    """
    unknown = set(steps) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown preprocessing step(s): {', '.join(sorted(unknown))}")
    page = grayscale(img)
    crop_box, angle, scale = None, 0.0, 1.0
    if "crop" in steps:
        crop_box = border_box(page)
        page = page.crop(crop_box)
    frame = page.size
    if "deskew" in steps:
        angle = estimate_skew(page)
        if angle:
            page = rotate(page, angle)
    view = ocr = page
    if "denoise" in steps:
        ocr = denoise(ocr)
    if "binarise" in steps:
        ocr = binarise(ocr)
    if "scale" in steps:
        scale = scale_factor(ocr if "binarise" in steps else page)
        if scale != 1.0:
            size = (round(page.width * scale), round(page.height * scale))
            view = page.resize(size, Image.Resampling.LANCZOS)
            ocr = view if ocr is page else ocr.resize(size, Image.Resampling.LANCZOS)
    return Preprocessed(image=ocr, view=view, steps=tuple(s for s in STEPS if s in steps),
                        angle=angle, crop=crop_box, scale=scale, frame=frame)
