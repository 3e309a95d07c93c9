"""Unit tests for the synthetic scan generator used by tests, demo and benchmarks."""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pymupdf
import pytest
import pytesseract
from PIL import Image

from tests.synth import (
    render_page,
    write_image_pdf,
    write_jpeg,
    write_png,
    write_text_pdf,
    write_tiff,
)

pytestmark = pytest.mark.integration  # needs Tesseract

SIMPLIFIED = ["户籍档案查询登记表", "身份证号 110105199001011237", "联系电话 13812345678"]
TRADITIONAL = ["戶籍檔案查詢登記表", "身份證號 110105199001011237", "聯絡電話 13812345678"]


def test_render_page_geometry_and_mode() -> None:
    img = render_page(SIMPLIFIED, dpi=300, width_mm=148)
    assert img.mode == "L"
    assert img.width == round(148 / 25.4 * 300)  # 1748 px
    assert img.height < img.width  # auto height: just the three lines plus margins
    fixed = render_page(SIMPLIFIED, dpi=150, width_mm=148, height_mm=210)
    assert fixed.size == (round(148 / 25.4 * 150), round(210 / 25.4 * 150))
    arr = np.asarray(img)
    assert arr.min() == 0 and arr.max() == 255  # black text on white paper


def test_long_lines_wrap_without_splitting_numbers() -> None:
    one = render_page(["档案"])
    long = render_page(["档案" * 40 + " 110105199001011237"])
    assert long.width == one.width
    assert long.height > one.height


def test_noise_is_deterministic_per_seed() -> None:
    clean = np.asarray(render_page(SIMPLIFIED))
    a = np.asarray(render_page(SIMPLIFIED, noise=0.02, seed=7))
    b = np.asarray(render_page(SIMPLIFIED, noise=0.02, seed=7))
    c = np.asarray(render_page(SIMPLIFIED, noise=0.02, seed=8))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, clean)
    assert not np.array_equal(a, c)
    changed = np.mean(a != clean)
    assert 0.005 < changed < 0.03  # roughly the requested fraction


def test_write_text_pdf_round_trips_chinese(tmp_path: Path) -> None:
    path = tmp_path / "born_digital.pdf"
    write_text_pdf([SIMPLIFIED, TRADITIONAL], path)
    with pymupdf.open(path) as doc:
        assert doc.page_count == 2
        text = doc[0].get_text()
        assert SIMPLIFIED[0] in text
        assert SIMPLIFIED[1] in text
        assert TRADITIONAL[0] in doc[1].get_text()


def test_write_image_pdf_has_no_text_layer(tmp_path: Path) -> None:
    pages = [render_page(SIMPLIFIED), render_page(TRADITIONAL, traditional=True)]
    path = tmp_path / "scan.pdf"
    write_image_pdf(pages, path, dpi=300)
    with pymupdf.open(path) as doc:
        assert doc.page_count == 2
        page = doc[0]
        assert page.get_text().strip() == ""
        assert len(page.get_images()) == 1
        assert page.rect.width == pytest.approx(pages[0].width / 300 * 72)


def test_write_tiff_is_multipage(tmp_path: Path) -> None:
    pages = [render_page([f"第{i}页"]) for i in range(1, 4)]
    path = tmp_path / "scan.tiff"
    write_tiff(pages, path)
    with Image.open(path) as tif:
        assert tif.n_frames == 3
        assert tuple(round(v) for v in tif.info["dpi"]) == (300, 300)


def test_write_png_and_jpeg(tmp_path: Path) -> None:
    page = render_page(SIMPLIFIED)
    write_png(page, tmp_path / "p.png")
    write_jpeg(page, tmp_path / "p.jpg", quality=85)
    with Image.open(tmp_path / "p.png") as png, Image.open(tmp_path / "p.jpg") as jpg:
        assert png.size == jpg.size == page.size
        assert jpg.format == "JPEG"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize(
    ("lines", "traditional", "lang"),
    [(SIMPLIFIED, False, "chi_sim"), (TRADITIONAL, True, "chi_tra")],
    ids=["chi_sim", "chi_tra"],
)
def test_clean_page_ocr_sanity(monkeypatch: pytest.MonkeyPatch, lines: list[str],
                               traditional: bool, lang: str) -> None:
    monkeypatch.setenv("OMP_THREAD_LIMIT", "1")
    img = render_page(lines, dpi=300, traditional=traditional)
    start = time.perf_counter()
    raw = pytesseract.image_to_string(img, lang=lang)
    elapsed = time.perf_counter() - start
    print(f"tesseract {lang} ({elapsed:.2f}s) read: {raw!r}")
    text = _compact(raw)
    assert "110105199001011237" in text
    assert "13812345678" in text
    title = lines[0]
    hits = sum(ch in text for ch in title)
    assert hits >= 6, f"only {hits}/9 title characters of {title!r} recognised"
