"""Unit tests for the name (jieba POS + cues) and address detectors, and their masking."""
from __future__ import annotations

import pytest

from indexer.address import admin_prefix_len, find_addresses
from indexer.names import find_person_names
from indexer.pii import detect
from indexer.pipeline import prepare
from indexer.redact import mask_value
from indexer.types import ArchiveMeta, PageText

META = ArchiveMeta("A-1", "档案", "户籍档案", "海淀分局", 2020, "内部", "a.pdf")


def names(text: str) -> list[str]:
    return [text[m.start:m.end] for m in find_person_names(text)]


def addresses(text: str) -> list[str]:
    return [text[m.start:m.end] for m in find_addresses(text)]


# --- names --------------------------------------------------------------------------------

@pytest.mark.parametrize("text,name", [
    ("户主王建国，男，汉族。", "王建国"),
    ("经办人李明，联系电话见后。", "李明"),
    ("被告陈某某于2021年借款。", "陈某某"),
    ("申请人欧阳娜娜因工作调动迁入本市。", "欧阳娜娜"),
    ("证人孙红梅出庭作证。", "孙红梅"),
    ("于建军同志任科长。", "于建军"),
    ("母亲刘桂英，父亲赵德胜。", "刘桂英"),
    ("经查，武福铁与葛萱力系朋友关系。", "葛萱力"),
])
def test_names_found(text: str, name: str) -> None:
    assert name in names(text), f"{name} not detected in {text!r}: {names(text)}"


def test_ocr_spaced_and_traditional_names() -> None:
    text = "审判长 郑 国 强。戶主張偉，男。"
    found = find_person_names(text)
    assert [m.value for m in found] == ["郑国强", "张伟"]
    assert text[found[0].start:found[0].end] == "郑 国 强"


def test_list_after_cue_is_followed() -> None:
    assert names("本户成员：聂豪凯、齐静、曹仁建。") == ["聂豪凯", "齐静", "曹仁建"]


@pytest.mark.parametrize("text", [
    "该同志政治立场坚定，道德品质良好，荣获文明单位荣誉称号。",
    "高度重视安全生产，马上组织全体党员学习，金额合计三万元。",
    "王府井大街、张家口市、石家庄市、马鞍山市的派出所。",
    "学习毛泽东思想，明白自己肩负的责任。经审查，材料齐全。",
    "家庭关系简单，社会关系清楚。谈话人于2020年到场。",
    "代理人吴律师到庭。于某日在某单位。",
])
def test_words_that_look_like_names_are_not(text: str) -> None:
    assert names(text) == [], f"false names in {text!r}: {names(text)}"


def test_name_masked_in_every_indexed_field() -> None:
    page = prepare(PageText(1, "户主 王 建 国，证人孙红梅。", "ocr"), META)
    for field in (page.display_text, page.search_text, page.jieba_text):
        assert "建国" not in field and "红梅" not in field, f"a name leaked into {field!r}"
    assert "王**" in page.display_text and "孙**" in page.display_text


# --- addresses ----------------------------------------------------------------------------

@pytest.mark.parametrize("text,addr", [
    ("住北京市海淀区中关村大街27号3单元402室。", "北京市海淀区中关村大街27号3单元402室"),
    ("地址：广东省广州市天河区体育西路100号，", "广东省广州市天河区体育西路100号"),
    ("家住某某村3组15号。", "某某村3组15号"),
    ("现居朝阳区建国路88号院2号楼，", "朝阳区建国路88号院2号楼"),
    ("住址阳光小区 3 号楼 2 单元 501 室。", "阳光小区 3 号楼 2 单元 501 室"),
    ("住建国路2 94号。", "建国路2 94号"),
])
def test_addresses_found(text: str, addr: str) -> None:
    assert addresses(text) == [addr]


@pytest.mark.parametrize("text", [
    "籍贯山东省济南市，出生地河北省保定市。",
    "北京市海淀区人民法院(2021)京0108民初1234号判决。",
    "国发〔2020〕12号，第3页，档号2020-户-0012。",
    "迁往广州市天河区，户籍所在地上海市浦东新区。",
])
def test_place_names_without_detail_are_not_addresses(text: str) -> None:
    assert addresses(text) == []


@pytest.mark.parametrize("value,masked", [
    ("北京市海淀区中关村大街27号3单元402室", "北京市海淀区" + "*" * 15),
    ("广东省广州市天河区体育西路100号", "广东省广州市天河区" + "*" * 8),
    ("朝阳区建国路88号院2号楼", "朝阳区" + "*" * 10),
    ("某某村3组15号", "*" * 8),
    ("阳光小区3号楼", "*" * 7),  # a 小区 is not an administrative level
    ("中关村南区3号楼", "*" * 8),  # nor is a long "district" with no city before it
])
def test_address_mask_keeps_only_admin_levels(value: str, masked: str) -> None:
    assert mask_value("address", value) == masked


def test_admin_prefix_never_covers_the_whole_value() -> None:
    assert admin_prefix_len("北京市海淀区") == 0


def test_address_detail_never_reaches_the_index() -> None:
    page = prepare(PageText(1, "住址：北京市海淀区中关村大街 27号3单元402室", "ocr"), META)
    for field in (page.display_text, page.search_text, page.jieba_text):
        assert "中关村大街" not in field and "402" not in field, f"address leaked: {field!r}"
    assert "北京市海淀区" in page.display_text
    assert {m.kind for m in page.pii} == {"address"}


# --- numbers the bench found --------------------------------------------------------------

@pytest.mark.parametrize("noisy,value", [
    ("(010)62751234", "01062751234"), ("（0755）8888 1234", "075588881234"),
    ("075 5-82901551", "075582901551"), ("(O571)4447 3787", "057144473787"),
])
def test_bracketed_and_split_landlines(noisy: str, value: str) -> None:
    assert [(m.kind, m.value, m.start) for m in detect(f"电话{noisy}。")] == [("landline", value, 2)]


def test_wide_gap_and_letter_next_to_space() -> None:
    assert [m.value for m in detect("手机86- 1381234567８，")] == ["13812345678"]
    assert [m.value for m in detect("电话1381O 345678")] == ["13810345678"]


def test_card_number_split_by_ocr_is_found_after_a_card_label_only():
    from indexer.pii import detect, luhn_ok

    number = "6222021339674806659"
    assert luhn_ok(number)
    split = "6222 021 3 396 7 4806 659"
    cued = detect(f"工资卡号 {split}，开户行中国农业银行")
    assert [(m.kind, m.value) for m in cued] == [("bank_card", number)], \
        f"LEAK: a card number split by OCR after 卡号 was not detected: {cued}"
    assert not [m for m in detect(f"成绩 {split} 分") if m.kind == "bank_card"], \
        "a row of short numbers without a card label must not become a card"
