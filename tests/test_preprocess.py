"""Preprocessing steps on small synthetic scans: the geometry they report is what they did."""
from __future__ import annotations

import numpy as np
import pytest

from indexer.pipeline import PipelineOptions
from indexer.preprocess import STEPS, border_box, estimate_skew, preprocess
from tests.synth import render_page

LINES = ["户籍档案查询登记表常住人口登记表", "干部履历表工作经历考察意见政治立场", "民事判决书本院认为被告应支付"] * 3


@pytest.mark.parametrize("skew", [-2.5, -1.0, 1.5, 3.0])
def test_deskew_finds_the_angle(skew) -> None:
    img = render_page(LINES, width_mm=120, skew_deg=skew)
    assert estimate_skew(img) == pytest.approx(-skew, abs=0.2)


def test_straight_page_is_not_rotated() -> None:
    assert estimate_skew(render_page(LINES, width_mm=120)) == 0.0


def test_border_crop_removes_the_scanner_bed() -> None:
    img = render_page(LINES, width_mm=120, border_px=60, seed=1)
    left, top, right, bottom = border_box(img)
    page = np.asarray(img.crop((left, top, right, bottom)))
    assert left > 0 and top > 0
    assert (page[:, :3] < 60).mean() < 0.5 and (page[:3, :] < 60).mean() < 0.5, "bed left in"


def test_full_preprocess_on_a_degraded_page() -> None:
    img = render_page(LINES, width_mm=120, noise=0.004, blur=0.8, paper=0.6, border_px=60,
                      skew_deg=2.0, yellow=True, seed=2)
    out = preprocess(img)
    assert out.steps == STEPS and out.image.mode == "L" and out.view.size == out.image.size
    assert out.angle == pytest.approx(-2.0, abs=0.2)
    assert out.scale < 1.0  # 12 pt at 300 dpi is larger than Tesseract reads best
    assert np.asarray(out.view).std() > 0 and np.asarray(out.image).min() == 0


def test_unknown_step_is_refused_at_configuration() -> None:
    with pytest.raises(ValueError, match="sharpen"):
        PipelineOptions(preprocess=("deskew", "sharpen"))


def test_fast_threshold_and_mask_are_the_pixels_of_the_plain_numpy_forms() -> None:
    """Speed-ups of otsu_threshold (Pillow's histogram), of the 0/255 masks and of binarise's
    max filter must not move a single pixel: compared with np.bincount / np.where / Pillow's
    MaxFilter on a degraded page, as uint8 and as the float32 a binarised page is computed in."""
    from PIL import Image, ImageFilter

    from indexer.preprocess import _max5, _white_where, gray_histogram, otsu_threshold

    img = render_page(LINES, width_mm=120, noise=0.004, blur=0.8, paper=0.6, seed=3)
    for arr in (np.asarray(img), np.asarray(img, dtype=np.float32) * 0.97 + 3.5):
        want = np.bincount(arr.astype(np.uint8).ravel(), minlength=256)
        assert np.array_equal(gray_histogram(arr), want), f"histogram of {arr.dtype} differs"
        mask = arr <= otsu_threshold(arr)
        assert np.array_equal(_white_where(mask), np.where(mask, 255, 0).astype(np.uint8))
    assert gray_histogram(np.arange(256, dtype=np.uint8)[::2]).sum() == 128  # 1-D, strided
    assert not gray_histogram(np.zeros((0, 5), dtype=np.float32)).any()  # like bincount: empty
    for small in (img.reduce(8), Image.fromarray(np.random.default_rng(5).integers(
            0, 256, (3, 7), dtype=np.uint8))):  # the background estimate's max filter, edges too
        assert _max5(small).tobytes() == small.filter(ImageFilter.MaxFilter(5)).tobytes()


@pytest.mark.integration
def test_tesseract_reads_the_pnm_input_as_it_read_pytesseract_png() -> None:
    """ocr_image hands Tesseract the page's pixels (in process, or an uncompressed PGM for the
    command) instead of pytesseract's temporary PNG: the words, boxes and confidences must be
    the same."""
    import pytesseract

    from indexer.ocr import ocr_image

    page = preprocess(render_page(LINES[:3], width_mm=120, noise=0.002, seed=4)).image
    ours = ocr_image(page, langs="chi_sim")
    png = pytesseract.image_to_data(page, lang="chi_sim", config="--psm 6",
                                    output_type=pytesseract.Output.DICT)
    words = [(t.strip(), png["left"][i], png["top"][i], png["width"][i], png["height"][i],
              float(png["conf"][i])) for i, t in enumerate(png["text"])
             if png["level"][i] == 5 and t.strip() and float(png["conf"][i]) >= 0]
    assert [(w.text, w.left, w.top, w.width, w.height, w.conf) for w in ours.words] == words, \
        "Tesseract read the PGM input differently from the PNG one"
    assert ours.words, "nothing read: the comparison proves nothing"


def test_stored_page_png_stays_small_for_a_clean_page_and_lossless() -> None:
    """The stored redacted image of a clean page (a text-layer render) must not balloon: with
    zlib's Huffman-only strategy a white A4 page took ~0.5 MB (RGB 1.5 MB, 60x the default),
    which filled the blob store in the full-store fault test. Lossless either way."""
    import io

    from PIL import Image, ImageDraw

    from search_app.ingest.keep import page_png

    page = Image.new("RGB", (1654, 2339), "white")
    draw = ImageDraw.Draw(page)
    for y in range(200, 1200, 40):
        draw.rectangle([150, y, 1400, y + 20], fill="black")
    png = page_png(page)
    assert len(png) < 100_000, f"a clean A4 page is stored as {len(png)} bytes of PNG"
    assert Image.open(io.BytesIO(png)).convert("RGB").tobytes() == page.tobytes(), "not lossless"
