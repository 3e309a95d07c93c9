"""Generate realistic synthetic scans of Chinese archive pages.

Tests, the demo data set and benchmarks need scans that behave like the real
thing (grayscale raster pages, image-only PDFs, multi-page TIFFs, born-digital
PDFs with a text layer) without committing binary files to the repository.
Everything here is rendered on demand from text and is deterministic for a
given seed, so OCR expectations stay reproducible.
"""

from __future__ import annotations

import functools
import io
import os
import re
import subprocess
from collections.abc import Callable, Sequence

import numpy as np
import pymupdf
from PIL import Image, ImageDraw, ImageFilter, ImageFont

StrPath = str | os.PathLike[str]

MARGIN_MM = 15.0
LINE_SPACING = 1.6
MM_PER_INCH = 25.4
PT_PER_INCH = 72.0

# Last resort when fontconfig is missing or only offers a non-CJK substitute.
_FALLBACK_FAMILY = "WenQuanYi Zen Hei"
_KNOWN_FILES = {
    "Noto Sans CJK": "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "Noto Serif CJK": "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    _FALLBACK_FAMILY: "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
}
# ASCII words/numbers stay together when wrapping; CJK may break anywhere.
_TOKEN_RE = re.compile(r"[0-9A-Za-z_.\-/:@]+|\s+|.")


def _fc_match(family: str) -> str | None:
    """Ask fontconfig for ``family``; None unless it really has that family.

    fc-match always answers with *some* font (DejaVu as a substitute), so the
    returned family list is checked rather than trusting the path.
    """
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{file}\n%{family}", family],
            capture_output=True, text=True, timeout=10, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    path, _, families = out.partition("\n")
    if path and os.path.isfile(path) and family.lower() in families.lower():
        return path
    return None


def _candidates(serif: bool, traditional: bool) -> list[tuple[str, str]]:
    """(family to look up, face name to select inside a .ttc), best first."""
    base = "Noto Serif CJK" if serif else "Noto Sans CJK"
    face = f"{base} {'TC' if traditional else 'SC'}"
    return [(face, face), (_FALLBACK_FAMILY, _FALLBACK_FAMILY)]


@functools.lru_cache(maxsize=None)
def _locate(serif: bool, traditional: bool) -> tuple[str, str]:
    """Resolve (font file, face name) once per style; fontconfig is slow-ish."""
    for family, face in _candidates(serif, traditional):
        path = _fc_match(family)
        if path is None:
            known = next((p for k, p in _KNOWN_FILES.items() if family.startswith(k)), None)
            path = known if known and os.path.isfile(known) else None
        if path:
            return path, face
    raise RuntimeError(
        "No CJK font found (looked for Noto CJK and WenQuanYi Zen Hei via fc-match). "
        "Install the Debian package fonts-noto-cjk (or fonts-wqy-zenhei)."
    )


def find_cjk_font(*, serif: bool = False, traditional: bool = False) -> str:
    """Path of a CJK font file (often a .ttc collection; see :func:`load_cjk_font`)."""
    return _locate(serif, traditional)[0]


@functools.lru_cache(maxsize=None)
def _face_index(path: str, face: str) -> int:
    """Index of ``face`` inside a collection: Noto CJK .ttc puts JP at index 0,
    whose glyph shapes differ from the SC/TC forms Tesseract was trained on."""
    for index in range(21):
        try:
            family, _style = ImageFont.truetype(path, 12, index=index).getname()
        except OSError:
            break
        if family == face:
            return index
    return 0


@functools.lru_cache(maxsize=32)
def load_cjk_font(size_px: int, *, serif: bool = False,
                  traditional: bool = False) -> ImageFont.FreeTypeFont:
    """PIL font of the right SC/TC face, cached because .ttc parsing is costly."""
    path, face = _locate(serif, traditional)
    return ImageFont.truetype(path, size_px, index=_face_index(path, face))


def _wrap(line: str, measure: Callable[[str], float], max_w: float) -> list[str]:
    """Greedy wrap: CJK breaks between any characters, ASCII runs (IDs, phone
    numbers) are kept whole so OCR tests can find them on one line."""
    tokens: list[str] = []
    for tok in _TOKEN_RE.findall(line):
        tokens.extend(tok if len(tok) > 1 and measure(tok) > max_w else [tok])
    out: list[str] = []
    cur = ""
    for tok in tokens:
        if cur and measure(cur + tok) > max_w:
            if cur.strip():
                out.append(cur.rstrip())
            cur = "" if tok.isspace() else tok
        else:
            cur += tok
    if cur.strip() or not out:
        out.append(cur.rstrip())
    return out


