"""Names and addresses on OCR'd form pages, replayed through find_pii + redact as ingest runs
them. The cases are written for these tests (own names, own sentences, own addresses), not
copied from the benchmark corpus; each failure names the value that stayed readable or the
ordinary word that was hidden."""
from __future__ import annotations

import pytest

from indexer import normalise
from indexer.address import admin_prefix_len, find_addresses
from indexer.pii import detect, luhn_ok
from indexer.pipeline import find_pii, prepare
from indexer.redact import mask_value, redact
from indexer.types import ArchiveMeta, PageText

META = ArchiveMeta("NA-1", "档案", "户籍档案", "西湖分局", 2021, "内部", "na.pdf")


def run(text: str) -> tuple[str, list]:
    found = find_pii(text, META)
    assert all(a.end <= b.start for a, b in zip(found, found[1:])), f"overlapping spans {found}"
    return redact(text, found), found


def readable(out: str, value: str) -> list[str]:
    """The parts of value (2+ characters, either script, OCR spaces ignored) still in out."""
    flat = normalise.for_search(out).replace(" ", "")
    target = normalise.for_search(value).replace(" ", "")
    parts = {target} | {target[i:i + 2] for i in range(len(target) - 1)}
    return sorted(p for p in parts if p in flat and not p.isascii())


def spans(text: str, kind: str) -> list[str]:
    return [text[m.start:m.end] for m in find_pii(text, META) if m.kind == kind]


# --- names after labels: exact, garbled, chained, glued, wrapped --------------------------

@pytest.mark.parametrize("text,name", [
    ("申请人蒲晓岚因工作调动迁入。", "蒲晓岚"),
    ("戶主邝立新，男，漢族。", "邝立新"),
    ("证人：阙明远", "阙明远"),
    ("書記員 糜文彬", "糜文彬"),
    ("审 核 人：贲 秀 芝", "贲秀芝"),
    ("家庭成员：蒲晓岚、阙明远、糜文彬。", "糜文彬"),
    # a misread surname (no surname at all) right after a label
    ("原告：趄文彬，男，1970年生", "趄文彬"),
    ("审核人 苠秀芝  填表日期 2019年", "苠秀芝"),
    # a label OCR glued to the name and misread, with no colon or gap
    ("申诘人邝立新身份证号", "邝立新"),
    # two labels in a row: the name follows the last one
    ("受送达人签收 逯春生 2020年3月", "逯春生"),
    ("代理人签章：阙明远 日期", "阙明远"),
    # OCR read the colon as a quote mark
    ("姓名”阙明远”性别 男", "阙明远"),
    # the label wrapped onto the next line of a narrow cell
    ("其\n父邝立新，已退休。", "邝立新"),
    # a report about someone, surname misread
    ("我们对趄文彬同志进行了考察。", "趄文彬"),
    # closed by a date in Chinese numerals
    ("被询问人：苠秀芝二〇二一年三月", "苠秀芝"),
    # whom a witness is asked about
    ("问：你认识趄文彬吗？", "趄文彬"),
])
def test_name_after_label(text: str, name: str) -> None:
    out, found = run(text)
    assert not readable(out, name), f"LEAK: {name} readable as {readable(out, name)} in {out!r} {found}"


@pytest.mark.parametrize("text,name", [
    ("申请人：努尔兰别克 2021年5月", "努尔兰别克"),  # the dot lost
    ("经办人：古丽娜尔'托合提", "古丽娜尔'托合提"),  # the dot read as a quote
    ("调查人：努尔兰-别克、蒲晓岚", "努尔兰-别克"),  # read as a hyphen, in a list
    ("被询问人：托合提，艾山江 性别 男", "托合提，艾山江"),  # read as a comma
    ("原告努尔兰别壳，男，1980年生", "努尔兰别壳"),  # no dot, one character misread
    ("问：你认识努尔兰别克吗？", "努尔兰别克"),
    ("关于古丽娜尔.托合堤同志的考察报告", "古丽娜尔.托合堤"),
])
def test_transliterated_name_after_label(text: str, name: str) -> None:
    out, found = run(text)
    assert not readable(out, name), f"LEAK: {name} readable as {readable(out, name)} in {out!r} {found}"
    start = text.index(name)
    assert any(m.kind == "name" and (m.start, m.end) == (start, start + len(name)) for m in found), \
        f"{name} not masked as one name: {found}"


