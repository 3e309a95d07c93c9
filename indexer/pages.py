"""Split an input file into pages: PDF text layer where it is real text, else a rendered image.

The type is decided from the file's bytes, not its name, so a JPEG called .pdf is read as a
JPEG and a text file called .png is refused with a reason.
"""
from __future__ import annotations

import io
import math
import struct
from collections.abc import Iterator
from pathlib import Path

import pymupdf
from PIL import Image, UnidentifiedImageError

from indexer.pixel_limits import check_frame, check_pictures, check_render
from indexer.types import Box, EmbeddedImage, IngestError, PageInput, Word

# A page whose text layer has fewer real characters than this is treated as a scan.
MIN_TEXT_LAYER_CHARS = 20
MAX_PAGES = 5000
VIEW_DPI = 150  # text-layer pages are rendered only to be viewed (redacted), not OCR'd
VIEW_MAX_EDGE = 2480  # the served image's long edge (setting VIEW_MAX_EDGE_PX): A4 at 300 dpi
MIN_EMBEDDED_PT = 12  # a picture narrower than this (4 mm) holds no legible line: black it out
# What Pillow raises on a corrupt file besides OSError: a TIFF without dimensions raises
# TypeError while counting its frames, bad tag tables KeyError/IndexError/struct.error (found by
# bench/fuzz_ingest.py). Each means "this file cannot be decoded", never a transient fault.
DECODE_ERRORS = (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError, TypeError,
                 KeyError, IndexError, struct.error, ZeroDivisionError)


def sniff(head: bytes) -> str | None:
    if head.startswith(b"%PDF-") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    return None


def load_pages(path: str | Path, *, dpi: int = 300, max_pixels: int = 80_000_000,
               view_max_edge: int = VIEW_MAX_EDGE) -> Iterator[PageInput]:
    """Every page of a file, in order, with the same refusals as the ingest path (which loads one
    page per task with load_page)."""
    for page_no in range(1, checked_page_count(path, max_pixels=max_pixels) + 1):
        yield load_page(path, page_no, dpi=dpi, max_pixels=max_pixels, view_max_edge=view_max_edge)


def _pdf_page(doc: pymupdf.Document, page_no: int, *, dpi: int, max_pixels: int,
              view_max_edge: int = VIEW_MAX_EDGE, force_render: bool = False) -> PageInput:
    """One PDF page: its text layer (with a view image, word boxes and the pictures on it) when
    the layer is real text, else a grayscale rendering at `dpi` for OCR. `force_render` ignores
    the text layer."""
    try:
        page = doc.load_page(page_no - 1)
        check_pictures(page, page_no, max_pixels)
        text = page.get_text("text")
        if not force_render and sum(ch.isalnum() for ch in text) >= MIN_TEXT_LAYER_CHARS:
            # Rendered only to be viewed: at VIEW_DPI, or less when that exceeds the served size.
            view_dpi = min(VIEW_DPI, view_max_edge * 72 / max(page.rect.width, page.rect.height, 1))
            scale = view_dpi / 72
            check_render(page_no, page.rect.width * scale, page.rect.height * scale, view_dpi,
                          max_pixels, "显示渲染")
            view, words = _text_layer_view(page, text, dpi=view_dpi)
            return PageInput(page_no=page_no, text_layer=text, view_image=view, words=words,
                             embedded=_embedded_images(page, page_no, view_dpi=view_dpi,
                                                       ocr_dpi=dpi, max_pixels=max_pixels))
        scale = dpi / 72
        check_render(page_no, page.rect.width * scale, page.rect.height * scale, dpi, max_pixels)
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        return PageInput(page_no=page_no,
                         image=Image.frombytes("L", (pix.width, pix.height), pix.samples),
                         dpi=_scan_dpi(page))
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(f"PDF 第 {page_no} 页损坏：{exc}") from None


def _scan_dpi(page: pymupdf.Page) -> float | None:
    """The resolution a scanned PDF page was captured at: its largest picture's pixels per inch
    of the page it is drawn on (rendering at 300 dpi adds no detail), None without a picture."""
    best = None
    for info in page.get_image_info():
        r = pymupdf.Rect(info["bbox"])
        if r.width < 1 or r.height < 1 or not info.get("width"):
            continue
        if best is None or r.width * r.height > best[0]:
            best = (r.width * r.height, min(info["width"] / (r.width / 72),
                                            info["height"] / (r.height / 72)))
    return round(best[1], 1) if best else None


