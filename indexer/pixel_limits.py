"""Pixel limits checked before anything is decoded or rendered (issue 8, requirement 6).

MAX_IMAGE_PIXELS bounds every render, every TIFF frame and every picture a PDF page draws; each
check reads sizes from headers or dictionaries only, so a bomb is refused before it allocates
or burns CPU. Pillow's own limit (set in search_app.create_app) looks at the first frame only.
"""
from __future__ import annotations

import pymupdf
from PIL import Image

from indexer.types import IngestError


def check_render(page_no: int, w: float, h: float, dpi: float, max_pixels: int,
                 what: str = "渲染") -> None:
    """Refuse a render before it allocates: pymupdf would build the whole pixmap first."""
    if w * h > max_pixels:
        raise IngestError(f"第 {page_no} 页按 {dpi:.0f} dpi {what}为 {int(w)}×{int(h)} 像素，"
                          f"超过上限 {max_pixels} 像素")


def check_frame(img: Image.Image, page_no: int, max_pixels: int) -> None:
    """The current frame's size from its header, before any of its pixels are decoded: each
    TIFF frame has its own, and the second can be a bomb behind a harmless first."""
    w, h = img.size
    if w * h > max_pixels:
        raise IngestError(f"第 {page_no} 页图像 {w}×{h} 像素超过上限 {max_pixels}（可能是解压炸弹）")


def check_pictures(page: pymupdf.Page, page_no: int, max_pixels: int) -> None:
    """Refuse a page drawing a picture larger than `max_pixels` before anything renders it.

    check_render bounds only the output; MuPDF still decodes every picture drawn on
    the page at its own size (subsampling as it goes), so a 64 KB PDF holding a 20000×20000
    Flate picture took 7 s of CPU per render, three renders per page. The sizes come from the
    pictures' dictionaries (inline images too), without decoding them."""
    for info in page.get_image_info():
        w, h = info.get("width") or 0, info.get("height") or 0
        if w * h > max_pixels:
            raise IngestError(f"第 {page_no} 页嵌入的图像 {w}×{h} 像素超过上限 {max_pixels}"
                              "（可能是解压炸弹）")
