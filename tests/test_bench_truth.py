"""The benchmarks' instruments are true: labels carried onto read text land on the value, and
ground-truth boxes mapped into the served (preprocessed) geometry land on its glyphs.

No OCR here: the "read" text is the printed text with the slips OCR makes, and the geometry is
checked on the preprocessed view itself, so these stay fast.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import opencc

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

from image_leak_bench import coverage, readable, served_boxes, _digit_lines  # noqa: E402
from page_truth import carry  # noqa: E402

from indexer.pages import load_page  # noqa: E402
from indexer.pipeline import PipelineOptions  # noqa: E402
from indexer.preprocess import preprocess  # noqa: E402
from tests.synth.corpus import file_bytes, make_entry  # noqa: E402
from tests.synth.scan import Truth  # noqa: E402


def _truth(text: str, kind: str, value: str) -> Truth:
    start = text.index(value)
    return Truth(kind, value, start, start + len(value))


def test_labels_follow_ocr_slips() -> None:
    printed = "户主姓名：张建华  公民身份号码 110105194912310021\n住址 上海市徐汇区漕溪北路88弄3号"
    truths = [_truth(printed, "name", "张建华"), _truth(printed, "id_number", "110105194912310021"),
              _truth(printed, "address", "上海市徐汇区漕溪北路88弄3号")]
    # OCR drops the spaces, reads traditional forms and one digit wrong, adds a stray mark
    read = opencc.OpenCC("s2t").convert(printed.replace("  ", "").replace("1949123", "1949723")
                                        .replace("住址 ", "住址'"))
    golds, lost = carry(truths, printed, read)
    assert not lost
    got = {g.kind: read[g.start:g.end] for g in golds}
    assert got == {"name": "張建華", "id_number": "110105194972310021",
                   "address": "上海市徐匯區漕溪北路88弄3號"}


def test_garbled_values_are_reported_lost() -> None:
    printed = "联系电话 13812345678 备注"
    golds, lost = carry([_truth(printed, "phone", "13812345678")], printed, "联系电话 l3g~~~~~ 备注")
    assert not golds and [t.value for t in lost] == ["13812345678"]


def test_readable_rules() -> None:
    read = "被告 張建華 電話 138—1234—5б78\n住興寧區芳草路295號院"
    lines = _digit_lines(read)
    assert readable(Truth("phone", "一三八一二三四五六七八", 0, 0), read, lines)  # 1 edit away
    assert readable(Truth("name", "张建华", 0, 0), read, lines)
    assert readable(Truth("address", "兴宁区芳草路295号院1号楼", 0, 0, 3), read, lines)
    assert not readable(Truth("id_number", "110105194912310021", 0, 0), read, lines)
    assert not readable(Truth("name", "李四", 0, 0), read, lines)


def test_mapped_boxes_land_on_the_glyphs_of_the_view() -> None:
    entry = make_entry(3, 0, "png")  # a skewed A4 scan
    opts = PipelineOptions()
    page = load_page(file_bytes(entry), 1, dpi=opts.dpi)
    view = preprocess(page.image, steps=opts.preprocess).view
    lum = np.asarray(view, dtype=np.float32)
    dark = lum < np.percentile(lum, 90) - 60
    for t, boxes in served_boxes(entry, view.size, opts):
        for left, top, right, bottom in boxes:
            area = dark[int(top):int(bottom) + 1, int(left):int(right) + 1]
            assert area.mean() > 0.04, f"box of {t.value!r} is off its glyphs"
            # and the ink does not run past the box: a margin round it is mostly paper
            pad = max(3, int((bottom - top) * 0.3))
            ring = dark[int(top) - pad:int(top), int(left):int(right)]
            assert ring.mean() < 0.02, f"glyphs of {t.value!r} run above its box"
    assert coverage(np.zeros((10, 10)), (2, 2, 8, 8)) == 1.0


def test_picture_values_are_found_in_the_appended_text() -> None:
    printed = "户口迁移证\n迁移人姓名 张建华"
    truths = [_truth(printed, "name", "张建华"), Truth("id_number", "110105194912310021", -1, -1),
              Truth("address", "吉林省长春市南关区曹杨路268号", -1, -1, 6)]
    read = printed.replace(" ", "") + "\n姓名 李四\n住址 吉林省长春市南关区曹\n杨路268號\n公民身份号码 11010519491231002l"
    golds, _ = carry(truths, printed, read)
    got = {g.kind: read[g.start:g.end] for g in golds}
    assert got["id_number"] == "11010519491231002l"
    assert got["address"] == "吉林省长春市南关区曹\n杨路268號"
    assert got["name"] == "张建华"
