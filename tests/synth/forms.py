"""More archive documents for the "wide" pages: the grids, slips and tables of real 户籍档案,
干部人事档案 and 电子卷宗 that the first templates (tests.synth.templates) lack.

Tables print as rows of cells, ruled with box-drawing characters or aligned with spaces, the
way a scanned grid reads; an ID that does not fit its cell wraps to the next line under it.
Around the values is what a real page holds and must stay readable: dates, 档号, 案号, 文号,
amounts, page counts, postcodes. Written without reading the product's detectors.
"""
from __future__ import annotations

import random

from tests.synth.people import People, Person
from tests.synth.templates import Doc, _addr, _id, _sep


def _rule(r: random.Random) -> str:
    return r.choice(["│", "|", "  ", "｜"])


def _row(d: Doc, sep: str, cells: list, wrap_id: tuple | None = None) -> None:
    """One table row; `wrap_id` (an ID label) goes last and may wrap inside its cell."""
    parts: list = []
    for i, c in enumerate(cells):
        if i:
            parts.append(f" {sep} " if sep.strip() else sep)
        parts.append(c)
    if wrap_id is not None:
        parts.append(f" {sep} " if sep.strip() else sep)
        parts.append(wrap_id)
    d.line(*parts)


def _cell_id(g: People, p: Person) -> tuple:
    """An ID in a narrow grid cell: one time in four it wraps, the rest under the cell's left edge."""
    r = g.r
    if r.random() < 0.25 and not p.id_print.count("\n"):
        digits = p.id18 if len(p.id_print.replace(" ", "")) != 15 else p.id15
        cut = r.choice([8, 10, 12, 14])
        return ("id_number", digits[:cut] + "\n" + "　" * r.randint(12, 20) + digits[cut:])
    return _id(r, p)


def _birth(g: People, p: Person) -> str:
    return g.r.choice([f"{p.birth:%Y.%m.%d}", f"{p.birth:%Y-%m-%d}", f"{p.birth.year}年{p.birth.month}月{p.birth.day}日",
                       f"{p.birth:%Y.%m}", f"{p.birth:%Y%m%d}"])


def resident_grid(g: People, d: Doc) -> None:
    """常住人口登记表 as a grid: a household's members in rows under one header."""
    r = g.r
    head = g.person()
    sep = _rule(r)
    d.line(r.choice(["常住人口登记表", "户口登记簿（常住人口）", "户籍底册 常住人口登记表"]))
    d.line("户号 ", g.file_no(archival=False), "   户主 ", ("name", head.name), "   户别 ",
           r.choice(["家庭户", "集体户"]), "   登记日期 ", g.date_text())
    d.line("住址", _sep(r), _addr(head))
    d.line("─" * r.randint(28, 34))
    _row(d, sep, ["关系", "姓名", "性别", "民族", "出生日期", "公民身份号码"])
    members = [head, *(g.person() for _ in range(r.randint(2, 4)))]
    for i, p in enumerate(members):
        rel = "户主" if i == 0 else r.choice(["夫", "长子", "孙子", "父"] if p.sex == "男"
                                             else ["妻", "次女", "母", "儿媳", "外孙女"])
        _row(d, sep, [rel, ("name", p.name), p.sex, r.choice(["汉", "汉", "回", "蒙古", "维吾尔", "藏"]),
                      _birth(g, p)], wrap_id=_cell_id(g, p))
    d.line("─" * r.randint(28, 34))
    d.line("户主联系电话", _sep(r), ("phone", head.mobile), "   住宅电话", _sep(r), ("landline", head.landline))
    d.line("户籍民警 ", ("name", g.person().name), "   派出所 ", head.region[2], r.choice(["城关", "新华路", "东门"]),
           "派出所   档号 ", g.file_no())


def relocation_slip(g: People, d: Doc) -> None:
    """准予迁入证明 / 户口迁移证 slip: 准迁证编号, 持证人, 随迁人员 table, 承办单位 contacts."""
    r = g.r
    p = g.person()
    d.line(r.choice(["准予迁入证明", "户口准迁证", "户口迁移证（存根）"]), "   ",
           r.choice(["准迁字第", "迁字第"]), f"{r.randint(2000, 2024)}-{r.randint(1, 9999):04d}", "号")
    d.line("申请人", ("name", p.name), "，", p.sex, "，公民身份号码", _id(r, p), "，")
    d.line("现住", _addr(p), "，")
    q = g.person()
    d.line("经审核，准予迁入", _addr(q), "落户。")
    d.line("随迁人员：")
    sep = _rule(r)
    _row(d, sep, ["姓名", "与申请人关系", "出生日期", "身份证号"])
    for _ in range(r.randint(1, 3)):
        m = g.person()
        _row(d, sep, [("name", m.name), r.choice(["配偶", "子", "父"] if m.sex == "男" else ["配偶", "女", "母"]),
                      _birth(g, m)],
             wrap_id=_cell_id(g, m))
    d.line("本证有效期至", g.date_text(), "，逾期作废。共", str(r.randint(1, 3)), "页。")
    d.line("承办人", ("name", g.person().name), "   联系电话", _sep(r), ("landline", g.landline()[0]))
    d.line("审批人", ("name", g.person().name), "   ", p.region[2], "公安局户政科（章）  ", g.date_text())


