"""Names a table row's shape vouches for where OCR lost the header, the rules or the label
(indexer.row_names), and spouses named by a witness: each case replays a value the detectors
left readable on the wide pages' OCR and names it in the failure message; the negative cases
name the ordinary word that must stay searchable."""
from __future__ import annotations

import pytest

from indexer.pipeline import find_pii
from indexer.row_names import find_row_names, name_cell
from indexer.types import ArchiveMeta

META = ArchiveMeta("RN-1", "表格", "户籍档案", "测试单位", 2020, "内部", "r.pdf")


def _names(text: str) -> list[str]:
    return [text[m.start:m.end] for m in find_pii(text, META) if m.kind == "name"]


CAUGHT = [
    # row number, name, sex and age run together (证人名单 after OCR)
    ("序号姓名性别年龄住址\n1左丘堂器女80岁于都县太平镇杨营村三组14号\n", "左丘堂器"),
    ("序号姓名性别年龄住址\n2宇文朝琪男64岁江西省赣州市于都县\n", "宇文朝琪"),
    ("申請證人出庭作證名單\n2司馬英女32歲廣東省廣州市天河區\n", "司馬英"),
    ("序號姓名性别年齡住址\n3如仙咎麗.努爾男76歲甘肃省兰州市\n", "如仙咎麗.努爾"),
    # a statement's payee after the amount, its rules read as | ! 1 ;
    ("1995年09月，代发工资i -98,292.03 | 92,912.27 |東方晨| 6258 0233 0547 6549\n", "東方晨"),
    ("1955年11月2日!代发工资! +9,482.88 1 605,456.91 !上官勇兰!\n6222 6227 4586 6655 048\n", "上官勇兰"),
    ("1964-09-27 1 ATM取款| +7,283.94 1 184,981.93 1李张氏|\n", "李张氏"),
    # a payroll's signature column after the amount, at the line end
    ("2 |张符| 659002 19950621 5723 | 6258023869142388 | 1,623.52 |張芳\n", "張芳"),
    # a family table row: name, a (garbled) relation, a date
    ("姓名，与申请人关系:出生日期”身份证全\n扎西次仁!父1 1973.02 1 45010219\n", "扎西次仁"),
    ("姓名，与申请人关系:出生日期”身份证全\n張而|址| 1950-11-07 | 360731195011070\n", "張而"),
    ("172193\n热合曼.古丽米拉:其其格|父| 1956-12-08 | 520102195612085774\n", "热合曼.古丽米拉:其其格"),
    ("阿依古丽，依明，其其格|配偶) 1949年10月24日;i 330624491024815\n", "阿依古丽，依明，其其格"),
    # the form's 姓名 … 性别 … 民族 row broken after the name, its label garbled
    ("送达文书传票共30页\n和名毕梓振\n二女民族汉\n2 1996年2月12日\n", "毕梓振"),
    ("传票、举证通知书各1份\n人康致殉\n:女民族汉\n", "康致殉"),
    # a spouse or a receiver named after the cue (老婆, 接收人 read 接收入)
    ("答:还有刘明超和他老婆艾合买提其其格，刘明超的手机我记得是1", "艾合买提其其格"),
    ("答:还有姚忠灿和他老婆癌雷妍，姚忠灿的手机我记得是1", "癌雷妍"),
    ("回执:买买提.艾力同志档案已收到。接收入广航手机0086-139-1215-6549", "广航"),
    # a transliterated payee glued to the amount, its dots read as 。 and ,
    ("1994.06.02 |跨行汇款| -93,085.92 1 275,384.48哈斯。阿依右麗,如仙占麗\n6225-8082-4", "哈斯。阿依右麗,如仙占麗"),
    # a page count closes a dotted name (…古丽米拉共3页), a year a misread compound surname
    ("打印网点和平区支行经办柜员其其格'古丽米拉共3页\n干部履歷表", "其其格'古丽米拉"),
    ("送達文書傳票共18頁\n受送達人簽收鐘晨宁二0二0年十月\n", "鐘晨宁"),
    # the statement's account holder; a list item closed by the next field
    ("户名:閱長卡號:622848 51", "閱長"),
    ("询问人凌秋妍、茧忠工作单位新員具公安分局", "茧忠"),
    # whom the witness is asked about, its surname misread, after 你和
    ("问:你和锅萌是什么关系?\n答:他是我", "锅萌"),
    # a family register row: relation, name, sex, nationality, birth date run together
    ("11228087X\n長子凌和平男汉1950-10-24", "凌和平"),
    ("308128640\n長子母妍青男汉1951.12 42", "母妍青"),
    # the issuing office glued after the name
    ("823 5049\n审批人周利永宁習縣公安局戶政科(章)", "周利永"),
    ("18-3014\n户籍民警格桑卓玛派出所荡湾区城关派出所", "格桑卓玛"),
    ("652-2400\n審批人旋家明和平區公安局戶政科(章)", "旋家明"),
    # a dotted name before the 性别/民族 line, a relation cell before a dotted name cell
    ("416\n1988\n江名。阿不都.艾力\n2.男民族汉\n2 19", "阿不都.艾力"),
    ("，由被告负担。\n3再努尔'艾合买提\n中女民族汉\n", "再努尔'艾合买提"),
    ("务农\n兄|如仙古丽:阿依古丽:吐尔逊| 1940.01 |中共党员", "如仙古丽:阿依古丽:吐尔逊"),
    # the account holder between 转到 and the card, a signature cell whose 盖章 OCR misread
    ("问:錢轉到哪個賬戶?\n答:轉到線維新的建行卡,卡號62212", "線維新"),
    ("答:转到哈斯:再努尔的工行卡，卡号6 2 5", "哈斯:再努尔"),
    ("送达文书|传票\n受送达人签名或党章|何起| 2007-09-15", "何起"),
    # a former spouse, a dotted name closed by 〈
    ("反映問題:来访人反映其前夫巴特尔:再努尔〈住\n广西", "巴特尔:再努尔"),
    # a year in Chinese numerals closes a name jieba glued to it
    ("徐汇区人民法院\n具状人:盛烛幸二OO八年十一月附:本诉状副本", "盛烛幸"),
]


