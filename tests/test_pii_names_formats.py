"""Issue 8 regressions for names and addresses, replayed through indexer.pipeline.find_pii +
redact as ingest runs them; each failure names the value that stayed readable."""
from __future__ import annotations

import pytest

from indexer import normalise
from indexer.pipeline import find_pii
from indexer.redact import redact
from indexer.types import ArchiveMeta

META = ArchiveMeta("A-1", "档案", "户籍档案", "海淀分局", 2020, "内部", "a.pdf")


def run(text: str) -> tuple[str, list]:
    found = find_pii(text, META)
    assert all(a.end <= b.start for a, b in zip(found, found[1:])), f"overlapping spans {found}"
    assert all(0 <= m.start < m.end <= len(text) for m in found)
    return redact(text, found), found


def readable(out: str, value: str) -> bool:
    """Whether value can be read in out, in either script, ignoring OCR spaces."""
    flat = normalise.for_search(out).replace(" ", "")
    target = normalise.for_search(value).replace(" ", "")
    return target in flat or target[1:] in flat


# --- names after role cues, garbled or not, in both scripts --------------------------------

# Names jieba does not tag as names on their own (checked: a bare ，葛萱力， is not found), so
# only the cue can find them.
RARE = ["葛萱力", "牛建", "安梓", "文静", "白雪", "钱多"]
CUES = ["户主", "审核人", "经办人", "承办人", "原告", "被告", "申请人", "证人", "书记员", "审判员",
        "民警", "記錄人", "審核人", "經辦人", "申請人"]


@pytest.mark.parametrize("cue", CUES)
@pytest.mark.parametrize("name", RARE)
def test_name_after_exact_cue(cue: str, name: str) -> None:
    out, found = run(f"{cue}：{name}。")
    assert not readable(out, name), f"name {name} after {cue} left in plaintext: {out!r} {found}"


def _garbles(cue: str) -> list[str]:
    """Every one-character substitution of the cue by a character unrelated to it."""
    return [cue[:k] + "亼" + cue[k + 1:] for k in range(len(cue))]


@pytest.mark.parametrize("cue", ["审核人", "经办人", "承办人", "申请人", "书记员", "审判员", "申請人",
                                 "審核人", "法定代表人", "犯罪嫌疑人", "被上诉人"])
def test_name_after_cue_garbled_by_one_character(cue: str) -> None:
    for garbled in _garbles(cue):
        for name in ("葛萱力", "安梓"):
            text = f"材料记载。{garbled}：{name}，"
            out, found = run(text)
            assert not readable(out, name), f"name {name} after {garbled!r} leaked: {out!r} {found}"


@pytest.mark.parametrize("label", ["审核入", "经办亼", "申謂人", "书记贞", "宙棱人", "審枝人", "承辦入"])
def test_name_after_ocr_garbled_labels(label: str) -> None:
    for name in ("葛萱力", "牛建", "張偉"):
        out, found = run(f"{label}：{name}")
        assert not readable(out, name), f"name {name} after label {label} leaked: {out!r} {found}"


@pytest.mark.parametrize("label", ["审核入", "经办亼", "承辦入"])
def test_garbled_label_then_a_space(label: str) -> None:
    out, found = run(f"{label} 葛萱力 {label}  安梓")
    for name in ("葛萱力", "安梓"):
        assert not readable(out, name), f"name {name} after {label!r} + space leaked: {out!r} {found}"