def cadre_form(g: People, d: Doc) -> None:
    """干部履历表 with 曾用名, 家庭主要成员及重要社会关系 table and 奖惩情况."""
    r = g.r
    p = g.person()
    old = g.person()
    d.line(r.choice(["干部履历表", "干部任免审批表", "干部基本情况登记表"]))
    d.line("姓名 ", ("name", p.name), "   曾用名 ", ("name", old.name), "   性别 ", p.sex,
           "   出生年月 ", f"{p.birth.year}.{p.birth.month:02d}", "（", str(2024 - p.birth.year), "岁）")
    if p.name_pinyin:
        d.line("姓名拼音 ", ("name", p.name_pinyin))
    d.line("民族 ", r.choice(["汉族", "回族", "满族", "蒙古族"]), "   籍贯 ", p.region[1][:2] + p.region[2],
           "   入党时间 ", f"{g.year()}.{r.randint(1, 12):02d}")
    d.line("公民身份号码 ", _id(r, p))
    d.line("现住址 ", _addr(p), "   手机 ", ("phone", p.mobile))
    d.line("奖惩情况")
    for _ in range(r.randint(1, 2)):
        y = g.year()
        d.line(f"{y}年", r.choice(["被评为县级优秀公务员", "记三等功一次", "受到通报表扬", "年度考核优秀"]),
               "（", r.choice(["县人", "市人社", "区委组"]), f"〔{y}〕{r.randint(1, 199)}号", "）；")
    d.line("家庭主要成员及重要社会关系")
    sep = _rule(r)
    _row(d, sep, ["称谓", "姓名", "出生年月", "政治面貌", "工作单位及职务"])
    for rel in r.sample(["父亲", "母亲", "妻子", "丈夫", "儿子", "女儿", "岳母", "兄", "妹"], r.randint(3, 5)):
        m = g.person()
        _row(d, sep, [rel, ("name", m.name), f"{m.birth:%Y.%m}", r.choice(["中共党员", "群众", "共青团员"]),
                      r.choice(["退休", "务农", "县第一中学教师", "已故", "某公司职员", "在读"])])
    d.line("呈报单位 ", p.region[2], "人力资源和社会保障局   审核人 ", ("name", g.person().name),
           "   填报人", ("name", g.person().name), "   ", g.date_text())


def court_parties(g: People, d: Doc) -> None:
    """当事人信息 block of a 卷宗: parties, statutory and entrusted agents."""
    r = g.r
    d.line(r.choice(["当事人基本信息", "当事人信息表", "当事人及诉讼参加人情况"]), "   案号 ", g.case_no())
    a, b, guard, agent = g.person(), g.person(), g.person(), g.person()
    d.line("原告", ("name", a.name), "，", a.sex, "，", f"{a.birth.year}年{a.birth.month}月{a.birth.day}日生，",
           r.choice(["汉族，", "", "无业，"]), "住", _addr(a), "，")
    d.line("联系电话", ("phone", a.mobile), "，身份证号", _id(r, a), "。")
    d.line("法定代理人", ("name", guard.name), "，系原告之", r.choice(["父", "母", "监护人"]), "，住址同上，电话",
           ("phone", guard.mobile), "。")
    d.line("委托诉讼代理人", ("name", agent.name), "，", r.choice(["某某律师事务所律师", "原告之妹", "社区推荐公民"]),
           "，联系电话", ("landline", agent.landline), "。")
    d.line("被告", ("name", b.name), "，", b.sex, "，", f"{b.birth.year}年生，住", _addr(b), "，")
    d.line("公民身份号码", _id(r, b), "，手机", ("phone", b.mobile), "。")
    if r.random() < 0.6:
        t = g.person()
        d.line("第三人", ("name", t.name), "，住", _addr(t), "。")
    d.line("立案日期 ", g.date_text(), "   承办法官 ", ("name", g.person().name), "   书记员", ("name", g.person().name))


def service_return(g: People, d: Doc) -> None:
    """送达回证 as the court's table form, with a witness when the recipient refused."""
    r = g.r
    p, witness = g.person(), g.person()
    sep = _rule(r)
    d.line(r.choice(["送 达 回 证", "送达回证（存根）"]))
    _row(d, sep, ["案由", r.choice(["离婚纠纷", "买卖合同纠纷", "民间借贷纠纷", "故意伤害"]), "案号", g.case_no()])
    _row(d, sep, ["送达文书名称及件数", r.choice(["传票、举证通知书各1份", "判决书1份", "起诉状副本1份"])])
    _row(d, sep, ["受送达人", ("name", p.name)])
    _row(d, sep, ["送达地址", _addr(p)])
    _row(d, sep, ["受送达人签名或盖章", ("name", p.name), g.date_text()])
    if r.random() < 0.5:
        d.line("受送达人拒绝签收，见证人", ("name", witness.name), "（电话", ("phone", witness.mobile), "）在场。")
    else:
        d.line("代收人", ("name", witness.name), "，系受送达人之", r.choice(["妻", "夫", "子", "女"]), "，身份证号",
               _id(r, witness), "。")
    d.line("送达人 ", ("name", g.person().name), "  ", ("name", g.person().name), "   邮编 ",
           str(r.randint(100000, 850000)), "   第", str(r.randint(1, 5)), "页")


