"""OCR rules for numbers (IDs, phones, cards) that the page-level detectors read back.

Each case is a line as the product's OCR read it where a number stayed readable before the
rule; each failure names the value. Fast unit tests, no services. (Numeric detectors proper:
tests/test_pii_numeric_ocr.py.)
"""
from __future__ import annotations

import pytest

from indexer.pipeline import find_pii
from tests.pii_ocr_check import META, assert_found, spans


@pytest.mark.parametrize("text, value", [
    ("答:我的手机是一九九五六七三八三O八，家里座机0571-8912 3456", "一九九五六七三八三O八"),
    ("答:我的手机是一五一二一一七O七二O，家", "一五一二一一七O七二O"),
])
def test_letter_o_inside_chinese_numerals_is_a_zero(text: str, value: str) -> None:
    assert_found(text, "phone", value)


def test_mobile_spaced_digit_by_digit_after_a_phone_cue() -> None:
    assert_found("弄30號281室聯繫方式1 3 0 1 2 6 6 6 4 0 1\n問:你", "phone", "1 3 0 1 2 6 6 6 4 0 1")
    # without a cue it is still hidden, by the fail-safe
    text = "成绩 1 3 0 1 2 6 6 6 4 0 1"
    assert spans(text, "number") == ["1 3 0 1 2 6 6 6 4 0 1"], f"digits left readable in {text!r}"


@pytest.mark.parametrize("text, value", [
    ("电话 (+86)18979089716\n父亲", "(+86)18979089716"),
    ("电话（+86）18979089716。", "（+86）18979089716"),
])
def test_bracketed_country_code_goes_with_the_mobile(text: str, value: str) -> None:
    assert_found(text, "phone", value)


@pytest.mark.parametrize("text, value", [
    ("公民身份号码59520102196003080382\n", "520102196003080382"),
])
def test_id_number_with_stray_digits_glued_by_ocr(text: str, value: str) -> None:
    assert_found(text, "id_number", value)


def test_number_with_a_chance_15_digit_id_inside_stays_a_number() -> None:
    text = "原告黎文振，编号4319350141126015出生"
    assert spans(text, "id_number") == [], f"a reference taken for an ID: {spans(text, 'id_number')}"
    assert spans(text, "number") == ["4319350141126015"], "the 16-digit reference left readable"


def test_card_number_is_not_cut_into_an_id() -> None:
    text = "卡号 6222021234567890123"
    assert spans(text, "id_number") == [], f"card digits taken for an ID: {spans(text, 'id_number')}"
    assert [m.kind for m in find_pii(text, META)] in (["bank_card"], ["number"]), "card left readable"


@pytest.mark.parametrize("text, value", [
    ("1941年生退休職工電話136‧1162.9630\n填表人", "136‧1162.9630"),
    ("聯繫方式137。2607. 1689辦公電話(023)2201 3456", "137。2607. 1689"),
    ("手机 138。1234。5678，", "138。1234。5678"),
])
def test_small_dots_ocr_makes_of_a_separator(text: str, value: str) -> None:
    assert_found(text, "phone", value)


def test_sentence_end_between_two_numbers_leaves_both_masked() -> None:
    # 。 is a separator (OCR reads the dot of 138.1234.5678 as 。); where it ends a sentence
    # between two numbers they may be masked as one, never left readable.
    text = "手机86-１3689229267。19710429。座机020-62781984。1966-08-10。"
    found = find_pii(text, META)
    for value in ("１3689229267", "62781984"):
        at = text.index(value)
        assert any(m.start <= at and at + len(value) <= m.end for m in found), f"{value} left readable"


@pytest.mark.parametrize("text, kind, value", [
    # a lone Arabic 0 inside a mobile in Chinese numerals is 〇 (the last 六 stayed readable)
    ("答:我的手機是一三八五七九六六六0六,家里座机", "phone", "一三八五七九六六六0六"),
    # a tilde opening the numerals is OCR's 一 (the first digit stayed readable)
    ("答:我的手機是~八六四七四七0二六七,家典座機", "phone", "~八六四七四七0二六七"),
    ("职工电话199. 3207' 0520\n丈夫", "phone", "199. 3207' 0520"),  # apostrophe: a smudged dot
    ("已故电话486 185 0617 2295\n父亲", "phone", "486 185 0617 2295"),  # +86 with + read as 4
    ("家里座机〈0991) 3542346。\n问", "landline", "〈0991) 3542346"),  # 〈 read for (
    ("18568748243或〈028) 40192056\n签发机关", "landline", "〈028) 40192056"),
])
def test_misread_number_marks(text: str, kind: str, value: str) -> None:
    assert_found(text, kind, value)


def test_letter_d_for_zero_in_numerals_keeps_the_whole_mobile_masked() -> None:
    text = "答:我的手机是一八六六三二五O七三DO，家里座机"
    masked = [m for m in find_pii(text, META) if m.start <= text.index("一八") and m.end >= text.index("，")]
    assert masked, f"mobile 一八六六三二五O七三DO left partly readable: {find_pii(text, META)}"


def test_plus_read_as_four_needs_a_lone_prefix() -> None:
    assert spans("编号1486 13812345678", "phone") == ["13812345678"]


@pytest.mark.parametrize("text, value", [
    ("28栋5单\n公民人人人3生10106200202260165\n", "生10106200202260165"),  # 1 read 生
    ("身份证号码:1101066304286595参加工作时间", "110106630428659"),  # 15 digits + a stray 5
])
def test_id_with_one_misread_or_stray_character(text: str, value: str) -> None:
    assert_found(text, "id_number", value)


@pytest.mark.parametrize("text", [
    "编号甲10106200202260164",  # no digit in 甲's place gives a valid ID: no repair
    "流水号:1101066304286595",  # 15 digits + 1 without an ID label stay a bare number
])
def test_no_id_repair_without_a_unique_valid_reading(text: str) -> None:
    assert spans(text, "id_number") == [], f"not an ID: {spans(text, 'id_number')} in {text!r}"
