"""PDFs as archives receive them: scans wrapped in PDF, born-digital pages with a text layer, and
mixed pages — a text layer plus a picture (a photocopied ID card) whose personal data is only in
the pixels, never in the text layer.

Born-digital truths carry boxes in PDF points (Page.dpi = 72): scale them by the rendering's
dpi / 72 to land on any rendering of the page.
"""
from __future__ import annotations

import io
import random
from collections.abc import Sequence

import numpy as np
import pymupdf
from PIL import Image, ImageDraw, ImageFilter

from tests.synth.people import People
from tests.synth.render import _pdf_font, load_cjk_font
from tests.synth.scan import A4_MM, Page, Truth, _layout
from tests.synth.templates import page_text

_PT_MM = 72 / 25.4
# Fixed metadata and no fresh /ID: the same seed gives the same bytes (benchmarks cache by hash).
_META = {"producer": "tests.synth", "creator": "tests.synth", "creationDate": "D:20200101000000",
         "modDate": "D:20200101000000"}


def _bytes(doc: pymupdf.Document) -> bytes:
    doc.set_metadata(_META)
    data = doc.tobytes(garbage=3, deflate=True, no_new_id=True)
    doc.close()
    return data


def scans_pdf(pages: Sequence[Page]) -> bytes:
    """An image-only PDF of scanned pages, each page sized from its scan's dpi."""
    doc = pymupdf.open()
    for p in pages:
        assert p.image is not None, "scans_pdf takes scanned pages"
        w_pt, h_pt = p.image.width / p.dpi * 72, p.image.height / p.dpi * 72
        page = doc.new_page(width=w_pt, height=h_pt)
        buf = io.BytesIO()
        p.image.save(buf, format="PNG", dpi=(p.dpi, p.dpi))
        page.insert_image(page.rect, stream=buf.getvalue())
    return _bytes(doc)


def id_card(g: People, *, dpi: int = 300, traditional: bool = False
            ) -> tuple[Image.Image, list[Truth]]:
    """Front of a resident ID card (85.6 × 54 mm) as a photocopy: gray, slightly blurred; the
    truths' boxes are in the card image's pixels."""
    p = g.person()
    w, h = round(85.6 / 25.4 * dpi), round(54 / 25.4 * dpi)
    img = Image.new("L", (w, h), 228)
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((2, 2, w - 3, h - 3), radius=dpi // 10, outline=90, width=3)
    small = load_cjk_font(round(9 / 72 * dpi), traditional=traditional)
    big = load_cjk_font(round(11 / 72 * dpi), traditional=traditional)
    x0, y, step = round(0.05 * w), round(0.07 * h), round(0.13 * h)
    fields = [("姓名", p.name, "name"), ("性别", f"{p.sex}   民族 汉", None),
              ("出生", f"{p.birth.year} 年 {p.birth.month} 月 {p.birth.day} 日", None)]
    addr = p.address
    fields += [("住址" if i == 0 else "", addr[i:i + 10], "address") for i in range(0, len(addr), 10)]
    truths: list[Truth] = []
    addr_quads = []
    for label, value, kind in fields:
        draw.text((x0, y), label, fill=110, font=small)
        vx = x0 + round(0.16 * w)
        draw.text((vx, y), value, fill=20, font=big)
        if kind:
            l, t, r, b = draw.textbbox((vx, y), value, font=big)
            quad = ((l, t), (r, t), (r, b), (l, b))
            if kind == "address":
                addr_quads.append(quad)
            else:
                truths.append(Truth(kind, value, -1, -1, 0, (quad,)))
        y += step
    truths.append(Truth("address", addr, -1, -1, p.address_detail, tuple(addr_quads)))
    draw.text((x0, round(0.82 * h)), "公民身份号码", fill=110, font=small)
    nx = x0 + round(0.3 * w)
    draw.text((nx, round(0.8 * h)), p.id18, fill=20, font=big)
    l, t, r, b = draw.textbbox((nx, round(0.8 * h)), p.id18, font=big)
    truths.append(Truth("id_number", p.id18, -1, -1, 0, (((l, t), (r, t), (r, b), (l, b)),)))
    draw.rectangle((round(0.72 * w), round(0.1 * h), round(0.95 * w), round(0.7 * h)), fill=170)
    arr = np.asarray(img.filter(ImageFilter.GaussianBlur(dpi / 300)), np.float32)
    arr += np.random.default_rng(len(p.id18) + int(p.id18[-5:-1])).normal(0, 4, arr.shape)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), mode="L"), truths