def qa_record(g: People, d: Doc) -> None:
    """询问笔录 / 讯问笔录 with Q/A lines: values said aloud, names mid-sentence."""
    r = g.r
    w, x, y = g.person(), g.person(), g.person()
    d.line(r.choice(["询问笔录", "讯问笔录", "调查笔录"]), "（第", str(r.randint(1, 3)), "次）")
    d.line("询问时间 ", g.date_text(), " ", f"{r.randint(8, 17)}时{r.randint(0, 59):02d}分")
    d.line("询问人", ("name", g.person().name), "、", ("name", g.person().name), "  工作单位 ", w.region[2], "公安分局")
    d.line("被询问人", ("name", w.name), "  性别", w.sex, "  出生日期", _birth(g, w))
    d.line("问：你的身份证号码、住址和联系方式？")
    d.line("答：身份证号", _id(r, w), "，住", _addr(w), "，手机", ("phone", w.mobile), "。")
    d.line("问：你和", ("name", x.name), "是什么关系？")
    d.line("答：他是我", r.choice(["表哥", "同事", "邻居", "前夫"]), "，他电话是", ("phone", x.mobile_cn),
           "，住", _addr(x), "。")
    d.line("问：当天还有谁在场？")
    d.line("答：还有", ("name", y.name), "和他老婆", ("name", g.person().name), "，", ("name", y.name),
           "的手机我记得是", ("phone", y.mobile), "。")
    d.line("问：钱转到哪个账户？")
    d.line("答：转到", ("name", x.name), "的", r.choice(["工行", "农行", "建行", "邮储"]), "卡，卡号", ("bank_card", x.card),
           "，共", g.amount(), "。")
    d.line("问：以上所说是否属实？答：属实。")
    d.line("被询问人签名：", ("name", w.name), "   ", g.date_text(), "   第", str(r.randint(1, 4)), "页 共",
           str(r.randint(4, 8)), "页")


def bank_statement(g: People, d: Doc) -> None:
    """银行流水 excerpt attached to a 卷宗: holder, card, transactions with counterparties."""
    r = g.r
    p = g.person()
    d.line(r.choice(["中国工商银行", "中国农业银行", "中国建设银行", "中国邮政储蓄银行"]), "个人账户交易明细（节选）")
    d.line("户名", _sep(r), ("name", p.name), "   卡号", _sep(r), ("bank_card", p.card))
    d.line("证件号码", _sep(r), _id(r, p), "   币种 人民币   查询期间 ", g.date_text(), " 至 ", g.date_text())
    sep = _rule(r)
    _row(d, sep, ["交易日期", "摘要", "金额", "余额", "对方户名", "对方账号"])
    for _ in range(r.randint(3, 5)):
        q = g.person()
        amt = f"{r.choice(['+', '-'])}{r.randint(10, 99999):,}.{r.randint(0, 99):02d}"
        _row(d, sep, [g.date_text(), r.choice(["转账", "跨行汇款", "网银转入", "ATM取款", "代发工资"]), amt,
                      f"{r.randint(0, 999999):,}.{r.randint(0, 99):02d}", ("name", q.name), ("bank_card", q.card)])
    d.line("打印网点 ", p.region[2], "支行   经办柜员 ", ("name", g.person().name), "   共", str(r.randint(1, 9)), "页")


def witness_list(g: People, d: Doc) -> None:
    """证人名单 table of a 卷宗."""
    r = g.r
    d.line(r.choice(["证人名单", "申请证人出庭作证名单", "证人情况表"]), "   ", g.case_no())
    sep = _rule(r)
    _row(d, sep, ["序号", "姓名", "性别", "年龄", "住址", "联系电话", "证明事项"])
    for i in range(r.randint(2, 4)):
        w = g.person()
        phone = ("phone", w.mobile) if r.random() < 0.75 else ("landline", w.landline)
        _row(d, sep, [str(i + 1), ("name", w.name), w.sex, f"{2024 - w.birth.year}岁", _addr(w), phone,
                      r.choice(["借款交付经过", "事发当晚情况", "房屋居住情况", "双方感情状况"])])
    d.line("提交人 ", ("name", g.person().name), "   ", g.date_text())


WIDE_TEMPLATES = {
    "resident_grid": resident_grid, "relocation_slip": relocation_slip, "cadre_form": cadre_form,
    "court_parties": court_parties, "service_return": service_return, "qa_record": qa_record,
    "bank_statement": bank_statement, "witness_list": witness_list,
}