def test_garbled_label_tail_is_no_name() -> None:
    # 签章 misread as 笠章: the label's tail before the colon is not a person, the name after is.
    text = "承办人笠章:逯春生 登记日期"
    out, found = run(text)
    assert "笠章" in out, f"the misread label 笠章 was masked as a name: {out!r} {found}"
    assert not readable(out, "逯春生"), f"LEAK: 逯春生 in {out!r}"


@pytest.mark.parametrize("text", [
    "原告诉称，被告拒不还款。", "经办人：见附件", "父亲早逝，由祖母抚养。", "证人证言与事实相符。",
    "审判员认为原告的请求成立。", "申请人：同上", "配偶：不详", "被告辩称其未收到款项。",
    "主任指出，要加强管理。", "户口登记表\n户别 家庭户", "对全体党员同志进行教育。",
    "对广大青年同志提出要求。", "联系人：无", "审批人：同意", "问：你认识这个人吗？", "他认识到错误。",
    "该同志政治立场坚定，荣获文明单位称号。", "王府井大街、张家口市的派出所。",
])
def test_prose_after_a_label_is_no_name(text: str) -> None:
    hidden = spans(text, "name")
    assert not hidden, f"ordinary words masked as names in {text!r}: {hidden}"


def test_name_masked_in_every_indexed_field() -> None:
    page = prepare(PageText(1, "户主 邝 立 新，证人：趄文彬。", "ocr"), META)
    for field in (page.display_text, page.search_text, page.jieba_text):
        assert "立新" not in field and "文彬" not in field, f"LEAK: a name in {field!r}"


# --- addresses ----------------------------------------------------------------------------

@pytest.mark.parametrize("text,secret", [
    ("住址：浙江省杭州市西湖区文三\n路478号2幢\n301室", "301"),  # wrapped twice in a cell
    ("住址：西湖区文三路4]8号", "4]8"),  # 1 misread as ]
    ("住址：莫干山路18弄7y)302室", "302"),  # 号 misread as marks between two numbers
    ("住址：文一西路9号5 ]1201室", "1201"),  # 门 misread as a space and a bracket
    ("住址：文一西路9号9本2单元101室", "101"),  # 栋 misread as another character
    ("住址：余杭塘路8号从善苑12幢3单元501室", "501"),  # a compound named with 从
    ("住址：余杭区良渚路2\n16号3幢", "216"),  # a house number wrapped between its digits
])
def test_address_with_ocr_damage(text: str, secret: str) -> None:
    out, found = run(text)
    assert secret not in out, f"LEAK: {secret} of the address readable in {out!r} {found}"


def test_address_stops_before_the_next_line_label() -> None:
    text = "住址：西湖区文三路478号\n联系方式139-0571-2345"
    found = {text[m.start:m.end]: m.kind for m in find_pii(text, META)}
    assert found.get("西湖区文三路478号") == "address", f"address not cut at its end: {found}"


@pytest.mark.parametrize("text,addr", [
    ("住浙江省杭州市拱墅区湖墅南路62号3单元201室。", "浙江省杭州市拱墅区湖墅南路62号3单元201室"),
    ("家住某某村5组21号。", "某某村5组21号"),
    ("住址翠苑小区 7 号楼 1 单元 602 室。", "翠苑小区 7 号楼 1 单元 602 室"),
])
def test_addresses_found(text: str, addr: str) -> None:
    assert [text[m.start:m.end] for m in find_addresses(text)] == [addr]


