"""The pure digitisation-QA stages (no Tesseract, no services): carrying a reviewer's edit of the
masked text back onto the unredacted text, the page-count check, resolution from image metadata,
and the cheap "sideways" test that decides whether OSD runs before the first OCR pass."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from indexer.orient import sideways, turn
from indexer.pages import image_dpi
from indexer.pipeline import find_pii
from indexer.qa import count_mismatch, is_blank, low_dpi
from indexer.qa_text import CorrectionRefused, apply_correction, shown_text
from indexer.types import ArchiveMeta
from tests.synth import render_page

META = ArchiveMeta("QA-1", "t", "户籍档案", "u", 2020, "内部", "f", "王建国")
RAW = ("户主姓名王建国 与户主关系 本人\n公民身份号码11010519491231002X 联系电话13800138000\n"
       "往址北京市海淀区中关村大街27号 登记日期二〇一九年")


def _matches(text: str = RAW):
    return find_pii(text, META)


def test_the_shown_text_is_masked_and_maps_back():
    shown, _ = shown_text(RAW, _matches())
    for value in ("王建国", "11010519491231002X", "13800138000", "中关村大街27号"):
        assert value not in shown, f"{value} visible in the reviewer's text"
    assert apply_correction(RAW, _matches(), shown) == RAW, "an unchanged text changed the page"


def test_an_edit_of_visible_text_keeps_every_hidden_value():
    shown, _ = shown_text(RAW, _matches())
    edited = shown.replace("登记日期", "登记曰期").replace("曰期", "日期").replace("本人", "本 人")
    edited = edited.replace("与户主关系", "與戶主關係") + "\n备注 补录"
    out = apply_correction(RAW, _matches(), edited)
    assert "與戶主關係" in out and out.endswith("备注 补录") and "本 人" in out
    for value in ("王建国", "11010519491231002X", "13800138000"):
        assert value in out, f"the correction lost {value}"


@pytest.mark.parametrize("attack", ["change a masked digit", "delete a mask", "insert into a mask",
                                    "type the value over its mask"])
def test_an_edit_touching_a_masked_span_is_refused(attack):
    shown, _ = shown_text(RAW, _matches())
    masked_id = next(w for w in shown.split() if w.startswith("公民身份号码")).removeprefix("公民身份号码")
    edited = {
        "change a masked digit": shown.replace(masked_id, masked_id[:7] + "1" + masked_id[8:]),
        "delete a mask": shown.replace(masked_id, ""),
        "insert into a mask": shown.replace(masked_id, masked_id[:9] + "X" + masked_id[9:]),
        "type the value over its mask": shown.replace(masked_id, "110105194912310021"),
    }[attack]
    with pytest.raises(CorrectionRefused, match="遮蔽"):
        apply_correction(RAW, _matches(), edited)


def test_unmasked_kinds_can_be_corrected():
    shown, _ = shown_text(RAW, _matches(), unmasked={"phone"})
    assert "13800138000" in shown
    out = apply_correction(RAW, _matches(), shown.replace("13800138000", "13800138001"),
                           unmasked={"phone"})
    assert "13800138001" in out and "11010519491231002X" in out


def test_page_count_resolution_and_blank_rules():
    assert count_mismatch(None, 5) == "" and count_mismatch(5, 5) == ""
    assert count_mismatch(4, 5) == "页数不符：著录 4 页，扫描件实有 5 页"
    assert low_dpi(150) and low_dpi(199) and not low_dpi(199.6) and not low_dpi(300)
    assert not low_dpi(None)
    assert is_blank(0.0, 40, 31.0), "paper grain read as junk text made a blank sheet 'written'"
    assert not is_blank(0.0007, 6, 92.0) and not is_blank(0.02, 0, None)


@pytest.mark.parametrize("fmt,dpi", [("PNG", 150), ("PNG", 300), ("TIFF", 200), ("JPEG", 72)])
def test_image_dpi_from_metadata(fmt, dpi):
    buf = io.BytesIO()
    Image.new("L", (200, 100), 255).save(buf, format=fmt, dpi=(dpi, dpi))
    assert image_dpi(Image.open(io.BytesIO(buf.getvalue()))) == pytest.approx(dpi, abs=0.6)
    bare = io.BytesIO()
    Image.new("L", (200, 100), 255).save(bare, format="PNG")
    assert image_dpi(Image.open(io.BytesIO(bare.getvalue()))) is None


def test_sideways_pages_are_told_apart_without_ocr():
    page = render_page(["户口登记表 户别 家庭户 住址 北京市海淀区中关村大街二十七号",
                        "登记事项变更和更正记载 承办人 审核 二〇一九年三月", "与户主关系 本人 民族 汉",
                        "出生地 北京市 籍贯 河北省保定市", "文化程度 大学 婚姻状况 已婚 兵役状况 未服兵役"],
                       dpi=200, width_mm=148, height_mm=120, noise=0.003, paper=0.3, seed=3)
    assert not sideways(page) and not sideways(page.rotate(180))
    assert sideways(page.rotate(90, expand=True)) and sideways(page.rotate(270, expand=True))
    assert turn(page.rotate(90, expand=True), 90).size == page.size
    assert np.array_equal(np.asarray(turn(page.rotate(90, expand=True), 90)), np.asarray(page))


def test_word_boxes_follow_the_corrected_text():
    from indexer.qa_text import realign_words
    from indexer.types import Word

    old = "经办人 壬建华 复核"
    new = "备注 经办人 王建华 复核"
    words = [Word(t, 10 * i, 0, 10, 10, 90.0, old.index(t), old.index(t) + len(t))
             for i, t in enumerate(("经办人", "壬建华", "复核"))]
    moved = realign_words(words, old, new)
    assert [new[w.start:w.end] for w in moved] == ["经办人", "王建华", "复核"]
    assert realign_words([Word("x", 0, 0, 1, 1, 90.0)], old, new)[0].start == -1
