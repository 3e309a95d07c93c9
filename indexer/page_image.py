"""Page images that may be shown: PII burned out as black boxes, a watermark on every view.

DESIGN.md rule 8. The boxes come from OCR (or text-layer) word boxes, found through each word's
character offsets into the page text, so whatever the PII detectors matched in the text is what
gets blacked out on the image. When in doubt the whole word, or the whole page, is covered.
"""
from __future__ import annotations

import functools
import math
import os
import subprocess
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from indexer.pii import PiiMatch
from indexer.types import Box, Word

WATERMARK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


def pii_boxes(words: Sequence[Word], text: str, matches: Sequence[PiiMatch], *,
              fallback: Box | None = None) -> list[Box]:
    """Boxes of every word overlapping a match's character span, whole words (over-cover).

    A word only counts when its recorded offsets really point at its text in `text`; a match
    that no such word covers gets `fallback` (callers pass the whole page), so a mapping failure
    hides too much instead of too little.
    """
    located = [w for w in words
               if 0 <= w.start < w.end <= len(text) and text[w.start:w.end] == w.text]
    boxes: list[Box] = []
    for m in matches:
        hit = [w for w in located if w.start < m.end and m.start < w.end]
        covered = set()
        for w in hit:
            covered.update(range(max(w.start, m.start), min(w.end, m.end)))
        visible = {i for i in range(m.start, m.end) if not text[i].isspace()}
        if visible - covered and fallback is not None:
            boxes.append(fallback)
            continue
        for w in hit:
            box = Box(w.left, w.top, w.left + w.width, w.top + w.height)
            if box not in boxes:
                boxes.append(box)
    return boxes


def redact_image(img: Image.Image, boxes: Sequence[Box], *, pad: int = 4) -> Image.Image:
    """A new image with solid black boxes burned in (pixels replaced, not an overlay layer)."""
    out = img.convert("RGB") if img.mode not in ("L", "RGB") else img.copy()
    draw = ImageDraw.Draw(out)
    black = 0 if out.mode == "L" else (0, 0, 0)
    for b in boxes:
        draw.rectangle((max(0, b.left - pad), max(0, b.top - pad),
                        min(out.width, b.right + pad) - 1, min(out.height, b.bottom + pad) - 1),
                       fill=black)
    return out


@functools.lru_cache(maxsize=1)
def watermark_font_path() -> str:
    """A CJK font file: fontconfig's answer for a Chinese family, else a fixed list of paths."""
    try:
        out = subprocess.run(["fc-match", "-f", "%{file}", "Noto Sans CJK SC:lang=zh-cn"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
        if out.endswith((".ttc", ".otf", ".ttf")) and os.path.isfile(out) and "CJK" in out:
            return out
    except (OSError, subprocess.SubprocessError):
        pass
    for path in WATERMARK_FONTS:
        if os.path.isfile(path):
            return path
    raise RuntimeError("找不到中文字体，无法添加水印：请安装 fonts-noto-cjk（或 fonts-wqy-zenhei）")


def watermark(img: Image.Image, text: str, *, opacity: int = 70) -> Image.Image:
    """Diagonal text tiled over the whole page, so any crop of a leaked copy still names the
    viewer and the time. Returns a new RGB image."""
    base = img.convert("RGB")
    size = max(16, min(base.size) // 25)
    font = ImageFont.truetype(watermark_font_path(), size)
    tile_w = int(font.getlength(text)) + size * 3
    tile_h = size * 5
    diag = int(math.hypot(*base.size)) + tile_w
    layer = Image.new("L", (diag, diag), 0)
    draw = ImageDraw.Draw(layer)
    for row, y in enumerate(range(0, diag, tile_h)):
        for x in range(-(row % 2) * tile_w // 2, diag, tile_w):
            draw.text((x, y), text, fill=opacity, font=font)
    layer = layer.rotate(30, resample=Image.Resampling.BILINEAR)
    left, top = (diag - base.width) // 2, (diag - base.height) // 2
    alpha = layer.crop((left, top, left + base.width, top + base.height))
    ink = Image.new("RGB", base.size, (200, 30, 30))
    return Image.composite(ink, base, alpha)
