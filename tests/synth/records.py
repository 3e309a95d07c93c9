"""A second set of wide-page documents: payroll registers, petition records, kinship
certificates, file transfer notes and the old commune-era household book.

They bring printing habits the first sets lack: two-character names padded to the width of
three ("王　芳"), two phone numbers in one cell ("/" or "、"), a typed "×" for the check character
X, commune addresses (公社/大队/生产队) and Chinese-numeral dates of 1950s–80s registers. Mixed
into a wide page by a separate RNG stream (templates.page_text), so the wide pages that do not
draw them stay as they were. Written without reading the product's detectors.
"""
from __future__ import annotations

from tests.synth.forms import _birth, _row, _rule
from tests.synth.people import COMPOUND_SURNAMES, People, Person
from tests.synth.templates import Doc, _addr, _id, _sep

COMMUNES = ["红旗", "东风", "向阳", "前进", "胜利", "跃进", "红星", "和平", "永丰", "先锋"]
BRIGADES = ["张庄", "李家湾", "大王庄", "石门", "柳树沟", "新民", "团结", "三合", "马坊", "河口"]


def _surname(name: str) -> str:
    return name[:2] if name[:2] in COMPOUND_SURNAMES else name[0]


def _padded(g: People, name: str) -> tuple:
    """A name as a form aligns it: two characters spread to the width of three."""
    if len(name) == 2 and g.r.random() < 0.5:
        return ("name", name[0] + g.r.choice(["　", "  ", " "]) + name[1])
    return ("name", name)


def _typed_id(g: People, p: Person) -> tuple:
    kind, value = _id(g.r, p)
    if value.endswith("X") and g.r.random() < 0.5:
        value = value[:-1] + "×"  # typed with the multiplication sign of a word processor
    return (kind, value)


def payroll_sheet(g: People, d: Doc) -> None:
    """工资发放花名册 / 代发工资清单 kept in a 干部人事档案 or a labour-dispute 卷宗."""
    r = g.r
    unit = g.person().region[2]
    y = g.year()
    d.line(unit, r.choice(["财政局", "第二中学", "农机站", "卫生院"]), f"{y}年{r.randint(1, 12)}月",
           r.choice(["工资发放花名册", "代发工资清单", "津贴补贴发放表"]))
    sep = _rule(r)
    _row(d, sep, ["序号", "姓名", "身份证号", "银行卡号", "实发金额", "领款人签字"])
    for i in range(r.randint(3, 5)):
        p = g.person()
        _row(d, sep, [str(i + 1), _padded(g, p.name), _typed_id(g, p), ("bank_card", p.card),
                      f"{r.randint(1200, 9800):,}.{r.randint(0, 99):02d}", _padded(g, p.name)])
    d.line("合计 人民币", f"{r.randint(10000, 49999):,}.00", "元   制表人 ", ("name", g.person().name),
           "   审核 ", ("name", g.person().name), "   ", g.date_text())


def petition_record(g: People, d: Doc) -> None:
    """信访事项登记表: the visitor, two phones in one field, the people the petition is about."""
    r = g.r
    p, q = g.person(), g.person()
    d.line(r.choice(["来访登记表", "信访事项登记表", "群众来访接待登记"]), "   编号 XF",
           f"{r.randint(2001, 2024)}-{r.randint(1, 999):03d}")
    d.line("来访人 ", ("name", p.name), "  性别 ", p.sex, "  年龄 ", str(r.randint(20, 80)), "  身份证号 ", _id(r, p))
    second = g.mobile(g.mobile_digits())
    d.line("联系电话 ", ("phone", p.mobile), r.choice(["/", "、", " / ", "，"]), ("phone", second))
    d.line("家庭住址 ", _addr(p))
    d.line("反映问题：来访人反映其", r.choice(["邻居", "村组长", "前夫", "承包人"]), ("name", q.name),
           "（住", _addr(q), "，电话", ("phone", q.mobile), "）", r.choice(["拖欠工程款", "占用宅基地", "殴打来访人", "拒付抚养费"]),
           "，要求处理。")
    d.line("随访人员 ", ("name", g.person().name), "（系来访人之", r.choice(["子", "女", "妻"]), "）")
    d.line("接待人 ", ("name", g.person().name), "  登记人 ", ("name", g.person().name), "  ", g.date_text(),
           "  转", p.region[2], "信访局办理")


