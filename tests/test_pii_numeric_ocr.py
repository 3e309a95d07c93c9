"""Numeric detectors on what OCR makes of phones, IDs and cards, and the fail-safe behind them.

Each case is a line as the product's OCR read it (or as a clerk typed it) where a number stayed
readable, or was masked as the wrong kind or with the wrong boundaries, before the rule; each
failure names the value that leaked or the harmless number masked for nothing. Fast unit tests:
indexer.pipeline.find_pii as ingest runs it, no services.
"""
from __future__ import annotations

import pytest

from indexer.pipeline import find_pii
from indexer.types import ArchiveMeta

META = ArchiveMeta("A-1", "档案", "户籍档案", "海淀分局", 2020, "内部", "a.pdf")


def found(text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start:m.end]) for m in find_pii(text, META)]


def spans(text: str, kind: str) -> list[str]:
    return [value for k, value in found(text) if k == kind]


def assert_found(text: str, kind: str, value: str) -> None:
    got = spans(text, kind)
    assert value in got, f"{kind} {value!r} not masked exactly (got {found(text)}) in {text!r}"


def assert_masked(text: str, value: str) -> None:
    start = text.index(value)
    hidden = set()
    for m in find_pii(text, META):
        hidden.update(range(m.start, m.end))
    readable = "".join(ch for k, ch in enumerate(value, start) if k not in hidden and not ch.isspace())
    assert not readable, f"{value!r} left {readable!r} readable (got {found(text)}) in {text!r}"


# --- clause punctuation between the groups of one number -------------------------------------

@pytest.mark.parametrize("text, kind, value", [
    ("答:我的手机是一五八:九七四七:六〇一二，家里座机", "phone", "一五八:九七四七:六〇一二"),
    ("联系电话：一三八，一二三四，五六七八。", "phone", "一三八，一二三四，五六七八"),
    ("手机 158:9747:6012 住址", "phone", "158:9747:6012"),
    ("手机138：1234：5678，", "phone", "138：1234：5678"),
    ("电话138，1234，5678。", "phone", "138，1234，5678"),
    ("电话138、1234、5678。", "phone", "138、1234、5678"),
    ("电话138；1234；5678。", "phone", "138；1234；5678"),
    ("卡号6222：0212：3456：7890：128，", "bank_card", "6222：0212：3456：7890：128"),
    ("身份证 110105：1990：0307：1239 住", "id_number", "110105：1990：0307：1239"),
])
def test_colon_comma_or_enumeration_mark_inside_one_number(text: str, kind: str, value: str) -> None:
    assert_found(text, kind, value)


def test_two_whole_numbers_in_a_list_stay_two() -> None:
    text = "电话：62751234，13812345678。"
    assert found(text) == [("landline", "62751234"), ("phone", "13812345678")], found(text)


@pytest.mark.parametrize("text", [
    "时间10:30:15", "第3、4、5页", "1990、1991、1992年", "人民币1,234,567,890", "合计123,456,789",
    "比例1:50000", "邮编100080，电话", "2019-05-12，2020-06-01",
])
def test_clause_marks_between_harmless_numbers_mask_nothing(text: str) -> None:
    assert found(text) == [], f"masked for nothing: {found(text)} in {text!r}"


# --- one misread character -------------------------------------------------------------------

@pytest.mark.parametrize("text, value", [
    ("身份證號+20102194812127336。", "+20102194812127336"),  # + for the first 1, was a card
    ("公民身份号码|10105199003071239住", "|10105199003071239"),
    ("身份证号110105199003071]34，", "110105199003071]34"),  # ] for 2
])
def test_id_with_a_stroke_mark_for_one_digit(text: str, value: str) -> None:
    assert_found(text, "id_number", value)
    assert spans(text, "bank_card") == [], f"ID {value!r} masked as a card: {found(text)}"


@pytest.mark.parametrize("text", ["编号+2010219481212733", "(12345678901234567)"])
def test_no_id_from_a_mark_without_a_unique_valid_reading(text: str) -> None:
    assert spans(text, "id_number") == [], f"not an ID: {found(text)} in {text!r}"


@pytest.mark.parametrize("text, value", [
    # OCR lost a digit of 号码 and one of the ID: no ID validates, the run is masked whole
    ("公民身份圭鞠236旨04133308251270", "236旨04133308251270"),
    ("电话1381?345678住", "1381?345678"),
    ("编号123甲4567", "123甲4567"),
])
def test_fail_safe_bridges_one_or_two_misread_characters(text: str, value: str) -> None:
    assert_masked(text, value)


