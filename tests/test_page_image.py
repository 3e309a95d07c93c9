"""Page image redaction (DESIGN.md rule 8): PII found in the text is blacked out on the image.

Small synthetic pages keep Tesseract fast. The leak tests OCR the redacted image again and name
any PII value that can still be read.
"""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from indexer.normalise import for_search
from indexer.ocr import ocr_image
from indexer.page_image import pii_boxes, redact_image
from indexer.watermark import watermark
from indexer.pages import load_page, load_pages
from indexer.pii import PiiMatch
from indexer.pipeline import PipelineOptions, page_text, prepare
from tests.synth import render_page, write_png, write_text_pdf
from indexer.types import ArchiveMeta, Box, PageInput, Word
from tests.synth.templates import Doc
from tests.test_security_images import black_share, scan, scan_to_served

pytestmark = pytest.mark.integration  # needs Tesseract

# A valid GB 11643 number: the validated path is under test, not the near-miss fallback.
ID, PHONE, NAME = "110105199001011232", "13812345678", "张伟"
LINES = ["户籍档案查询登记表", f"姓名 {NAME} 性别 男", f"身份证号 {ID}", f"联系电话 {PHONE}"]
META = ArchiveMeta("A-9", "登记表", "户籍档案", "海淀分局", 2020, "内部", "a.png",
                   subject_name=NAME)


def _readable(img: Image.Image) -> str:
    return "".join(for_search(ocr_image(img).text).split())


def _assert_no_pii(text: str) -> None:
    digits = "".join(ch for ch in text if ch.isdigit())
    for label, value in (("ID number", ID), ("phone", PHONE)):
        for i in range(len(value) - 5):  # any 6 consecutive digits of the value
            assert value[i:i + 6] not in digits, f"{label} {value} leaked as {value[i:i + 6]!r}"
    for ch in NAME[1:]:
        assert ch not in text, f"name {NAME} leaked: {ch!r} still readable in {text!r}"


@pytest.fixture(scope="module")
def prepared():
    img = render_page(LINES, width_mm=120, noise=0.002, skew_deg=1.0, seed=3)
    text = page_text(PageInput(1, image=img), PipelineOptions())
    return text, prepare(text, META)


def test_ocr_word_offsets_point_into_the_text() -> None:
    text = ocr_image(render_page(LINES[2:], width_mm=120))
    assert text.words
    for w in text.words:
        assert text.text[w.start:w.end] == w.text, f"word {w.text!r} mis-located"


def test_redacted_ocr_page_shows_no_pii(prepared) -> None:
    _, prepared = prepared
    kinds = {m.kind for m in prepared.pii}
    assert {"id_number", "phone", "name"} <= kinds, f"detectors missed PII: {prepared.pii}"
    before = _readable(prepared.view_image)
    assert ID in before and PHONE in before, "the unredacted page should be readable"
    redacted = redact_image(prepared.view_image, prepared.pii_boxes)
    _assert_no_pii(_readable(redacted))
    assert "户籍档案" in _readable(redacted), "redaction blacked out more than the PII"


def test_boxes_cover_the_printed_pii() -> None:
    """Ground truth from the renderer, not from OCR: each value's glyph boxes as printed on a
    skewed, degraded A4 scan, mapped through the pipeline's own crop/deskew/scale, must be black
    on the redacted view. (Checking the boxes against the OCR word boxes they were built from
    would pass even when OCR put the words in the wrong place.)"""
    doc = Doc().line("户籍档案查询登记表").line("姓名 ", ("name", NAME), " 性别 男")
    doc.line("身份证号 ", ("id_number", ID)).line("联系电话 ", ("phone", PHONE))
    scan_img, truths = scan(doc, seed=7, skew=1.2)
    prepared = prepare(page_text(PageInput(1, image=scan_img), PipelineOptions()), META)
    redacted = redact_image(prepared.view_image, prepared.pii_boxes, pad=0).convert("L")
    to_view = scan_to_served(scan_img, prepared.view_image.size)
    thin = [f"{t.kind} {t.value!r} only {share:.1%} black"
            for t in truths if (share := black_share(redacted, t.quads, to_view)) < 0.99]
    assert not thin, "printed PII not covered on the redacted view: " + "; ".join(thin)
    assert black_share(redacted, [((0, 0), (300, 0), (300, 60), (0, 60))], to_view) < 0.5, \
        "the page corner is black: the check would pass on a blacked-out page"


def test_unplaceable_match_blacks_out_the_whole_page() -> None:
    words = [Word("身份证号", 0, 0, 40, 10, 90.0, 0, 4)]
    match = PiiMatch("id_number", 4, 22, ID)  # no word maps to the number
    whole = Box(0, 0, 100, 100)
    assert pii_boxes(words, "身份证号" + ID, [match], fallback=whole) == [whole]


def test_partly_covered_word_is_boxed_whole() -> None:
    words = [Word("电话13812345678号", 10, 5, 200, 20, 90.0, 0, 14)]
    match = PiiMatch("phone", 2, 13, PHONE)
    # plus the margins: a fifth of the line's height above and below; to the sides, with no
    # other word on the line, the empty paper up to two line heights (NEIGHBOUR_REACH)
    assert pii_boxes(words, "电话13812345678号", [match]) == [Box(-30, 1, 250, 29)]