@pytest.mark.parametrize("text,value", CAUGHT)
def test_row_shape_names_are_masked(text: str, value: str) -> None:
    names = _names(text)
    assert value in names, f"name {value!r} left readable (names found: {names}) in {text!r}"


KEPT = [
    ("户主|包晟|男|一九七七年十一月|高小| 530102771113283\n", "户主"),
    ("工资 3,200.00 |人民币| 合计\n", "人民币"),
    ("交易日期|摘要|金额|余额\n19621215 | 3,200.00 |代发工资| 6210\n", "代发工资"),
    ("学历|大学|本科|2001年\n", "学历"),
    ("合计 3,200.00元整\n", "元整"),
    ("合计 1,200.00人民币\n", "人民币"),
    ("人民币326,548.30元，唐力在（2012）粤01刑终3号", "元，唐力在"),
    ("答:转到我儿子的卡上", "儿子"),
]


def test_conjunction_is_no_surname() -> None:
    names = _names("问:你和锅萌是什么关系?")
    assert "和锅萌" not in names, f"the conjunction 和 masked as a surname: {names}"
    assert _names("问:你和他是什么关系?") == [], "a pronoun masked as a name"


@pytest.mark.parametrize("text,word", KEPT)
def test_row_shapes_leave_ordinary_cells(text: str, word: str) -> None:
    hidden = [m.value for m in find_row_names(text)]
    assert not any(word in h for h in hidden), f"ordinary cell {word!r} masked as a name: {hidden}"


def test_name_cell_shapes() -> None:
    assert name_cell("李张氏") and name_cell("扎西次仁") and name_cell("热合曼.古丽米拉:其其格")
    for word in ("人民币", "代发工资", "徐汇", "出生日期"):
        assert not name_cell(word), f"{word!r} read as a name cell"
