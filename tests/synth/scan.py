"""Full A4 scans of synthetic pages, with every personal value's glyph box on the scan.

A page is laid out at its dpi and font size, each labelled value's ink box is recorded while the
text is drawn, then the sheet goes through what a scanner and an old file do to it: paper tone
and stains, uneven lighting, sometimes the dark scanner bed round it, skew, optical blur, sensor
noise and dust. The same rotation that skews the sheet is applied to the box corners, so the
boxes stay true on the finished scan.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from tests.synth.render import load_cjk_font
from tests.synth.templates import Doc, Label, page_text

A4_MM = (210.0, 297.0)
Quad = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Truth:
    """A labelled value and where its glyphs are: one quad (4 corners) per printed line part."""

    kind: str
    value: str
    start: int  # span in Page.text; -1 when the value is only in an embedded picture
    end: int
    detail: int = 0
    quads: tuple[Quad, ...] = ()

    @property
    def boxes(self) -> list[tuple[float, float, float, float]]:
        """Axis-aligned (left, top, right, bottom) of each quad, in page pixels."""
        return [(min(x for x, _ in q), min(y for _, y in q), max(x for x, _ in q), max(y for _, y in q))
                for q in self.quads]


@dataclass
class Page:
    """One synthetic page. `image` is None for a born-digital page (see tests.synth.pdf)."""

    text: str
    truths: list[Truth]
    dpi: int
    size: tuple[int, int]  # page pixels at `dpi` (the scan, or the PDF page at `dpi`)
    traditional: bool
    template: str
    image: Image.Image | None = None
    skew: float = 0.0
    font_pt: float = 12.0
    pdf: bytes | None = None  # born-digital pages: the PDF file itself


def _layout(doc: Doc, measure, max_w: float) -> tuple[str, list[Label]]:
    """Wrap long lines to the text width, never inside a value unless the value is longer than
    a line; labels are shifted by the line breaks inserted."""
    text, labels = doc.text, list(doc.labels)
    inside = [False] * (len(text) + 1)
    for lab in labels:
        for i in range(lab.start + 1, lab.end):
            inside[i] = True
    breaks, pos = [], 0
    while pos <= len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        start = pos
        while measure(text[start:end]) > max_w:
            fit = start + 1
            while fit < end and measure(text[start:fit + 1]) <= max_w:
                fit += 1
            cut = fit
            while cut > start + 1 and (inside[cut] or (text[cut - 1].isascii() and text[cut - 1].isalnum()
                                                       and text[cut].isascii() and text[cut].isalnum())):
                cut -= 1
            if cut <= start + 1:
                cut = fit
            breaks.append(cut)
            start = cut
        pos = end + 1
    if not breaks:
        return text, labels
    pieces, prev = [], 0
    for b in breaks:
        pieces.append(text[prev:b])
        prev = b
    pieces.append(text[prev:])
    new_text = "\n".join(pieces)

    def shift(i: int, *, is_end: bool) -> int:
        return i + sum(1 for b in breaks if b < i or (b == i and not is_end))

    return new_text, [Label(l.kind, new_text[shift(l.start, is_end=False):shift(l.end, is_end=True)],
                            shift(l.start, is_end=False), shift(l.end, is_end=True), l.detail)
                      for l in labels]


def _fit(text: str, labels: list[Label], max_lines: int) -> tuple[str, list[Label]]:
    """Drop whole trailing lines that do not fit, and no label is left half printed."""
    lines = text.split("\n")
    if len(lines) <= max_lines:
        return text, labels
    cut = len("\n".join(lines[:max_lines]))
    for lab in labels:
        if lab.start < cut < lab.end:
            cut = max(0, text.rfind("\n", 0, lab.start))
    return text[:cut], [lab for lab in labels if lab.end <= cut]


def _rotate_point(x: float, y: float, cx: float, cy: float, angle: float) -> tuple[float, float]:
    """Where PIL's Image.rotate(angle) (counter-clockwise, about the centre) moves (x, y)."""
    a = math.radians(angle)
    dx, dy = x - cx, y - cy
    return cx + dx * math.cos(a) + dy * math.sin(a), cy - dx * math.sin(a) + dy * math.cos(a)