def render_page(lines: Sequence[str], *, dpi: int = 300, width_mm: float = 148,
                height_mm: float | None = None, font_pt: float = 12,
                serif: bool = False, traditional: bool = False, noise: float = 0.0,
                blur: float = 0.0, skew_deg: float = 0.0, seed: int = 0,
                paper: float = 0.0, border_px: int = 0, yellow: bool = False) -> Image.Image:
    """Render ``lines`` as a grayscale ("L") scan-like page (RGB when ``yellow``).

    Degradations are applied in physical order: aged paper (``paper``: 0..1
    strength of an uneven, darker background; ``yellow``: tinted sheet), the
    sheet lies skewed on the glass with the dark scanner lid showing round it
    (``border_px``, plus the shadow its edge casts), optics blur it, then
    sensor noise / dust speckle lands on top.
    ``height_mm=None`` crops to the text, which keeps OCR tests fast.
    """
    px_per_mm = dpi / MM_PER_INCH
    width = round(width_mm * px_per_mm)
    margin = round(MARGIN_MM * px_per_mm)
    size_px = max(1, round(font_pt / PT_PER_INCH * dpi))
    font = load_cjk_font(size_px, serif=serif, traditional=traditional)
    wrapped = [w for line in lines for w in _wrap(line, font.getlength, width - 2 * margin)]
    step = round(size_px * LINE_SPACING)
    if height_mm is None:
        height = 2 * margin + max(len(wrapped), 1) * step
    else:
        height = round(height_mm * px_per_mm)

    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    top = margin + (step - size_px) // 2
    for i, text in enumerate(wrapped):
        draw.text((margin, top + i * step), text, fill=0, font=font)

    rng = np.random.default_rng(seed)
    if paper > 0:
        img = _aged_paper(img, paper, rng)
    if border_px > 0:
        img = _on_scanner_bed(img, border_px, skew_deg, rng)
    elif skew_deg:
        img = img.rotate(skew_deg, resample=Image.Resampling.BICUBIC,
                         expand=False, fillcolor=255)
    if blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    if noise > 0:
        arr = np.asarray(img, dtype=np.uint8).copy()
        hit = rng.random(arr.shape) < noise
        dark = rng.random(arr.shape) < 0.5
        speckle = np.where(dark, rng.integers(0, 96, arr.shape),
                           rng.integers(176, 256, arr.shape)).astype(np.uint8)
        arr[hit] = speckle[hit]
        img = Image.fromarray(arr, mode="L")
    if yellow:
        img = _tint(img)
    return img


def _smooth_field(shape: tuple[int, int], rng: np.random.Generator, cells: int = 6) -> np.ndarray:
    """Low-frequency 0..1 field (a coarse random grid upsampled bicubically): stains, fading."""
    coarse = (rng.random((cells, cells)) * 255).astype(np.uint8)
    field = Image.fromarray(coarse, mode="L").resize((shape[1], shape[0]), Image.Resampling.BICUBIC)
    return np.asarray(field, dtype=np.float32) / 255.0


def _aged_paper(img: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    """Ink stays dark, the sheet becomes uneven gray: up to 90*strength levels darker in patches,
    plus a gradient across the page as from a lid that did not close flat."""
    arr = np.asarray(img, dtype=np.float32) / 255.0  # 1 = paper, 0 = ink
    h, w = arr.shape
    ramp = np.linspace(0.0, 1.0, w, dtype=np.float32)[None, :] * np.ones((h, 1), np.float32)
    darkening = strength * (60 * _smooth_field(arr.shape, rng) + 30 * ramp)
    paper_level = 255.0 - darkening
    out = arr * paper_level  # ink pixels (0) stay black, paper takes the uneven level
    return Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), mode="L")


