"""The image path's table fail-safe (indexer.image_tables via indexer.page_image.page_boxes): the
cells under a column header that names personal data are black on the served image whatever
the detectors made of them.

Each test replays a cell that bench/image_leak_bench.py found readable on a served image of the
wide pages (seed 7302: 兵团 addresses and names in table cells that OCR garbled, so no text
detector marked them) and names the value left uncovered. Unit tests: word boxes laid out by hand
(one box per character, as Tesseract splits CJK lines), no OCR.
"""
from __future__ import annotations

from indexer.image_tables import column_cells
from indexer.page_image import page_boxes
from indexer.types import Box, Word
from tests.grid_words import GLYPH, LINE_H, PITCH
from tests.grid_words import grid_words as _words

SIZE = (4000, 1200)


def _uncovered(text: str, value: str, boxes: list[Box]) -> str:
    """Characters of `value` (first occurrence in `text`) that no box covers whole."""
    start = text.index(value)
    out = []
    for i in range(start, start + len(value)):
        if text[i].isspace():
            continue
        row = text.count("\n", 0, i)
        col = i - (text.rfind("\n", 0, i) + 1)
        g = Box(10 + col * PITCH, 20 + row * LINE_H, 10 + col * PITCH + GLYPH, 20 + row * LINE_H + GLYPH)
        if not any(b.left <= g.left and b.top <= g.top and b.right >= g.right and b.bottom >= g.bottom
                   for b in boxes):
            out.append(text[i])
    return "".join(out)


def _boxes(text: str) -> list[Box]:
    return page_boxes(_words(text), text, [], SIZE)


WITNESSES = ("证人名单   （2023）京0105民初1234号\n"
             "序号 │ 姓名 │ 性别 │ 年龄 │ 住址 │ 联系电话 │ 证明事项\n"
             "1 │ 计森 │ 男 │ 45岁 │ 新疆生产建設兵囝第八帅一四三困3连27号 │ 1391234567S │ 借款交付经过\n"
             "2 │ 邵涛 │ 女 │ 33岁 │ 新疆生产建设兵团第一师十团 │ 138l2345678 │ 事发当晚情况\n"
             "提交人 王明   2023年5月1日\n")


def test_garbled_corps_address_in_the_address_column_is_black():
    boxes = _boxes(WITNESSES)
    for value in ("新疆生产建設兵囝第八帅一四三困3连27号", "新疆生产建设兵团第一师十团"):
        assert not _uncovered(WITNESSES, value, boxes), f"address {value} readable in its cell"


def test_name_cells_under_a_name_header_are_black_whatever_they_read():
    boxes = _boxes(WITNESSES)
    for value in ("计森", "邵涛"):
        assert not _uncovered(WITNESSES, value, boxes), f"name {value} readable in its cell"
    # the other columns stay readable: sex, age, what the witness attests
    for word in ("借款交付经过", "事发当晚情况", "45岁"):
        assert _uncovered(WITNESSES, word, boxes) == word, f"{word} blacked, no PII column"


def test_a_rule_lost_by_ocr_still_boxes_every_cell_the_column_may_be():
    # the rule between 性别 and 年龄 lost: five cells where the header has six
    text = ("关系 | 姓名 | 性别 | 民族 | 出生日期 | 公民身份号码\n"
            "户主 | 董解放 | 男 汉 | 1961.02.03 | 65900119610203123X\n")
    boxes = _boxes(text)
    assert not _uncovered(text, "董解放", boxes), "name 董解放 readable after a lost rule"
    assert not _uncovered(text, "65900119610203123X", boxes), "ID 65900119610203123X readable after a lost rule"