@pytest.mark.parametrize("text,name", [
    ("隨遷人 長孫俊森  身份證號 3601", "長孫俊森"), ("询问人 伏森明、程愚生  记录人 唐霞", "程愚生"),
    ("調查人：尤朝海、韓娟漢    1966-02-", "韓娟漢"), ("受送达人 狄胜  送达地址 渝中区", "狄胜"),
    ("迁移人姓名 计向长  性别 男", "计向长"), ("；其母秦娟祥，已退休。", "秦娟祥"),
    ("，\n其父皇甫庚雲，系原公社幹部", "皇甫庚雲"), ("延安路158號；其母\n華鐵，已退休。", "華鐵"),
    ("代收人 如仙古丽·巴特尔  代收理由 同住成年家属", "如仙古丽·巴特尔"),
    ("受送达人签收 上官翠  二〇二二年", "上官翠"), ("（2）姓名：路向  与户主关系", "路向"),
    ("我們於2014年04月對成漢英同志進行了政治審查", "成漢英"),
    ("問：你認識裴向秋嗎？", "裴向秋"), ("戶主姓名：阮向宗    住址", "阮向宗"),
    ("承办人签章  艾力·乌兰  登记日期", "艾力·乌兰"),
    # OCR output: spaces between fields lost, the middle dot read as other punctuation
    ("隨遷人長孫俊森身份证号36010219", "長孫俊森"), ("随迁人司马淑身份证号37010220", "司马淑"),
    ("于2007.09.03对依明，,买买提同志进行了政治审查", "依明，,买买提"), ("調查人:依明-.努尔、费燕珍", "依明-.努尔"),
    ("問：你認識戚屏嗎？", "戚屏"),
])
def test_names_in_table_layouts(text: str, name: str) -> None:
    out, found = run(text)
    assert not readable(out, name) and name[-1] not in out, \
        f"name {name} (or its last character) left readable: {out!r} {found}"


def test_preposition_before_a_name_is_not_its_surname() -> None:
    text = "张伟向王建国借款"
    found = [text[m.start:m.end] for m in find_pii(text, META) if m.kind == "name"]
    assert found == ["张伟", "王建国"], f"names in {text!r}: {found}"


def test_garbled_word_without_colon_is_no_cue() -> None:
    out, _ = run("审核后，时光流逝。")
    assert out == "审核后，时光流逝。", out


# --- minority names with a middle dot -----------------------------------------------------

@pytest.mark.parametrize("name", ["买买提·艾力", "阿依古丽•吐尔逊", "古丽・热合曼", "买买提・艾力",
                                  "扎西·顿珠", "其其格·斯琴", "买买提．艾力", "阿不都热合曼·吐尔逊"])
def test_dotted_names(name: str) -> None:
    for text in (f"户主：{name}，男，维吾尔族。", f"经查，{name}系本案当事人。"):
        out, found = run(text)
        parts = [p for p in name.replace("．", "·").replace("•", "·").replace("・", "·")
                 .replace("・", "·").split("·")]
        left = [p for p in parts if p in out]
        assert not left, f"name {name}: part(s) {left} left in plaintext: {out!r} {found}"


@pytest.mark.parametrize("text,name", [("关于依明·买买提同志的政审", "依明·买买提"),
                                       ("其父玉素甫·哈斯，系原公社干部", "玉素甫·哈斯")])
def test_dotted_name_after_function_word(text: str, name: str) -> None:
    found = [text[m.start:m.end] for m in find_pii(text, META) if m.kind == "name"]
    assert found == [name], f"dotted name {name}: found {found} in {text!r}"


@pytest.mark.parametrize("text", ["中国·北京", "党建·引领发展", "2023·上海", "诗·远方"])
def test_dotted_words_are_no_names(text: str) -> None:
    out, _ = run(text)
    assert out == text, f"{text!r} masked as a name: {out!r}"


# --- pinyin names -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Zhang Wei", "WANG Xiaoming", "Li Na", "Ouyang Nana", "LIU Yang",
                                  "Chen Jian-guo", "Zhao Xiao Ming", "Sun Li", "Xiaoming WANG",
                                  "Nana OUYANG"])
def test_pinyin_names(name: str) -> None:
    for text in (f"姓名（拼音）：{name}", f"申请人 {name} 于2020年", f"Applicant: {name}, male"):
        out, found = run(text)
        parts = name.replace("-", " ").split()
        left = [p for p in parts[1:] if p in out] + [p for p in parts[:1] if f"{p} " in out]
        assert name not in out and not left, f"pinyin {name}: {left} leaked: {out!r} {found}"


@pytest.mark.parametrize("text", [
    "The report was filed in English.", "He Long walked to Long Beach.", "Hello World",
    "Beijing Shanghai Guangzhou", "OCR PDF TIFF", "Hong Kong", "New YORK", "Hello WORLD",
])
def test_english_words_are_no_pinyin_names(text: str) -> None:
    out, found = run(text)
    assert out == text, f"English {text!r} masked: {out!r} {found}"