@pytest.mark.parametrize("text", [
    "籍贯浙江省温州市，出生地安徽省芜湖市。", "杭州市西湖区人民法院(2022)浙0106民初3321号判决。",
    "浙政发〔2019〕7号，第5页。", "沿文三路2公里", "乘文一路5路公交",
])
def test_place_names_without_detail_are_not_addresses(text: str) -> None:
    found = [m for m in find_pii(text, META) if m.kind == "address"]
    assert not found, f"{text!r} masked as an address: {found}"


@pytest.mark.parametrize("value,masked", [
    ("浙江省杭州市西湖区文三路478号2幢301室", "浙江省杭州市西湖区" + "*" * 13),
    ("拱墅区湖墅南路62号", "拱墅区" + "*" * 7),
    ("翠苑小区7号楼", "*" * 7),  # a 小区 is not an administrative level
])
def test_address_mask_keeps_only_admin_levels(value: str, masked: str) -> None:
    assert mask_value("address", value) == masked


def test_admin_prefix_never_covers_the_whole_value() -> None:
    assert admin_prefix_len("浙江省杭州市") == 0


# --- numbers in the forms OCR leaves them -------------------------------------------------

@pytest.mark.parametrize("noisy,value", [
    ("(021)64281937", "02164281937"), ("（0731）8456 2210", "073184562210"),
    ("057 1-88231405", "057188231405"), ("(O25)8443 6120", "02584436120"),
])
def test_bracketed_and_split_landlines(noisy: str, value: str) -> None:
    got = [(m.kind, m.value) for m in detect(f"电话{noisy}。")]
    assert got == [("landline", value)], f"LEAK: landline {noisy} detected as {got}"


@pytest.mark.parametrize("noisy,value", [
    ("一五九@二一四五@六六七八", "15921456678"), ("159#2145#6678", "15921456678"), ("159=2145=6678", "15921456678"),
])
def test_mobile_with_ocr_marks_between_digits(noisy: str, value: str) -> None:
    got = [(m.kind, m.value) for m in detect(f"手机{noisy}，")]
    assert got == [("phone", value)], f"LEAK: mobile {noisy} detected as {got}"


def test_card_number_split_by_ocr_is_found_after_a_card_label_only() -> None:
    number = "6214830192756348001"
    assert luhn_ok(number)
    split = "6214 830 1 927 5 6348 001"
    cued = detect(f"工资卡号 {split}，开户行")
    assert [(m.kind, m.value) for m in cued] == [("bank_card", number)], \
        f"LEAK: the card number split by OCR after 卡号 was not detected: {cued}"
    assert not [m for m in detect(f"成绩 {split} 分") if m.kind == "bank_card"], \
        "a row of short numbers without a card label became a card"


@pytest.mark.parametrize("text,value", [
    ("我的手机是一五九二一四五六六七，", "1592145667"), ("手機：1592145667", "1592145667"),
])
def test_mobile_with_a_digit_lost_after_a_phone_cue(text: str, value: str) -> None:
    got = [(m.kind, m.value) for m in detect(text)]
    assert got == [("phone", value)], f"LEAK: a mobile OCR dropped a digit of, {value}, gave {got}"


def test_ten_digits_without_a_phone_cue_are_no_phone() -> None:
    got = [m.kind for m in detect("工号1592145667")]
    assert "phone" not in got, f"a staff number without a phone cue became a phone: {got}"


@pytest.mark.parametrize("text", ["我的手机是一五九二一四信人五六六七八，", "手机一五九二一四五麦六六七，"])
def test_mobile_in_numerals_with_misread_characters_inside(text: str) -> None:
    out, found = run(text)
    assert "一四" not in out and "六七" not in out, f"LEAK: a mobile in numerals readable in {out!r} {found}"


@pytest.mark.parametrize("text", ["一九八三年五月二十日", "二〇二一年三月一二三四五", "共一二三人四五六"])
def test_numerals_split_by_units_stay_apart(text: str) -> None:
    out, found = run(text)
    assert out == text, f"{text!r} masked as a number: {out!r} {found}"
