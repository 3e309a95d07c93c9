"""Issue 8 regressions: number formats that reached the index in plaintext, replayed through
indexer.pipeline.find_pii + redact exactly as ingest runs them. Each failure names the value
that leaked and the redacted text it leaked into."""
from __future__ import annotations

import re
import unicodedata

import pytest

from indexer.digits import CN_DIGITS
from indexer.pipeline import find_pii
from indexer.redact import mask_value, redact
from indexer.types import ArchiveMeta
from tests.test_pii import id18, luhn_complete  # the independent check-digit oracles

META = ArchiveMeta("HJ-2023-0001", "户籍档案", "户籍档案", "海淀分局", 2023, "内部", "a.pdf")
CN = {v: k for k, v in CN_DIGITS.items() if k in "〇一二三四五六七八九"}
FIN = {v: k for k, v in CN_DIGITS.items() if k in "零壹贰叁肆伍陆柒捌玖"}


def visible_digits(text: str) -> str:
    """Every digit a reader sees, Chinese numerals included, separators and noise dropped."""
    out = []
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isdigit():
            out.append(ch)
        elif ch in CN_DIGITS:
            out.append(str(CN_DIGITS[ch]))
    return "".join(out)


def redacted(text: str) -> tuple[str, list]:
    found = find_pii(text, META)
    assert all(a.end <= b.start for a, b in zip(found, found[1:])), f"overlapping spans {found}"
    return redact(text, found), found


def assert_hidden(text: str, value: str, what: str, *, keep: int = 8) -> str:
    """No run of `keep` consecutive digits of value is readable in the redacted text."""
    out, found = redacted(text)
    flat = visible_digits(out)
    leaked = [value[i:i + keep] for i in range(len(value) - keep + 1) if value[i:i + keep] in flat]
    assert not leaked, f"{what} {value} left in plaintext ({leaked[0]}): {out!r} from {found}"
    return out


# --- phones with dashes and dots ----------------------------------------------------------

@pytest.mark.parametrize("written", [
    "139—8765—4321", "139——8765——4321", "139 — 8765 — 4321", "138.1234.5678", "138–1234–5678",
    "138·1234·5678", "138一1234一5678", "138－1234－5678", "138 1234\n5678", "138/1234/5678",
    "138_1234_5678", "138．1234．5678", "138・1234・5678",
])
def test_phone_with_any_separator(written: str) -> None:
    digits = re.sub(r"\D", "", written.replace("一", "-"))
    out = assert_hidden(f"联系电话：{written}，请核实。", digits, f"phone {written!r}", keep=5)
    assert out.startswith("联系电话：") and out.endswith("，请核实。"), out


# --- local landlines without area code ----------------------------------------------------

@pytest.mark.parametrize("cue", ["住宅电话", "电话", "联系电话", "宅电", "办公电话", "住宅電話", "座机"])
@pytest.mark.parametrize("number", ["62751234", "6275 1234", "6275-1234", "8765432"])
def test_local_landline_after_phone_cue(cue: str, number: str) -> None:
    text = f"{cue}：{number}。"
    out, found = redacted(text)
    digits = number.replace(" ", "").replace("-", "")
    assert [m.kind for m in found] == ["landline"], f"landline {number} after {cue}: {found}"
    hidden = visible_digits(out)
    assert len(hidden) <= len(digits) - 5, f"landline {number}: only {hidden!r} hidden in {out!r}"


@pytest.mark.parametrize("written", ["02327798695", "057148782703", "075537407020", "01062751234"])
def test_unseparated_landline(written: str) -> None:
    out, found = redacted(f"电话 0571-89579003 或 {written}")
    assert [m.kind for m in found] == ["landline", "landline"], f"landline {written}: {found}"
    assert_hidden(f"家里座机{written}。", written, "landline", keep=5)


# --- bank cards whatever the BIN ----------------------------------------------------------

@pytest.mark.parametrize("body", ["955880123456789012", "940012345678901", "300012345678901",
                                  "621700123456789012", "88001234567890123"])
def test_luhn_valid_card_any_bin(body: str) -> None:
    card = luhn_complete(body)
    grouped = " ".join(card[i:i + 4] for i in range(0, len(card), 4))
    for written in (card, grouped):
        out, found = redacted(f"工资卡号{written}，开户行")
        assert [m.kind for m in found] == ["bank_card"], f"card {written} not a card: {found}"
        assert card[-1] not in visible_digits(out)[4:], f"card {card}: check digit shown in {out!r}"
        assert_hidden(f"工资卡号{written}，开户行", card, "card", keep=5)


# --- ID numbers split across lines, spaces and hyphens ------------------------------------

ID = id18("11010519900307123")


@pytest.mark.parametrize("split", [
    f"{ID[:14]}\n{ID[14:]}", f"{ID[:6]}\n{ID[6:]}", f"{ID[:10]}\r\n{ID[10:]}",
    f"{ID[:6]} {ID[6:14]} {ID[14:]}", f"{ID[:6]}-{ID[6:14]}-{ID[14:]}", f"{ID[:9]} \n{ID[9:]}",
    f"{ID[:14]}\n      {ID[14:]}", f"{ID[:6]} - {ID[6:]}",
])
def test_id_split_across_lines(split: str) -> None:
    out, found = redacted(f"公民身份号码 {split}\n住址")
    assert any(m.kind == "id_number" and m.value == ID for m in found), f"ID {split!r}: {found}"
    assert visible_digits(out) == ID[:6], f"ID {ID} written {split!r} left readable: {out!r}"