def kinship_certificate(g: People, d: Doc) -> None:
    """亲属关系证明 issued by a 派出所 or 村委会: running text with IDs in brackets."""
    r = g.r
    a, b = g.person(), g.person()
    d.line(r.choice(["亲属关系证明", "证  明"]))
    d.line("兹证明", ("name", a.name), "（", r.choice(["公民身份号码", "身份证号：", "身份证号码"]), _id(r, a), "）与",
           ("name", b.name), "（", r.choice(["公民身份号码", "身份证号："]), _id(r, b), "）系", r.choice(["父子", "母女", "夫妻", "兄妹", "祖孙"]),
           "关系。")
    d.line(("name", a.name), "现住", _addr(a), "；", ("name", b.name), "现住", _addr(b), "。")
    d.line("特此证明。本证明仅用于办理", r.choice(["户口迁移", "继承公证", "档案查询", "社保认证"]), "，有效期三个月。")
    d.line("证明人 ", ("name", g.person().name), "  联系电话", _sep(r), ("landline", g.landline()[0]))
    d.line(a.region[2], r.choice(["城关派出所", "新华街道办事处", "三合村民委员会"]), "（盖章）   ", g.date_text())


def file_transfer(g: People, d: Doc) -> None:
    """干部档案转递通知单 and its 回执."""
    r = g.r
    p = g.person()
    d.line("干部档案转递通知单", "   ", r.choice(["转字", "档转"]), f"〔{g.year()}〕{r.randint(1, 299)}号")
    d.line(p.region[2], r.choice(["教育局", "卫生健康局", "人民政府办公室"]), "：")
    d.line("现将", ("name", p.name), "同志（身份证号", _id(r, p), "）的档案材料", "正本", str(r.randint(1, 3)), "卷",
           "、副本", str(r.randint(0, 2)), "卷，共", str(r.randint(20, 180)), "份转去，请按档案目录清点查收，")
    d.line("并将回执退回。转递原因：", r.choice(["工作调动", "退休", "考录", "军转安置"]), "。档号 ", g.file_no())
    d.line("经办人 ", ("name", g.person().name), "   电话 ", ("landline", g.landline()[0]), "   ", g.date_text())
    d.line("回执：", ("name", p.name), "同志档案已收到。接收人 ", ("name", g.person().name), "  手机 ",
           ("phone", g.person().mobile), "  ", g.date_text())


def commune_register(g: People, d: Doc) -> None:
    """1960s–80s 户口底册 of a rural commune: 公社/大队/生产队, 成份, Chinese-numeral dates."""
    r = g.r
    head = g.person()
    county = head.region[2] if head.region[2].endswith("县") else r.choice(["新昌县", "平舆县", "富顺县", "宁晋县"])
    team = f"{county}{r.choice(COMMUNES)}人民公社{r.choice(BRIGADES)}大队第{g.cn_small(r.randint(1, 12))}生产队"
    d.line(r.choice(["户口底册", "农业人口户口登记簿", "常住户口登记簿"]), "   ", g.cn_year(r.randint(1958, 1983)), "年")
    d.line("住址 ", ("address", team, len(county)), "   户主 ", ("name", head.name), "   成份 ",
           r.choice(["贫农", "下中农", "中农", "富裕中农"]))
    sep = _rule(r)
    _row(d, sep, ["与户主关系", "姓名", "性别", "出生年月", "文化程度", "身份证号"])
    for i in range(r.randint(3, 5)):
        p = head if i == 0 else g.person()
        name = p.name
        if i and p.sex == "女" and r.random() < 0.4:  # a married woman under her husband's surname
            name = f"{_surname(head.name)}{_surname(p.name)}氏"
        rel = "户主" if i == 0 else r.choice(["长子", "次子", "孙"] if p.sex == "男" else ["妻", "长女", "母"])
        born = f"{g.cn_year(p.birth.year)}年{g.cn_small(p.birth.month)}月"
        _row(d, sep, [rel, _padded(g, name), p.sex, born, r.choice(["文盲", "小学", "初小", "高小", "初中"])],
             wrap_id=("id_number", p.id15 if r.random() < 0.7 else p.id18))
    d.line("迁入：", g.cn_year(r.randint(1960, 1985)), "年由", r.choice(["邻县", "本公社", "外省"]),
           "迁来。登记人 ", ("name", g.person().name), "   档号 ", g.file_no())


MORE_TEMPLATES = {
    "payroll_sheet": payroll_sheet, "petition_record": petition_record,
    "kinship_certificate": kinship_certificate, "file_transfer": file_transfer,
    "commune_register": commune_register,
}