@pytest.mark.parametrize("text", ["2019年12345", "第123期4567", "1990至1995", "3号楼1203室12"])
def test_units_and_range_words_are_not_bridged(text: str) -> None:
    assert found(text) == [], f"masked for nothing: {found(text)} in {text!r}"


# --- label says what the number is -----------------------------------------------------------

def test_card_after_its_label_with_a_misread_check_digit() -> None:
    text = "收坎账号8559948099992817471，约定"  # Luhn fails: one digit misread
    assert_found(text, "bank_card", "8559948099992817471")


def test_long_run_without_card_label_is_no_card() -> None:
    text = "流水号8559948099992817471，约定"
    assert spans(text, "bank_card") == [], found(text)
    assert_masked(text, "8559948099992817471")


def test_card_label_does_not_make_part_of_a_longer_run_a_card() -> None:
    text = "账号85599480999928174715，约定"  # 20 digits: an account, not one 19-digit card
    assert spans(text, "bank_card") == [], found(text)
    assert_masked(text, "85599480999928174715")


def test_mobile_with_one_digit_read_twice_after_a_phone_cue() -> None:
    text = "答:我的手机是一八九一八OD八O五二九，家里座机"  # 〇 read as O and D: twelve digits
    assert_found(text, "phone", "一八九一八OD八O五二九")


# --- the fail-safe: dates positively dates only ----------------------------------------------

@pytest.mark.parametrize("text, value", [
    # an ID with a misread digit in 6-8-4 groups: its birth date is no date of its own
    ("身份证 110105 19900307 1235 住", "110105 19900307 1235"),
    ("公民身份号码110105-19900307-1235", "110105-19900307-1235"),
    ("编号 110105 199003 071234", "110105 199003 071234"),
])
def test_date_between_two_groups_is_the_middle_of_a_number(text: str, value: str) -> None:
    assert_masked(text, value)


@pytest.mark.parametrize("text", [
    "1990年3月7日出生", "出生于一九九〇年三月七日", "1990.03.07", "19900307", "二〇二三年五月十二日",
    "1985.09—1989.07 在校", "学历 1985.09-1989.07-1992.07", "2019-05-12 2020-06-01",
    "档号0123-2019-永久-0045", "0123-2019-永久-0045", "0001-HJ·2023-Y-0012", "0001-2023-D30-0012",
    "案卷 0123-2019-30年-0045", "(2019)京0105民初1234号", "（2019）京01民终12345号",
    "共1234567页", "金额1234567.89元", "人民币12,345,678.00元", "全宗号 123 目录号 4567 案卷号 890",
])
def test_dates_archive_and_case_numbers_amounts_and_pages_stay_searchable(text: str) -> None:
    assert found(text) == [], f"masked for nothing: {found(text)} in {text!r}"


def test_archive_number_shape_needs_its_retention_term() -> None:
    assert_masked("编号1381-2019-1234", "1381-2019-1234")


# --- partial reads of a mobile in Chinese numerals after a phone cue -------------------------

@pytest.mark.parametrize("text, value", [
    # the eleventh digit read as a mark or a character glued after the tenth
    ("答:我的手机是一八七一一一八五一五:，家里座机", "一八七一一一八五一五:"),
    ("答:我的手機是一八一七“三一七九七養家形座機", "一八一七“三一七九七養"),  # “ and 養 for digits
    ("答:我的手機是~九八一六九四四三四,家里座機", "~九八一六九四四三四,"),
    # two digits lost, the rest split by colons: nine digits after the cue are still the mobile
    ("答:我的手机是一五八:九七四七:六〇，家里座机", "一五八:九七四七:六〇"),
    # letter zeros, then a slash before the last two numerals
    ("答:我的手机是一五一三四OO九O/八八，家里座机", "一五一三四OO九O/八八"),
])
def test_mobile_in_numerals_partly_misread_after_a_phone_cue(text: str, value: str) -> None:
    assert_found(text, "phone", value)


@pytest.mark.parametrize("text, value", [
    ("手机 138 1234 5678。", "138 1234 5678"),  # a whole mobile takes nothing after it
    ("住宅电话 62751234。", "62751234"),  # nor does a landline
])
def test_whole_number_after_a_phone_cue_keeps_its_boundaries(text: str, value: str) -> None:
    assert found(text) == [(("phone" if value.startswith("1") else "landline"), value)], found(text)


@pytest.mark.parametrize("text, kind, value", [
    ("电话1381Z345678住", "phone", "1381Z345678"),  # Z for 2
    ("电话13B12345678住", "phone", "13B12345678"),  # B for 8
    ("电话1381D345678住", "phone", "1381D345678"),  # D for 0
    ("身份证110105199g03071239住", "id_number", "110105199g03071239"),  # g for 9
])
def test_more_letter_look_alikes_between_digits(text: str, kind: str, value: str) -> None:
    assert_found(text, kind, value)