# --- fewer false names: ordinary words and places ------------------------------------------

@pytest.mark.parametrize("text", [
    "汇入支付宝账户", "被告向原告支付欠款", "住在徐汇", "迁往海淀，", "来自朝阳，", "徐汇公安",
    "发展工作稳步推进", "通过微信支付", "支付给商户", "迁往静安", "武侯派出所", "原籍浦东",
    "关于徐汇的报告",
])
def test_words_and_places_are_no_names(text: str) -> None:
    found = [m for m in find_pii(text, META) if m.kind == "name"]
    assert not found, f"not names, but masked as names in {text!r}: {[text[m.start:m.end] for m in found]}"


def test_traditional_preposition_is_no_name() -> None:
    text = "關於穆學剛同志的政審情況報告"
    found = [text[m.start:m.end] for m in find_pii(text, META) if m.kind == "name"]
    assert found == ["穆學剛"], f"names in {text!r}: {found}"


def test_real_names_that_contain_place_words_stay_names() -> None:
    out, found = run("户主张朝阳，妻子王海淀。")
    assert "朝阳" not in out and "海淀" not in out, f"names leaked: {out!r} {found}"
    # A cue outranks the place list: 金凤 and 田阳 are also districts.
    out, found = run("书记员 金凤\n走访对象：社区主任田阳，电话")
    assert "凤" not in out and "阳" not in out, f"cued names leaked: {out!r} {found}"


# --- addresses ----------------------------------------------------------------------------

@pytest.mark.parametrize("addr,detail", [
    ("北京市朝阳区朝阳路甲12号", "甲12号"), ("建国路12号乙", "12号乙"),
    ("海淀区中关村大街乙27号院3号楼", "乙27号"), ("西城区官园胡同丙3号", "丙3号"),
    ("北京市海淀区北土城南巷222号甲院8号楼1门516号", "1门516号"),
    ("北京市海淀區芳草西路13號甲院2號樓5門169號", "5門169號"),
])
def test_addresses_with_jia_yi_numbers(addr: str, detail: str) -> None:
    out, found = run(f"住址：{addr}，")
    assert detail not in out and addr not in out, f"address {addr} left readable: {out!r} {found}"


@pytest.mark.parametrize("addr,secret", [
    ("上海市徐汇区漕溪北路58丟12弓302窒", "58"), ("朝阳路12亏", "12"), ("朝阳路12弓", "12"),
    ("天河区中山大道西88亏", "88"), ("建国路2号楼3单兀402室", "402"), ("解放路17兮", "17"),
    ("张家村3纽15号", "15"), ("幸福小区5栎2単元301窒", "301"), ("黄浦区南京东路100弓", "100"),
])
def test_addresses_with_misread_suffix(addr: str, secret: str) -> None:
    out, found = run(f"现住址：{addr}。")
    assert secret not in out, f"address {addr}: house number {secret} left readable: {out!r} {found}"


@pytest.mark.parametrize("addr,secret", [
    ("昆山市延安南侍74號桂花旱小區26櫥2單元1302室", "1302"), ("鼓樓區滬河北街258號際4號樓盾J311號", "311"),
    ("湖北省武汉市江岸区文昌南埠123号院1号楼4门513号", "513"),
    ("北京市东城区解放北街128-6号钢三衍舍9栋1单元823室", "823"),
    ("西安市新城區朝陽門衛術520弄55號987室", "987"),
])
def test_addresses_with_misread_road_and_links(addr: str, secret: str) -> None:
    out, found = run(f"现住址：{addr}，其父")
    assert secret not in out, f"address {addr}: {secret} left readable: {out!r} {found}"


@pytest.mark.parametrize("text", ["沿中山路3公里", "乘坐中山路3路公交", "人民路100米处", "解放路2年来",
                                  "建设路3次改造", "上海市公安局第3号令", "本市共有3号",
                                  "北京市朝阳区人民政府3号文", "国发〔2001〕12号"])
def test_road_and_a_measure_is_no_address(text: str) -> None:
    found = [m for m in find_pii(text, META) if m.kind == "address"]
    assert not found, f"{text!r} masked as address: {found}"