def test_text_layer_pdf_page_gets_view_image_and_boxes(tmp_path) -> None:
    path = tmp_path / "born_digital.pdf"
    write_text_pdf([LINES + ["本页为电子文件"] * 3], path)
    (page,) = list(load_pages(path))
    assert page.text_layer and page.view_image is not None and page.words
    prepared = prepare(page_text(page, PipelineOptions()), META)
    assert prepared.source == "text_layer" and prepared.pii_boxes
    full = Box(0, 0, page.view_image.width, page.view_image.height)
    assert full not in prepared.pii_boxes, "text-layer words were not located; page blacked out"
    redacted = redact_image(prepared.view_image, prepared.pii_boxes)
    _assert_no_pii(_readable(redacted))


def test_watermark_is_visible_everywhere(tmp_path) -> None:
    """Every quarter of the page carries the mark in ink dark enough to survive a binarisation
    at mid-grey (what a copier or a "clean up the scan" filter does); a faint grey mark would
    vanish under it (tests/test_watermark.py sweeps every threshold on a real page)."""
    img = Image.new("L", (600, 800), 255)
    marked = watermark(img, "查阅人 王芳 2024-05-01 10:00")
    assert marked.mode == "RGB" and marked.size == img.size
    arr = np.asarray(marked.convert("L"))
    for name, quarter in (("top left", arr[:400, :300]), ("top right", arr[:400, 300:]),
                          ("bottom left", arr[400:, :300]), ("bottom right", arr[400:, 300:])):
        dark = (quarter < 128).mean()
        assert dark > 0.005, f"{name} quarter: only {dark:.2%} of its pixels keep the watermark " \
                             f"after a threshold at 128"


def test_png_page_round_trip_keeps_boxes_on_view(tmp_path) -> None:
    path = tmp_path / "p.png"
    write_png(render_page(LINES[:2], width_mm=100), path)
    (page,) = list(load_pages(path))
    prepared = prepare(page_text(page, PipelineOptions()), META)
    assert prepared.view_image is not None
    for b in prepared.pii_boxes:
        assert 0 <= b.left < b.right <= prepared.view_image.width
        assert 0 <= b.top < b.bottom <= prepared.view_image.height


# --- Geometry of the boxes (issue 8 requirement 1) ---------------------------------------------

def _line_words(text: str, boxes: list[tuple[int, int, int, int]], line: Box,
                offset: int = 0) -> list[Word]:
    """Words on one line: each character its own 'word' (as Tesseract splits CJK)."""
    return [Word(ch, l, t, r - l, b - t, 90.0, offset + i, offset + i + 1, line=line)
            for i, (ch, (l, t, r, b)) in enumerate(zip(text, boxes))]


def test_span_is_one_rectangle_at_the_lines_full_height() -> None:
    """Finding: a box as tall as a glyph's ink (一 is a thin bar) covered half the line, and each
    glyph had its own box, with gaps between."""
    line = Box(0, 100, 400, 140)
    text = "电话一三八一"
    glyphs = [(0, 102, 30, 138), (40, 102, 70, 138), (80, 118, 110, 122), (150, 104, 180, 136),
              (190, 102, 220, 138), (260, 118, 290, 122)]
    words = _line_words(text, glyphs, line)
    (box,) = pii_boxes(words, text, [PiiMatch("phone", 2, 6, "一三八一")])
    assert (box.top, box.bottom) == (100 - 8, 140 + 8), f"not the line's height plus margin: {box}"
    assert box.left <= 80 - 20 and box.right >= 290 + 20, f"span not covered end to end: {box}"


def test_span_over_two_lines_is_one_rectangle_per_line() -> None:
    first, second = Box(0, 0, 300, 30), Box(0, 40, 300, 70)
    text = "号码1101\n0519"
    words = (_line_words("号码1101", [(i * 30, 2, i * 30 + 25, 28) for i in range(6)], first)
             + _line_words("0519", [(i * 30, 42, i * 30 + 25, 68) for i in range(4)], second, 7))
    boxes = pii_boxes(words, text, [PiiMatch("id_number", 2, 11, "11010519")])
    assert len(boxes) == 2, f"expected one rectangle per line, got {boxes}"
    assert boxes[0].top <= 0 and boxes[0].bottom >= 30 and boxes[1].top <= 40 and boxes[1].bottom >= 70


def test_character_without_a_word_widens_to_the_line_not_less() -> None:
    line = Box(0, 0, 500, 30)
    text = "电话13812345678"
    words = _line_words("电话", [(0, 2, 25, 28), (30, 2, 55, 28)], line)  # the digits lost
    (box,) = pii_boxes(words, text, [PiiMatch("phone", 2, 13, PHONE)],
                       fallback=Box(0, 0, 800, 600))
    assert box.left == 0 and box.right >= 500, f"the whole line should be covered: {box}"