def draw_page(doc: Doc, *, dpi: int, font_pt: float, serif: bool, ink: int = 0,
              margin_mm: float = 22.0, spacing: float = 1.7
              ) -> tuple[Image.Image, str, list[Label], list[list[tuple[float, float, float, float]]]]:
    """A clean A4 page with `doc` typeset on it; returns the text as printed (after wrapping),
    its labels and, per label, the ink box of each line part."""
    px_mm = dpi / 25.4
    width, height = round(A4_MM[0] * px_mm), round(A4_MM[1] * px_mm)
    margin = round(margin_mm * px_mm)
    size = max(8, round(font_pt / 72 * dpi))
    font = load_cjk_font(size, serif=serif, traditional=doc.traditional)
    text, labels = _layout(doc, font.getlength, width - 2 * margin)
    step = round(size * spacing)
    text, labels = _fit(text, labels, (height - 2 * margin) // step)
    img = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(img)
    line_starts, offset = [], 0
    for line in text.split("\n"):
        line_starts.append(offset)
        offset += len(line) + 1
    lines = text.split("\n")
    for i, line in enumerate(lines):
        draw.text((margin, margin + i * step), line, fill=ink, font=font)
    boxes: list[list[tuple[float, float, float, float]]] = []
    for lab in labels:
        parts = []
        for i, (ls, line) in enumerate(zip(line_starts, lines)):
            s, e = max(lab.start, ls), min(lab.end, ls + len(line))
            while s < e and line[s - ls].isspace():  # a cell's padding carries no ink
                s += 1
            while e > s and line[e - 1 - ls].isspace():
                e -= 1
            if s >= e:
                continue
            x = margin + font.getlength(line[:s - ls])
            parts.append(draw.textbbox((x, margin + i * step), line[s - ls:e - ls], font=font))
        boxes.append(parts)
    return img, text, labels, boxes


def _field(shape: tuple[int, int], rng: np.random.Generator, cells: int) -> np.ndarray:
    coarse = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8), mode="L")
    return np.asarray(coarse.resize((shape[1], shape[0]), Image.Resampling.BICUBIC), np.float32) / 255


def degrade(img: Image.Image, rng: np.random.Generator, *, dpi: int, skew: float,
            bed: bool) -> tuple[Image.Image, tuple[float, float], tuple[float, float]]:
    """Paper, light, bed, skew, blur, noise. Returns the scan, the page's offset on it and the
    rotation centre (for mapping page points onto the scan)."""
    arr = np.asarray(img, np.float32) / 255.0  # 1 paper, 0 ink
    h, w = arr.shape
    paper = rng.uniform(205, 248) - rng.uniform(0, 30) * _field(arr.shape, rng, 5)
    light = 1.0 - rng.uniform(0.0, 0.18) * np.linspace(0, 1, w, dtype=np.float32)[None, :]
    light = light - rng.uniform(0.0, 0.12) * np.linspace(1, 0, h, dtype=np.float32)[:, None]
    ink = rng.uniform(15, 70)
    out = (ink + (paper - ink) * arr) * light
    offset = (0.0, 0.0)
    fill = float(np.median(out[:, :8]))
    if bed:  # the dark lid/bed round a sheet that was not placed squarely
        left, top = (int(rng.uniform(0.02, 0.05) * dpi * 4) for _ in range(2))
        canvas = np.full((h + top + int(0.1 * dpi), w + left + int(0.1 * dpi)), rng.uniform(25, 60),
                         np.float32)
        canvas[top:top + h, left:left + w] = out
        out, offset, fill = canvas, (float(left), float(top)), float(canvas[0, 0])
    scan = Image.fromarray(np.clip(out, 0, 255).astype(np.uint8), mode="L")
    centre = (scan.width / 2, scan.height / 2)
    if skew:
        scan = scan.rotate(skew, resample=Image.Resampling.BICUBIC, fillcolor=int(fill))
    scan = scan.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.1) * dpi / 300))
    arr = np.asarray(scan, np.float32) + rng.normal(0, rng.uniform(2, 7), (scan.height, scan.width))
    dust = rng.random(arr.shape) < rng.uniform(0.0003, 0.002)
    arr[dust] = rng.uniform(0, 90, int(dust.sum()))
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L"), offset, centre


def scanned_page(seed: int, *, dpi: int | None = None, traditional: bool | None = None,
                 kinds: tuple[str, ...] | None = None, wide: bool = False) -> Page:
    """One realistic scanned A4 page, deterministic for `seed` (and `wide`: see page_text)."""
    rng = random.Random(seed)
    dpi = dpi or rng.choice([200, 300])
    traditional = rng.random() < 0.25 if traditional is None else traditional
    font_pt = rng.choice([10.5, 11.0, 12.0, 12.0, 13.0, 13.5])
    skew = round(rng.uniform(-2.0, 2.0), 2)
    template, doc = page_text(rng, traditional=traditional, kinds=kinds, wide=wide)
    img, text, labels, boxes = draw_page(doc, dpi=dpi, font_pt=font_pt, serif=rng.random() < 0.5)
    scan, (ox, oy), (cx, cy) = degrade(img, np.random.default_rng(seed), dpi=dpi, skew=skew,
                                       bed=rng.random() < 0.25)
    truths = []
    for lab, parts in zip(labels, boxes):
        quads = tuple(tuple(_rotate_point(x + ox, y + oy, cx, cy, skew)
                            for x, y in ((l, t), (r, t), (r, b), (l, b))) for l, t, r, b in parts)
        truths.append(Truth(lab.kind, lab.value, lab.start, lab.end, lab.detail, quads))
    return Page(text=text, truths=truths, dpi=dpi, size=scan.size, traditional=traditional,
                template=template, image=scan, skew=skew, font_pt=font_pt)