# --- Chinese numerals ---------------------------------------------------------------------

@pytest.mark.parametrize("table", [CN, FIN], ids=["numerals", "financial"])
@pytest.mark.parametrize("value", ["13812345678", "13900001111", ID[:17] + "0"])
def test_chinese_numerals(table: dict[int, str], value: str) -> None:
    written = "".join(table[int(d)] for d in value)
    text = f"当事人电话{written}，见附件。"
    out, found = redacted(text)
    assert found and all(text[m.start:m.end] in written for m in found)
    left = [ch for ch in out if ch in CN_DIGITS]
    assert len(left) <= 4, f"{value} written {written} left readable: {out!r}"


def test_chinese_numeral_spans_point_at_the_original_characters() -> None:
    text = "电话一三八 一二三四 五六七八。"
    out, found = redacted(text)
    assert [(m.kind, m.value, text[m.start:m.end]) for m in found] == [
        ("phone", "13812345678", "一三八 一二三四 五六七八")]
    assert out == "电话138****5678。"


@pytest.mark.parametrize("written", ["138一二三四5678", "一三八1234五六七八", "一三八—一二三四—五六七八",
                                     "壹叁捌 壹贰叁肆 伍陆柒捌", "一 三 八 一 二 三 四 五 六 七 八"])
def test_mixed_and_spaced_numerals(written: str) -> None:
    out, found = redacted(f"手机{written}。")
    assert len(visible_digits(out)) <= 7, f"phone 13812345678 written {written} leaked: {out!r}"


def test_zero_written_as_ling_or_circle() -> None:
    for written in ("一三九零零零零一一一一", "一三九〇〇〇〇一一一一", "一三九○○○○一一一一"):
        out, found = redacted(f"手机{written}")
        assert [m.value for m in found] == ["13900001111"], f"phone {written}: {found} {out!r}"


# --- the fail-safe ------------------------------------------------------------------------

@pytest.mark.parametrize("written", [
    "87654321", "8765 4321", "8765—4321", "1234567", "95588012345678901234", "E12345678",
    "七六五四三二一〇", "12345678901", "３４５６７８９０", "3456.7890", "3456·7890",
    "8765O321", "8765l321", "8765\n    4321", "1 3 8 1 2 3 4 5 6 7 8", "8 7 6 5 4 3 2 1",
])
def test_unknown_long_number_is_masked_whole(written: str) -> None:
    value = visible_digits(written)
    out, found = redacted(f"备注 {written} 其他")
    assert visible_digits(out) == "" and "*" in out, \
        f"number {written} left {visible_digits(out)!r}: {out!r}"
    assert {m.kind for m in found} <= {"number", "phone", "landline", "bank_card"}, found
    assert len(value) >= 7


@pytest.mark.parametrize("harmless", [
    "2023年5月12日", "2023-05-12", "2023.05.12", "20230512", "二〇二三年五月十二日", "2023-5-2",
    "1985.09—1989.07", "1990年至2000年", "2019 2020 2021", "档号HJ-2023-0001", "档号：2023-D30-0012",
    "（2023）京0108民初1234号", "(2021)沪01民终12345号", "共3页", "1234567元", "12345678页",
    "2023/05/12", "2023/5/12 2023/6/1",
    "统一社会信用代码91350100M000100Y43", "成绩 85 90 78 92", "2023-05-12 2023-06-01",
])
def test_dates_and_archive_numbers_stay_searchable(harmless: str) -> None:
    text = f"材料 {harmless} 归档"
    out, found = redacted(text)
    assert out == text, f"{harmless!r} is no personal number but was masked: {out!r} ({found})"


def test_unknown_number_next_to_a_date_is_masked_but_the_date_is_not() -> None:
    out, _ = redacted("日期 2023-05-12 87654321 备注")
    assert out == "日期 2023-05-12 ******** 备注", out


def test_phone_next_to_unknown_number_both_hidden() -> None:
    out, found = redacted("13812345678 87654321")
    assert "87654321" not in out and "1234" not in out, f"{out!r} from {found}"


# --- mask policy: no mask lets a look-up recover the number -------------------------------

def test_id_mask_hides_birth_date_and_check_digit() -> None:
    masked = mask_value("id_number", ID)
    assert masked == ID[:6] + "*" * 12, f"ID {ID} masked as {masked}: shows more than the region"
    legacy = "110105491231002"
    assert mask_value("id_number", legacy) == "110105*********"


@pytest.mark.parametrize("kind,value", [
    ("phone", "13812345678"), ("landline", "01062751234"), ("landline", "62751234"),
    ("landline", "6275123"), ("bank_card", luhn_complete("622202123456789012")),
    ("bank_card", luhn_complete("955880123456789")), ("number", "87654321"),
])
def test_every_mask_hides_enough(kind: str, value: str) -> None:
    masked = mask_value(kind, value)
    hidden = masked.count("*")
    assert hidden >= 4, f"{kind} {value} masked as {masked}: {hidden} hidden digits brute-force"
    if kind == "bank_card":
        assert masked[-1] == "*", f"card {value} masked as {masked} keeps its Luhn digit"