def _on_scanner_bed(img: Image.Image, border_px: int, skew_deg: float,
                    rng: np.random.Generator) -> Image.Image:
    """The sheet on a dark scanner bed: uneven dark margins (the page is never centred), the
    skew showing as dark wedges, and a soft shadow along the sheet's edge."""
    bed = 35
    w, h = img.size
    left, top = (int(border_px * f) for f in rng.uniform(0.6, 1.4, 2))
    canvas = Image.new("L", (w + left + border_px // 2, h + top + border_px // 2), bed)
    canvas.paste(img, (left, top))
    arr = np.asarray(canvas, dtype=np.float32)
    # Shadow: inside the sheet, a band of ~border_px/2 darkening towards the top and left edges.
    band = max(border_px // 2, 1)
    ys = np.arange(arr.shape[0], dtype=np.float32)[:, None] - top
    xs = np.arange(arr.shape[1], dtype=np.float32)[None, :] - left
    dist = np.minimum(np.clip(ys, 0, None), np.clip(xs, 0, None))
    shade = np.where(dist < band, 0.55 + 0.45 * (dist / band), 1.0)
    inside = (ys >= 0) & (xs >= 0) & (ys < h) & (xs < w)
    arr = np.where(inside, arr * shade, arr)
    canvas = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L")
    if skew_deg:
        canvas = canvas.rotate(skew_deg, resample=Image.Resampling.BICUBIC, expand=False,
                               fillcolor=bed)
    return canvas


def _tint(img: Image.Image) -> Image.Image:
    """Yellowed paper: blue fades most, so white paper turns cream while black ink stays black."""
    arr = np.asarray(img, dtype=np.float32)
    rgb = np.stack([arr * 0.98, arr * 0.93, arr * 0.78], axis=-1)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), mode="RGB")


def write_image_pdf(pages: Sequence[Image.Image], path: StrPath, *, dpi: int = 300) -> None:
    """Image-only PDF (no text layer) as a scanner produces, forcing the OCR path."""
    doc = pymupdf.open()
    for page_img in pages:
        w_pt = page_img.width / dpi * PT_PER_INCH
        h_pt = page_img.height / dpi * PT_PER_INCH
        page = doc.new_page(width=w_pt, height=h_pt)
        buf = io.BytesIO()
        page_img.save(buf, format="PNG", dpi=(dpi, dpi))
        page.insert_image(page.rect, stream=buf.getvalue())
    doc.save(os.fspath(path), garbage=3, deflate=True)
    doc.close()


@functools.lru_cache(maxsize=1)
def _pdf_font() -> pymupdf.Font:
    """CJK font for text-layer PDFs, chosen because it round-trips get_text().

    Builtin "china-s" silently truncates at the first non-GB2312 character
    (traditional text), and the Noto .ttc embeds unsubsetted (~13 MB) as its
    JP face and extracts spaces as U+00A0. PyMuPDF's builtin Droid Sans
    Fallback ("cjk") subsets and round-trips exactly; WenQuanYi is the backup.
    """
    try:
        return pymupdf.Font("cjk")
    except Exception:  # PyMuPDF built without its CJK font
        return pymupdf.Font(fontfile=_locate(False, False)[0])


def write_text_pdf(pages: Sequence[Sequence[str]], path: StrPath, *,
                   font_pt: float = 12) -> None:
    """Born-digital A5 PDF with a real Chinese text layer (skips OCR in the indexer)."""
    font = _pdf_font()
    margin = MARGIN_MM / MM_PER_INCH * PT_PER_INCH
    step = font_pt * LINE_SPACING
    a5 = pymupdf.paper_rect("a5")
    max_w = a5.width - 2 * margin

    def measure(s: str) -> float:
        return font.text_length(s, fontsize=font_pt)

    doc = pymupdf.open()
    for number, lines in enumerate(pages, start=1):
        page = doc.new_page(width=a5.width, height=a5.height)
        page.insert_font(fontname="F0", fontbuffer=font.buffer)
        y = margin + font_pt
        for line in lines:
            for text in _wrap(line, measure, max_w):
                if y > page.rect.height - margin:
                    raise ValueError(f"page {number}: text does not fit on an A5 page")
                page.insert_text((margin, y), text, fontname="F0", fontsize=font_pt)
                y += step
    doc.subset_fonts()
    doc.save(os.fspath(path), garbage=3, deflate=True)
    doc.close()


def write_tiff(pages: Sequence[Image.Image], path: StrPath, *, dpi: int = 300) -> None:
    """Multi-page TIFF, the other common scanner/archive delivery format."""
    if not pages:
        raise ValueError("write_tiff needs at least one page")
    first, *rest = pages
    first.save(os.fspath(path), format="TIFF", save_all=True, append_images=rest,
               dpi=(dpi, dpi), compression="tiff_lzw")


def write_png(page: Image.Image, path: StrPath, *, dpi: int = 300) -> None:
    """Lossless single page with DPI metadata (OCR uses it for scale)."""
    page.save(os.fspath(path), format="PNG", dpi=(dpi, dpi))


def write_jpeg(page: Image.Image, path: StrPath, *, dpi: int = 300, quality: int = 85) -> None:
    """Lossy single page: JPEG artefacts are what phone/office scans look like."""
    img = page if page.mode in ("L", "RGB") else page.convert("L")
    img.save(os.fspath(path), format="JPEG", dpi=(dpi, dpi), quality=quality)