@pytest.mark.parametrize("text", ["3B号楼", "5S管理", "编号 B2", "比分 21:19 21:17", "第三/四/五条"])
def test_look_alikes_and_marks_outside_numbers_mask_nothing(text: str) -> None:
    assert found(text) == [], f"masked for nothing: {found(text)} in {text!r}"


# --- the wider generator's formats (redgen): cells, boxes, tables -----------------------------

@pytest.mark.parametrize("text, value", [
    # a table cell wraps the ID onto the next line, indented to the cell's column
    ("1943-11-23  12010119\n" + "\u3000" * 20 + "431123075X\n妻  哈斯", "12010119\n" + "\u3000" * 20 + "431123075X"),
    ("1948年8月4日  13052819480804\n" + "\u3000" * 17 + "370X\n本证", "13052819480804\n" + "\u3000" * 17 + "370X"),
    # spaced into a form's boxes, with the check character one box further
    ("公民身份号码:4 1 1 7 2 3 1 9 9 1 0 6 2 8 8 7 9 6\n文化程度", "4 1 1 7 2 3 1 9 9 1 0 6 2 8 8 7 9 6"),
    ("3 ｜ 夏侯佳冬 ｜ 3 3 0 1 0 6 1 9 3 5 0 8 1 4 0 2 1 X ｜ 6222", "3 3 0 1 0 6 1 9 3 5 0 8 1 4 0 2 1 X"),
    ("4 ｜ 伏妍博 ｜ 32058319940529024× ｜ 6222 6215", "32058319940529024×"),  # × typed for X
])
def test_id_wrapped_in_a_cell_boxed_or_with_a_times_sign(text: str, value: str) -> None:
    assert_found(text, "id_number", value)


def test_cell_wrap_joins_no_card_or_landline() -> None:
    text = "62751234\n" + "\u3000" * 20 + "62759876\n"  # two landlines in one column
    assert spans(text, "bank_card") == [] and spans(text, "landline") == [], found(text)


def test_landline_with_country_code() -> None:
    assert_found("经办人 裴仰平   电话 +86-456-7310393   二〇一五年", "landline", "+86-456-7310393")


def test_mobile_on_the_next_line_is_no_card_tail() -> None:
    text = "溪凰家園2-6-1646  \n17758734776  雙方感情狀況"
    assert_found(text, "phone", "17758734776")
    assert spans(text, "bank_card") == [], found(text)


@pytest.mark.parametrize("text", [
    "代发工资 | -21,010.96 | 58,375.57 | 何罗氏", "代发工资 | -92,449.26 | 840,166.27 | 艾力",
])
def test_amounts_in_a_table_are_no_number(text: str) -> None:
    numeric = [(k, v) for k, v in found(text) if k not in ("name", "address")]
    assert numeric == [], f"amounts masked as {numeric} in {text!r}"


def test_boxed_id_after_a_date_in_the_same_row() -> None:
    text = "1994-04-09  6 5 9 0 0 1 1 9 9 4 0 4 0 9 1 5 3 2\n父"
    assert_found(text, "id_number", "6 5 9 0 0 1 1 9 9 4 0 4 0 9 1 5 3 2")


def test_spaced_digits_without_a_check_digit_are_no_id() -> None:
    text = "成绩 1 3 0 1 2 6 6 6 4 0 1 2 3 4 5 6 7 8"
    assert spans(text, "id_number") == [], found(text)


def test_id_split_by_stray_spaces_found_by_its_check_digit() -> None:
    text = "答:身份证号1 2 0 10 1194301043862，,住"  # boxes read with uneven spaces
    assert_found(text, "id_number", "1 2 0 10 1194301043862")
    assert spans("成绩 6214 830 1 927 5 6348 001 分", "bank_card") == [], "a row of scores became a card"


@pytest.mark.parametrize("text, value", [
    ("5 |魯秀屏|13052819460829749 x | 622202923", "13052819460829749 x"),  # seed 4817, a table cell
    ("公民身份号码 13052819460829749 X", "13052819460829749 X"),
    ("13052819460829749\u3000X 住址", "13052819460829749\u3000X"),
])
def test_id_whose_check_x_ocr_set_off_by_a_space(text: str, value: str) -> None:
    assert_found(text, "id_number", value)


@pytest.mark.parametrize("text", ["编号 13052819460829748 X", "13052819460829749 XY 型号"])
def test_seventeen_digits_and_a_letter_without_a_valid_check_are_no_id(text: str) -> None:
    assert spans(text, "id_number") == [], found(text)
