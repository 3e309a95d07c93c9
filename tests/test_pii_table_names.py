"""Names on the wide pages' forms and tables (户籍 grids, family tables, 花名册, 银行流水, 证人名单):
each case replays a name the detectors left readable, or a word they hid for nothing, and names
it in the failure message."""
from __future__ import annotations

import pytest

from indexer.pipeline import find_pii
from indexer.types import ArchiveMeta

META = ArchiveMeta("TN-1", "表格", "户籍档案", "测试单位", 2020, "内部", "t.pdf")


def _names(text: str) -> list[str]:
    """The name spans find_pii masks, as printed in `text`."""
    return [text[m.start:m.end] for m in find_pii(text, META) if m.kind == "name"]


def _assert_masked(text: str, value: str) -> None:
    names = _names(text)
    assert value in names, f"name {value!r} left readable (names found: {names}) in {text!r}"


# Cause 1: the cue is the column header on a line above (or the label cell to the left).
TABLES = [
    ("关系 ｜ 姓名 ｜ 性别 ｜ 民族 ｜ 出生日期\n户主 ｜ 李建国 ｜ 男 ｜ 汉 ｜ 1950.01\n"
     "母 ｜ 张强军 ｜ 女 ｜ 汉 ｜ 1957.03\n", "张强军"),
    ("关系 | 姓名 | 性别 | 民族 | 出生日期\n孙子 | 央金 | 男 | 回 | 1996年8月\n", "央金"),
    ("序号 | 姓名 | 性别 | 年龄 | 住址\n1 | 解燕远 | 女 | 85岁 | 山东省临沂市兰陵县\n"
     "2 | 司馬強勇 | 男 | 58岁 | 四川省自贡市\n", "司馬強勇"),
    ("姓名  与申请人关系  出生日期  身份证号\n公孫生  父  1947-08-15  411723470815875\n", "公孫生"),
    ("姓名  与申请人关系  出生日期\n石  瑞  父  1947-08-15\n", "石  瑞"),
    ("称谓 ｜ 姓名 ｜ 出生年月 ｜ 政治面貌\n妹 ｜ 乌云其其格 ｜ 1997.11 ｜ 共青团员\n", "乌云其其格"),
    ("交易日期 | 摘要 | 金额 | 余额 | 对方户名 | 对方账号\n"
     "1961.08.19 | 代发工资 | -52,366.25 | 243,611.39 | 明军萱 | 940022 6007739947444\n"
     "1984年11月 | ATM取款 | +25,758.01 | 367,175.33 | 史婷 | \n622262 7174192547792\n"
     "1998.09.30 | 网银转入 | +58,965.62 | 594,673.56 | 斯琴高娃 | \n", "斯琴高娃"),
    # OCR misread one character of the header (对方户各 for 对方户名)
    ("交易日期 | 摘要 | 金额 | 余额 | 对方户各 | 对方账号\n"
     "1961.08.19 | 代发工资 | -52,366.25 | 243,611.39 |明军管| 940022 6007739947444\n", "明军管"),
    # …or with one character inserted, and the next rule read as a digit (央金1 6258…)
    ("交易日期|摘要|金額|余额|对方户和名|对方账号\n"
     "2013.02.08 |跨行汇款| +31,942.74 | 740,401.99 |央金1 6258027485379373\n", "央金"),
    ("受送达人签名或盖章 │ 歐陽勇華 │ 1998-09-07\n", "歐陽勇華"),
    ("关系 | 姓名 | 性别 | 民族 | 出生\n外孙女 | 虞伟萱 | 女 | 蒙古 | 2001.02\n", "虞伟萱"),
]


@pytest.mark.parametrize(("text", "value"), TABLES, ids=[v for _, v in TABLES])
def test_column_header_names_its_cells(text: str, value: str) -> None:
    _assert_masked(text, value)


# Cause 2: a role word and the name with no colon, the field closed by a gap.
ROLES = [
    ("审核 紀解放   填表日期 2019年", "紀解放"),
    ("打印网点 昆山市支行   经办柜员 房衛一   共3页", "房衛一"),
    ("承办法官 扎西次仁   书记员 李红", "扎西次仁"),
    ("隨訪人員 喻致（系來訪人之子）\n接待人 王芳", "喻致"),
    ("送達人 鍾星雯  上官豔平   郵編 513243", "上官豔平"),
]


@pytest.mark.parametrize(("text", "value"), ROLES, ids=[v for _, v in ROLES])
def test_role_word_without_colon(text: str, value: str) -> None:
    _assert_masked(text, value)


# Q/A 笔录 answers: the name mid-sentence, what is said about the person follows it.
SPOKEN = [
    ("問：你和夏國是什麼關係？", "夏國"),
    ("答：還有程妍劍和他老婆吳趙氏，程妍劍的手機我記得是+86 139", "吳趙氏"),
    ("答：還有艾合買提•努爾和他老婆周洋玉，艾合買提•努爾的手機", "艾合買提•努爾"),
    ("茲證明公孫濤然（身份證號：130102", "公孫濤然"),
]


@pytest.mark.parametrize(("text", "value"), SPOKEN, ids=[v for _, v in SPOKEN])
def test_name_in_record_answer(text: str, value: str) -> None:
    _assert_masked(text, value)


# Cause 3: the middle dot read as a colon, a full stop or an apostrophe.
DOTTED = [
    ("户号A37-42850户主阿里木:依明户别集体户登记日期2001", "阿里木:依明"),
    ("共2页。\n承办人如仙古丽。迪丽拜尔联系电话: 0311.8861", "如仙古丽。迪丽拜尔"),
    ("户主 哈斯:迪丽拜尔   户别 家庭户", "哈斯:迪丽拜尔"),
    ("申请人依明'热合曼，男，", "依明'热合曼"),
]


@pytest.mark.parametrize(("text", "value"), DOTTED, ids=[v for _, v in DOTTED])
def test_dotted_name_with_misread_dot(text: str, value: str) -> None:
    _assert_masked(text, value)


# Cause 4: words in a table's other columns are no names; 曾用名 and 花名册 are labels.
NOT_NAMES = [
    ("与户主关系  姓名  性别  出生年月  文化程度  身份证号\n"
     "母  司马兰平  女  二〇〇三年五月  高小  520121030508060\n", "高小"),
    ("经审批后办理。", "后办理"),
    ("你和他是什么关系？", "和他"),
    ("准予迁入证明   迁字第2001-3257号", "迁字第"),
    ("姓名 王静华   曾用名 左涛娟   性别 女", "曾用名"),
    ("职工花名册（2019年）\n序号 | 姓名 | 性别\n1 | 韩梅 | 女\n", "花名册"),
    ("住址 宁晋县向阳人民公社   户主 石屏巧   成份 贫农\n", "成份 贫农"),
]


@pytest.mark.parametrize(("text", "word"), NOT_NAMES, ids=[w for _, w in NOT_NAMES])
def test_ordinary_word_is_no_name(text: str, word: str) -> None:
    at = text.index(word)
    hits = [text[m.start:m.end] for m in find_pii(text, META)
            if m.kind == "name" and m.start < at + len(word) and at < m.end]
    assert not hits, f"{word!r} masked as a name ({hits}) in {text!r}"
