"""Split an input file into pages: PDF text layer where it is real text, else a rendered image.

The type is decided from the file's bytes, not its name, so a JPEG called .pdf is read as a
JPEG and a text file called .png is refused with a reason.
"""
from __future__ import annotations

import io
import math
from collections.abc import Iterator
from pathlib import Path

import pymupdf
from PIL import Image, UnidentifiedImageError

from indexer.types import IngestError, PageInput, Word

# A page whose text layer has fewer real characters than this is treated as a scan.
MIN_TEXT_LAYER_CHARS = 20
MAX_PAGES = 5000
VIEW_DPI = 150  # text-layer pages are rendered only to be viewed (redacted), not OCR'd


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


def load_pages(path: str | Path, *, dpi: int = 300, max_pixels: int = 80_000_000) -> Iterator[PageInput]:
    """Every page of a file, in order, with the same refusals as the ingest path (which loads one
    page per task with load_page)."""
    for page_no in range(1, checked_page_count(path, max_pixels=max_pixels) + 1):
        yield load_page(path, page_no, dpi=dpi, max_pixels=max_pixels)


def _pdf_page(doc: pymupdf.Document, page_no: int, *, dpi: int, max_pixels: int,
              force_render: bool = False) -> PageInput:
    """One PDF page: its text layer (with a view image and word boxes) when the layer is real
    text, else a grayscale rendering at `dpi` for OCR. `force_render` ignores the text layer."""
    try:
        page = doc.load_page(page_no - 1)
        text = page.get_text("text")
        if not force_render and sum(ch.isalnum() for ch in text) >= MIN_TEXT_LAYER_CHARS:
            view, words = _text_layer_view(page, text, dpi=VIEW_DPI)
            return PageInput(page_no=page_no, text_layer=text, view_image=view, words=words)
        scale = dpi / 72
        w, h = page.rect.width * scale, page.rect.height * scale
        if w * h > max_pixels:
            raise IngestError(f"第 {page_no} 页按 {dpi} dpi 渲染为 {int(w)}×{int(h)} 像素，超过上限")
        pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
        return PageInput(page_no=page_no,
                         image=Image.frombytes("L", (pix.width, pix.height), pix.samples))
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(f"PDF 第 {page_no} 页损坏：{exc}") from None


def _text_layer_view(page: pymupdf.Page, text: str, *, dpi: int) -> tuple[Image.Image, list[Word]]:
    """A modest-resolution rendering for viewing, and the text layer's words as boxes in it.

    Each word is located in `text` in reading order so its offsets match what PII detection
    saw; a word that cannot be found keeps start=-1 (and page_image then covers more, not less).
    """
    pix = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csGRAY, alpha=False)
    img = Image.frombytes("L", (pix.width, pix.height), pix.samples)
    scale = dpi / 72
    words, cursor = [], 0
    for x0, y0, x1, y1, word, *_ in page.get_text("words"):
        at = text.find(word, cursor)
        start, end = (at, at + len(word)) if at >= 0 else (-1, -1)
        if at >= 0:
            cursor = end
        left, top = int(x0 * scale), int(y0 * scale)
        words.append(Word(word, left, top, max(1, math.ceil(x1 * scale) - left),
                          max(1, math.ceil(y1 * scale) - top), 100.0, start, end))
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
    Image.MAX_IMAGE_PIXELS = max_pixels
    try:
        img = Image.open(io.BytesIO(opened) if isinstance(opened, bytes) else opened)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise IngestError(f"图像尺寸异常（可能是解压炸弹）：{exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise IngestError(f"图像文件损坏，无法解码：{exc}") from None
    w, h = img.size
    if w * h > max_pixels:
        img.close()
        raise IngestError(f"图像 {w}×{h} 像素超过上限 {max_pixels}（可能是解压炸弹）")
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
        n = getattr(img, "n_frames", 1)
    if n > MAX_PAGES:
        raise IngestError(f"图像页数超过上限 {MAX_PAGES}")
    return n


def load_page(source: PageSource, page_no: int, *, dpi: int = 300,
              max_pixels: int = 80_000_000, force_render: bool = False) -> PageInput:
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
                             force_render=force_render)
    try:
        with _open_image(opened, max_pixels) as img:
            n = getattr(img, "n_frames", 1)
            if not 1 <= page_no <= n:
                raise IngestError(f"第 {page_no} 页不存在（文件共 {n} 页）")
            img.seek(page_no - 1)
            page = img.convert("L")
            page.load()
            return PageInput(page_no=page_no, image=page)
    except IngestError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise IngestError(f"图像尺寸异常（可能是解压炸弹）：{exc}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise IngestError(f"图像文件损坏，无法解码：{exc}") from None