def image_dpi(img: Image.Image) -> float | None:
    """The resolution an image file declares (PNG pHYs, JPEG JFIF/EXIF, TIFF), None when it
    declares none (a JFIF 'aspect ratio only' header reads as 1 dpi: not a resolution)."""
    dpi = img.info.get("dpi")
    try:
        value = min(float(dpi[0]), float(dpi[1])) if dpi else None
    except (TypeError, ValueError, IndexError):
        return None
    return round(value, 1) if value and value >= 10 else None


def _embedded_images(page: pymupdf.Page, page_no: int, *, view_dpi: float, ocr_dpi: int,
                     max_pixels: int) -> list[EmbeddedImage]:
    """Every picture drawn on the page (also inside form XObjects), its region rendered at OCR
    resolution: a scanned ID card pasted into a born-digital PDF has no text layer of its own.

    Overlapping pictures are merged so one region is OCR'd once. A region too small to read
    (under MIN_EMBEDDED_PT) or too large to render within `max_pixels` comes without an image,
    and the pipeline blacks it out.
    """
    rects: list[pymupdf.Rect] = []
    for info in page.get_image_info():
        r = pymupdf.Rect(info["bbox"]) & page.rect
        if r.is_empty or r.width < 1 or r.height < 1:
            continue
        for i, other in enumerate(rects):
            if other.intersects(r):
                rects[i] = other | r
                break
        else:
            rects.append(r)
    v, o = view_dpi / 72, ocr_dpi / 72
    out = []
    for r in rects:
        box = Box(math.floor(r.x0 * v), math.floor(r.y0 * v), math.ceil(r.x1 * v),
                  math.ceil(r.y1 * v))
        if min(r.width, r.height) < MIN_EMBEDDED_PT:
            out.append(EmbeddedImage(box, None, 1.0, "图片太小，无法识别"))
        elif r.width * o * r.height * o > max_pixels:
            out.append(EmbeddedImage(box, None, 1.0, f"图片按 {ocr_dpi} dpi 渲染超过像素上限"))
        else:
            pix = page.get_pixmap(dpi=ocr_dpi, clip=r, colorspace=pymupdf.csGRAY, alpha=False)
            img = Image.frombytes("L", (pix.width, pix.height), pix.samples)
            # Region pixels start at the clip's corner as pymupdf rounds it (irect).
            ir = pymupdf.Rect(r.x0 * o, r.y0 * o, r.x1 * o, r.y1 * o).irect
            out.append(EmbeddedImage(Box(math.floor(ir.x0 * v / o), math.floor(ir.y0 * v / o),
                                         math.ceil(ir.x1 * v / o), math.ceil(ir.y1 * v / o)),
                                     img, v / o))
    return out


def _text_layer_view(page: pymupdf.Page, text: str, *, dpi: float) -> tuple[Image.Image, list[Word]]:
    """A modest-resolution rendering for viewing, and the text layer's words as boxes in it.

    Each word is located in `text` in reading order so its offsets match what PII detection
    saw; a word that cannot be found keeps start=-1 (and page_image then covers more, not less).
    Every word carries its text line's box (the union of the line's words), so a masked span is
    boxed at the line's full height.
    """
    scale = dpi / 72
    pix = page.get_pixmap(matrix=pymupdf.Matrix(scale, scale), colorspace=pymupdf.csGRAY,
                          alpha=False)
    img = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    found, cursor = [], 0
    lines: dict[tuple[int, int], Box] = {}
    for x0, y0, x1, y1, word, block, line, *_ in page.get_text("words"):
        at = text.find(word, cursor)
        start, end = (at, at + len(word)) if at >= 0 else (-1, -1)
        if at >= 0:
            cursor = end
        box = Box(int(x0 * scale), int(y0 * scale), max(int(x0 * scale) + 1, math.ceil(x1 * scale)),
                  max(int(y0 * scale) + 1, math.ceil(y1 * scale)))
        lines[(block, line)] = lines[(block, line)].union(box) if (block, line) in lines else box
        found.append((word, box, start, end, (block, line)))
    words = [Word(word, b.left, b.top, b.right - b.left, b.bottom - b.top, 100.0, start, end,
                  line=lines[key]) for word, b, start, end, key in found]
    return img, words


# --- Page-at-a-time access (one Celery task per page reads only its page) -------------------

PageSource = str | Path | bytes


