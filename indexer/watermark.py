"""The watermark on every served page image: viewer, local time and the audit record of the read.

A single coloured overlay was removed by one colour threshold, leaving a clean copy, and a fine
dither of 3 px cells by one 5×5 median filter. Here every watermark pixel is a copy of a real
ink pixel of the same page (its colour and luminance), blended "darken" (ink only ever darkens
paper, black boxes stay black), in solid squares at least 6 px wide (wider than the page's text
strokes), so what cleans the mark away — colour, hue or luminance threshold, one channel alone,
median filter, morphological opening, blur + threshold, JPEG — cleans the page's text away too.
Two marks share that ink:
* the label (viewer, time, 审计记录 #n) tiled diagonally, in squares switched on at random
  (semi-transparent to the eye); the pattern is keyed by the label, so `watermark_score` tells
  which label a leaked copy carries when an auditor scores the candidate records' labels;
* the audit record number as a dot code on a fixed grid (indexer.watermark_code), which
  `read_audit_seq` reads back from a copy alone, without candidates.
"""
from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import subprocess
from datetime import datetime

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from indexer import watermark_code

WATERMARK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)
DENSITY = 0.3  # share of the label's glyph pixels that carry ink: visible, yet the page stays readable
_SEQ = re.compile(r"#(\d+)\s*$")
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def watermark_label(viewer: str, when: datetime, seq: int) -> str:
    """The text burned into a view: who, when (local time, as the viewer read it) and the audit
    record number, so a leaked copy names the read that produced it."""
    return f"{viewer} {when:%Y-%m-%d %H:%M} 审计记录 #{seq}"


@functools.lru_cache(maxsize=1)
def watermark_font_path() -> str:
    """A CJK font file: fontconfig's answer for a Chinese family, else a fixed list of paths."""
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC:lang=zh-cn:bold"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        if out.endswith((".ttc", ".otf", ".ttf")) and os.path.isfile(out) and "CJK" in out:
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    for path in WATERMARK_FONTS:
        if os.path.isfile(path):
            return path
    raise RuntimeError("找不到中文字体，无法添加水印：请安装 fonts-noto-cjk（或 fonts-wqy-zenhei）")