def _gapped(rows: list[list[str]]) -> tuple[str, list[Word]]:
    """Rows of cells printed with a wide gap (three glyphs) between cells and nothing in the
    text between them: OCR read no rule and no space."""
    text, words, offset = "", [], 0
    for r, cells in enumerate(rows):
        top, left = 20 + r * LINE_H, 10
        line = "".join(cells)
        box = Box(10, top, 3000, top + GLYPH)
        for k, cell in enumerate(cells):
            for ch in cell:
                words.append(Word(ch, left, top + 2, GLYPH, GLYPH - 4, 90.0, offset, offset + 1, line=box))
                left, offset = left + PITCH, offset + 1
            left += 3 * PITCH
        text += line + "\n"
        offset += 1
    return text, words


def test_cells_split_at_the_page_gap_when_ocr_drops_the_rule():
    text, words = _gapped([["序号", "姓名", "性别", "住址"], ["1", "计森", "男", "兵团第八师一四三团"]])
    spans = {(m.kind, m.value) for m in column_cells(text, words)}
    assert ("name", "计森") in spans, f"name 计森 not boxed in its column: {spans}"
    assert ("address", "兵团第八师一四三团") in spans, f"address 兵团第八师一四三团 not boxed: {spans}"


def test_a_form_line_is_no_header():
    # 姓名  张三  性别  男 alternates labels and values: the next line's first cell is a label
    text = "姓名  张三  性别  男\n住址  北京市海淀区  电话  见附页\n"
    assert not [m for m in column_cells(text) if m.value == "住址"], "label 住址 boxed as a name cell"


def _ruled(lines: list[tuple[str, set[int]]]) -> tuple[str, list[Word]]:
    """Lines as OCR read them, one word per character; the characters at the given columns are
    a ruling line OCR read as something else (1, !, 「, 上, 二, ，): 2 px wide, as tall as a glyph."""
    text, words, offset = "", [], 0
    for r, (line, rules) in enumerate(lines):
        top = 20 + r * LINE_H
        box = Box(10, top, 10 + PITCH * len(line), top + LINE_H)
        for col, ch in enumerate(line):
            if not ch.isspace():
                width = 2 if col in rules else GLYPH
                words.append(Word(ch, 10 + col * PITCH, top + 4, width, GLYPH - 4, 90.0,
                                  offset + col, offset + col + 1, line=box))
        text += line + "\n"
        offset += len(line) + 1
    return text, words


def test_rules_read_as_characters_still_split_the_cells():
    # P7302-008: the witness table as OCR read it; no detector marked 新疆生产建设兵团第一师二二二团
    # 十四连10号 (read 新疆生产建设兵团第-师…-团二四连10导) nor 余海振 (read 祭海振)
    header = "序号，姓名二性别上年龄上住址，联系电话!證明事項"
    row1 = "1 1米松柏|男1 58岁|新疆生产建设兵团第-师…-团二四连10导上(0993)839-7345"
    row2 = "2 ;祭海振|男上26岁|西湖區團結支路20栓12號「0311一6482963上借款交付经过"
    marks = lambda s, chars: {i for i, ch in enumerate(s) if ch in chars}  # noqa: E731
    text, words = _ruled([(header, marks(header, "，二上!")), (row1, {2} | marks(row1, "|上") | {row1.index("男") + 1}),
                          (row2, marks(row2, ";|上「"))])
    boxes = page_boxes(words, text, [], SIZE)
    for value in ("新疆生产建设兵团第-师…-团二四连10导", "祭海振", "米松柏", "西湖區團結支路20栓12號"):
        assert not _uncovered(text, value, boxes), f"{value} readable in its cell"
    assert _uncovered(text, "借款交付经过", boxes) == "借款交付经过", "证明事项 cell blacked"


def test_a_wrapped_number_tail_is_boxed_but_not_the_prose_after_the_table():
    text = ("姓名 │ 与申请人关系 │ 出生日期 │ 身份证号\n"
            "傅邦庚 │ 父 │ 1991.10 │ 23010219\n"
            "9110226732\n"
            "本证有效期至1979年04月，逾期作废。共1页。\n")
    spans = {m.value for m in column_cells(text)}
    assert "9110226732" in spans, "the ID's wrapped tail 9110226732 not boxed"
    assert not any("有效期" in v for v in spans), f"prose after the table boxed: {spans}"