def test_embedded_picture_that_cannot_be_rendered_is_blacked_out(tmp_path) -> None:
    """A picture whose OCR render would exceed MAX_IMAGE_PIXELS (or one too small to read) is
    covered whole, whatever the text layer says."""
    import io

    import pymupdf

    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((50, 60), "本页为电子文件，附身份证复印件如下。" * 2, fontname="china-s", fontsize=11)
    big, tiny = pymupdf.Rect(50, 100, 550, 500), pymupdf.Rect(50, 600, 58, 606)
    card = render_page([f"姓名 {NAME}", f"公民身份号码 {ID}"], width_mm=90)
    buf = io.BytesIO()
    card.save(buf, format="PNG")
    page.insert_image(big, stream=buf.getvalue(), keep_proportion=False)
    page.insert_image(tiny, stream=buf.getvalue(), keep_proportion=False)
    data = doc.tobytes()
    loaded = load_page(data, 1, max_pixels=3_000_000)  # view fits, the 300-dpi picture not
    assert [e.image for e in loaded.embedded] == [None, None], loaded.embedded
    prepared = prepare(page_text(loaded, PipelineOptions(max_pixels=3_000_000)), META)
    black = np.asarray(redact_image(prepared.view_image, prepared.pii_boxes).convert("L")) == 0
    k = prepared.view_image.width / page.rect.width
    for r in (big, tiny):
        area = black[int(r.y0 * k) + 1:int(r.y1 * k) - 1, int(r.x0 * k) + 1:int(r.x1 * k) - 1]
        assert area.mean() == 1.0, f"picture at {r} not blacked out ({area.mean():.1%})"


def test_view_is_fitted_to_the_served_size_with_its_boxes() -> None:
    img = render_page(LINES, width_mm=210, height_mm=100, font_pt=14)  # 2480 px wide
    text = page_text(PageInput(1, image=img), PipelineOptions(view_max_edge=800,
                                                               preprocess=("grayscale",)))
    assert max(text.image.size) == 800
    prepared = prepare(text, META)
    redacted = redact_image(prepared.view_image, prepared.pii_boxes)
    _assert_no_pii(_readable(redacted.resize((redacted.width * 2, redacted.height * 2))))


def test_preprocess_geometry_maps_back_to_the_input() -> None:
    from indexer.preprocess import Preprocessed

    pre = Preprocessed(image=Image.new("L", (10, 10)), view=Image.new("L", (10, 10)), steps=(),
                       angle=2.0, crop=(30, 40, 1030, 1440), scale=0.5, frame=(1000, 1400))
    src = Image.new("L", (1100, 1500), 255)
    src.paste(0, (600, 700, 700, 740))
    page = src.crop(pre.crop).rotate(pre.angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    page = page.resize((500, 700))
    ys, xs = np.nonzero(np.asarray(page) < 128)
    back = pre.to_input(Box(int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1))
    assert back.left <= 600 and back.top <= 700 and back.right >= 700 and back.bottom >= 740, back
    assert back.right - back.left < 120 and back.bottom - back.top < 80, f"too loose: {back}"


def test_span_covers_its_first_glyph_when_ocr_places_it_late() -> None:
    """Finding (realistic scans): Tesseract gave the left part of 黑 in 住黑龙江… to the word
    before, so the address's box started a glyph late and 黑's left strokes stayed visible. The
    true glyphs here are 30 px wide at 40 px pitch; OCR puts the span's boxes 30 px right of them."""
    line = Box(0, 100, 600, 140)
    text = "住址黑龙江省"
    true_left, true_right = 80, 240  # 黑 … 省 as printed
    ocr = [(0, 102, 30, 138), (40, 102, 100, 138)] + [(110 + 40 * i, 102, 140 + 40 * i, 138)
                                                     for i in range(4)]
    words = _line_words(text, ocr, line)
    (box,) = pii_boxes(words, text, [PiiMatch("address", 2, 6, "黑龙江省")])
    assert box.left <= true_left, f"黑's left part ({true_left}..{box.left}) is not covered: {box}"
    assert box.right >= true_right, f"省's right part is not covered: {box}"


def test_embedded_picture_showing_an_id_number_is_blacked_out_whole() -> None:
    """Finding (realistic mixed PDFs): on an ID card pasted into a text-layer page the number and
    name were boxed, but the address (split over the card's two address lines) and the photo
    stayed visible. A picture that shows an ID number is an identity document: all of it goes."""
    from tests.synth.pdf import text_layer_page

    page = text_layer_page(5, card=True, traditional=False)
    loaded = load_page(page.pdf, 1)
    assert loaded.embedded, "the mixed PDF has no embedded picture: this test proves nothing"
    text = page_text(loaded, PipelineOptions())
    card = loaded.embedded[0].box
    f = text.image.width / loaded.view_image.width
    assert any(b.left <= card.left * f + 1 and b.top <= card.top * f + 1 and
               b.right >= card.right * f - 1 and b.bottom >= card.bottom * f - 1
               for b in text.blackout), f"the ID card {card} is not blacked out: {text.blackout}"