def text_layer_page(seed: int, *, card: bool = False, traditional: bool | None = None,
                    font_pt: float | None = None, wide: bool = False) -> Page:
    """A born-digital A4 page (text layer), optionally with an embedded ID-card picture;
    `wide`: the wider templates and formats (see templates.page_text)."""
    rng = random.Random(seed)
    traditional = rng.random() < 0.25 if traditional is None else traditional
    font_pt = font_pt or rng.choice([10.5, 11.0, 12.0, 13.0])
    template, doc = page_text(rng, traditional=traditional, min_lines=14 if card else 24, wide=wide)
    font = _pdf_font()
    width, height = A4_MM[0] * _PT_MM, A4_MM[1] * _PT_MM
    margin, step = 22 * _PT_MM, font_pt * 1.7
    text, labels = _layout(doc, lambda s: font.text_length(s, fontsize=font_pt), width - 2 * margin)
    lines = text.split("\n")
    max_lines = int((height * (0.55 if card else 1.0) - 2 * margin) // step)
    if len(lines) > max_lines:
        cut = len("\n".join(lines[:max_lines]))
        for lab in labels:
            if lab.start < cut < lab.end:
                cut = max(0, text.rfind("\n", 0, lab.start))
        text, labels = text[:cut], [lab for lab in labels if lab.end <= cut]
        lines = text.split("\n")
    pdf = pymupdf.open()
    page = pdf.new_page(width=width, height=height)
    page.insert_font(fontname="F0", fontbuffer=font.buffer)
    starts, off = [], 0
    for i, line in enumerate(lines):
        starts.append(off)
        off += len(line) + 1
        page.insert_text((margin, margin + font_pt + i * step), line, fontname="F0", fontsize=font_pt)
    truths = []
    for lab in labels:
        quads = []
        for i, (ls, line) in enumerate(zip(starts, lines)):
            s, e = max(lab.start, ls), min(lab.end, ls + len(line))
            while s < e and line[s - ls].isspace():  # a cell's padding carries no ink
                s += 1
            while e > s and line[e - 1 - ls].isspace():
                e -= 1
            if s < e:
                base = margin + font_pt + i * step
                l = margin + font.text_length(line[:s - ls], fontsize=font_pt)
                r = l + font.text_length(line[s - ls:e - ls], fontsize=font_pt)
                t, b = base - font.ascender * font_pt, base - font.descender * font_pt
                quads.append(((l, t), (r, t), (r, b), (l, b)))
        truths.append(Truth(lab.kind, lab.value, lab.start, lab.end, lab.detail, tuple(quads)))
    if card:
        people = People(rng)
        if wide:
            from tests.synth.wide import WidePeople
            people = WidePeople(rng)
        card_img, card_truths = id_card(people, traditional=traditional)
        top = height * 0.6
        rect = pymupdf.Rect(margin, top, margin + 85.6 * _PT_MM * 1.2, top + 54 * _PT_MM * 1.2)
        buf = io.BytesIO()
        card_img.save(buf, format="PNG")
        page.insert_image(rect, stream=buf.getvalue())
        k = rect.width / card_img.width
        for t in card_truths:
            truths.append(Truth(t.kind, t.value, -1, -1, t.detail, tuple(
                tuple((rect.x0 + x * k, rect.y0 + y * k) for x, y in q) for q in t.quads)))
    pdf.subset_fonts()
    data = _bytes(pdf)
    return Page(text=text, truths=truths, dpi=72, size=(round(width), round(height)),
                traditional=traditional, template=("mixed:" if card else "text:") + template,
                font_pt=font_pt, pdf=data)