def _read_head(source: PageSource) -> tuple[str, bytes | Path]:
    """The sniffed kind and something pymupdf/PIL can open, with the same refusals as load_pages."""
    if isinstance(source, bytes):
        if not source:
            raise IngestError("文件为空（0 字节）")
        head, opened = source[:2048], source
    else:
        opened = Path(source)
        try:
            if opened.stat().st_size == 0:
                raise IngestError("文件为空（0 字节）")
            with opened.open("rb") as fh:
                head = fh.read(2048)
        except OSError as exc:
            raise IngestError(f"无法读取文件：{exc.strerror}") from None
    kind = sniff(head)
    if kind is None:
        suffix = "" if isinstance(opened, bytes) else opened.suffix
        raise IngestError(f"不支持的文件类型（{suffix or '无扩展名'}）：仅支持 PDF、TIFF、JPEG、PNG")
    return kind, opened


def _open_pdf(opened: bytes | Path) -> pymupdf.Document:
    try:
        if isinstance(opened, bytes):
            doc = pymupdf.open(stream=opened, filetype="pdf")
        else:
            doc = pymupdf.open(opened, filetype="pdf")
    except Exception as exc:
        raise IngestError(f"PDF 文件损坏，无法打开：{exc}") from None
    if doc.needs_pass or doc.is_encrypted:
        doc.close()
        raise IngestError("PDF 已加密（需要密码），请提供未加密的文件")
    if doc.page_count == 0:
        doc.close()
        raise IngestError("PDF 文件损坏或没有页面（读到 0 页）")
    if doc.page_count > MAX_PAGES:
        n = doc.page_count
        doc.close()
        raise IngestError(f"PDF 页数 {n} 超过上限 {MAX_PAGES}")
    return doc


def _open_image(opened: bytes | Path, max_pixels: int) -> Image.Image:
    """Open (header only) and check the first frame's size against `max_pixels` explicitly:
    Pillow's own limit is a process-wide setting (set once at start-up, search_app.create_app)
    and looks at the first frame only."""
    try:
        img = Image.open(io.BytesIO(opened) if isinstance(opened, bytes) else opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise IngestError(f"图像尺寸异常（可能是解压炸弹）：{exc}") from None
    except DECODE_ERRORS as exc:
        raise IngestError(f"图像文件损坏，无法解码：{exc or type(exc).__name__}") from None
    try:
        check_frame(img, 1, max_pixels)
    except IngestError:
        img.close()
        raise
    return img


def checked_page_count(source: PageSource, *, max_pixels: int = 80_000_000) -> int:
    """The page count, or IngestError saying why the file cannot be split into pages.

    It refuses (empty, wrong type, encrypted, corrupt) up front, so a job
    can fail a file before fanning out one task per page.
    """
    kind, opened = _read_head(source)
    if kind == "pdf":
        with _open_pdf(opened) as doc:
            return doc.page_count
    with _open_image(opened, max_pixels) as img:
        try:
            n = getattr(img, "n_frames", 1)  # a TIFF's frames are counted by reading each header
        except DECODE_ERRORS as exc:
            raise IngestError(f"图像文件损坏，无法读取页数：{exc or type(exc).__name__}") from None
    if n > MAX_PAGES:
        raise IngestError(f"图像页数超过上限 {MAX_PAGES}")
    return n


def load_page(source: PageSource, page_no: int, *, dpi: int = 300,
              max_pixels: int = 80_000_000, view_max_edge: int = VIEW_MAX_EDGE,
              force_render: bool = False) -> PageInput:
    """Page `page_no` (1-based) alone, decoded the same way load_pages would.

    `force_render` ignores a PDF text layer and renders the page, for re-OCR of a page whose
    text layer is wrong or garbled.
    """
    kind, opened = _read_head(source)
    if kind == "pdf":
        with _open_pdf(opened) as doc:
            if not 1 <= page_no <= doc.page_count:
                raise IngestError(f"第 {page_no} 页不存在（文件共 {doc.page_count} 页）")
            return _pdf_page(doc, page_no, dpi=dpi, max_pixels=max_pixels,
                             view_max_edge=view_max_edge, force_render=force_render)
    try:
        with _open_image(opened, max_pixels) as img:
            n = getattr(img, "n_frames", 1)
            if not 1 <= page_no <= n:
                raise IngestError(f"第 {page_no} 页不存在（文件共 {n} 页）")
            img.seek(page_no - 1)
            check_frame(img, page_no, max_pixels)
            dpi = image_dpi(img)
            page = img.convert("L")
            page.load()
            return PageInput(page_no=page_no, image=page, dpi=dpi)
    except IngestError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise IngestError(f"图像尺寸异常（可能是解压炸弹）：{exc}") from None
    except DECODE_ERRORS as exc:
        raise IngestError(f"图像文件损坏，无法解码：{exc or type(exc).__name__}") from None