def _font_size(size: tuple[int, int]) -> int:
    return max(40, min(size) // 25)


@functools.lru_cache(maxsize=2)  # scoring a leaked copy against one label draws it once
def _glyphs(size: tuple[int, int], text: str) -> np.ndarray:
    """The label tiled diagonally over the whole page (any crop still carries it), as a mask."""
    w, h = size
    px = _font_size(size)
    font = ImageFont.truetype(watermark_font_path(), px)
    tile_w = int(font.getlength(text)) + px * 3
    tile_h = px * 5
    diag = int(math.hypot(w, h)) + tile_w
    layer = Image.new("L", (diag, diag), 0)
    draw = ImageDraw.Draw(layer)
    for row, y in enumerate(range(0, diag, tile_h)):
        for x in range(-(row % 2) * tile_w // 2, diag, tile_w):
            draw.text((x, y), text, fill=255, font=font)
    layer = layer.rotate(30, resample=Image.Resampling.BILINEAR)
    left, top = (diag - w) // 2, (diag - h) // 2
    mask = np.asarray(layer.crop((left, top, left + w, top + h))) > 127
    mask.setflags(write=False)
    return mask


def _rng(text: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big"))


def _cells(size: tuple[int, int], text: str, density: float) -> np.ndarray:
    """The label's dither: square cells switched on at random with probability `density`, keyed
    by the label."""
    w, h = size
    cell = watermark_code.geometry(size)[0]  # as wide as a code dot: survives a 5×5 median
    grid = _rng(text).random((h // cell + 1, w // cell + 1)) < density
    return np.repeat(np.repeat(grid, cell, axis=0), cell, axis=1)[:h, :w]


def label_seq(text: str) -> int | None:
    """The audit record number a label ends with (watermark_label's "审计记录 #n"), if any."""
    m = _SEQ.search(text)
    return int(m.group(1)) if m else None


def watermark_mask(size: tuple[int, int], text: str, *, density: float = DENSITY,
                   seq: int | None = None, text_ink: np.ndarray | None = None) -> np.ndarray:
    """Which pixels of an image of `size` the watermark for `text` inks: the label's cells and,
    when the label names an audit record (or `seq` is given), that record's code dots, which
    keep off the page's `text_ink` when it is given."""
    mask = _glyphs(size, text) & _cells(size, text, density)
    seq = label_seq(text) if seq is None else seq
    if seq is None:
        return mask
    return mask | watermark_code.code_mask(size, seq, keep_clear=text_ink)


def read_audit_seq(img: Image.Image) -> int | None:
    """The audit record number a (leaked, possibly cleaned) copy of a served image carries, or
    None when its code cannot be read with certainty (then score the candidate labels). The
    served image's own grid is read first (fast); else the code's dot lattice is registered on
    the copy (scale 0.5-2×, a turn of a few degrees, any crop or margin: indexer.
    watermark_register); else a copy cut out at the same scale is searched for its place on the
    page grid (indexer.watermark_search)."""
    from indexer.watermark_register import decode_registered
    from indexer.watermark_search import decode_cropped

    for read in (watermark_code.decode, decode_registered, decode_cropped):
        seq = read(img).seq
        if seq is not None:
            return seq
    return None


def _otsu(lum: np.ndarray) -> float:
    hist = np.bincount(np.clip(lum, 0, 255).astype(np.uint8).ravel(), minlength=256).astype(float)
    levels = np.arange(256, dtype=float)
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * levels)
    between = w0 * w1 * (m0 / np.maximum(w0, 1) - (m0[-1] - m0) / np.maximum(w1, 1)) ** 2
    return float(np.argmax(between))


def _text_ink(lum: np.ndarray, cut: float) -> np.ndarray:
    """The page's ink (darker than Otsu's cut) outside solid dark areas (boxes, scanner bed),
    where the code's dots keep off: on a glyph a dot costs a stroke. `cut`: Otsu's."""
    dark = lum <= cut
    return dark & ~_solid(dark)


def _solid(dark: np.ndarray, k: int = 7) -> np.ndarray:
    """Dark pixels whose whole k×k neighbourhood is dark: not a stroke of text (an erosion,
    done as k shifted ANDs per axis: a fraction of the cost of a summed-area table)."""
    r = k // 2
    rows = np.zeros_like(dark)
    pad = np.pad(dark, ((0, 0), (r, r)))
    rows[:] = pad[:, 0:dark.shape[1]]
    for d in range(1, k):
        rows &= pad[:, d:d + dark.shape[1]]
    out = np.zeros_like(dark)
    pad = np.pad(rows, ((r, r), (0, 0)))
    out[:] = pad[0:dark.shape[0]]
    for d in range(1, k):
        out &= pad[d:d + dark.shape[0]]
    return out


def _ink(rgb: np.ndarray, lum: np.ndarray, cut: float) -> np.ndarray:
    """The page's text ink (RGB rows): the darker half of what is darker than Otsu's threshold
    (stroke cores, not their anti-aliased edges, which a saturation cut can tell apart), and
    not inside a solid dark area (a redaction box, the scanner bed), which would make the
    watermark a different shade from the text. `cut`: Otsu's threshold of `lum`."""
    dark = lum <= cut
    if dark.any():
        dark &= lum <= np.median(lum[dark])
    ink = rgb[dark & ~_solid(dark)]
    return ink if len(ink) >= 50 else np.array([[60, 60, 60]], dtype=np.uint8)


def watermark(img: Image.Image, text: str, *, density: float = DENSITY,
              seq: int | None = None) -> Image.Image:
    """`img` with the label for `text` and the code of its audit record (`seq`, else the number
    the label ends with) inked in the page's own text colour. Returns a new RGB image of the
    same size."""
    rgb = np.array(img.convert("RGB"), dtype=np.uint8)
    lum = rgb.astype(np.float32) @ _LUMA
    cut = _otsu(lum)
    mask = watermark_mask(img.size, text, density=density, seq=seq, text_ink=_text_ink(lum, cut))
    ink = _ink(rgb, lum, cut)
    samples = ink[_rng(text + "\x00ink").integers(0, len(ink), int(mask.sum()))]
    current = rgb[mask]
    darker = samples.astype(np.float32) @ _LUMA < current.astype(np.float32) @ _LUMA
    rgb[mask] = np.where(darker[:, None], samples, current)
    return Image.fromarray(rgb, mode="RGB")


def watermark_score(img: Image.Image, text: str, *, density: float = DENSITY) -> float:
    """How strongly `img` carries the watermark for `text`: the share of dark pixels on the
    label's inked cells minus that on its uninked glyph cells. About 0.5 or more on a served copy
    (also after a colour or luminance threshold that leaves the page text), about 0 for another
    label, even one differing in a single digit of the audit record number."""
    lum = np.asarray(img.convert("RGB"), dtype=np.float32) @ _LUMA
    # Dark against the paper (the median), not Otsu's cut: a threshold attack that whitens the
    # paper or the mid-tones moves Otsu's cut, not what ink looks like next to paper.
    dark = lum < 0.75 * float(np.median(lum))
    glyphs = _glyphs(img.size, text)
    cells = _cells(img.size, text, density)
    on, off = glyphs & cells, glyphs & ~cells
    if not on.any() or not off.any():
        return 0.0
    return float(dark[on].mean() - dark[off].mean())
