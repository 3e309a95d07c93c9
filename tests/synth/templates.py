"""Page texts of the archive documents the product holds, with every personal value labelled.

The wording follows the printed forms and the writing habits of real 户籍 registers, 干部人事
files and court/police 卷宗 (field labels, the order of fields, how a 笔录 quotes a person, how a
judgment introduces the parties). It is written independently of the product's detectors: no
cue list, vocabulary or noise model is shared with indexer/, so what the benchmark measures is
how the detectors meet documents they were not written against.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import opencc

from tests.synth.people import People, Person

KINDS = ("id_number", "phone", "landline", "bank_card", "name", "address")
_S2T = opencc.OpenCC("s2t")


@dataclass(frozen=True)
class Label:
    """One personal value as printed: `text[start:end] == value` on the page text."""

    kind: str
    value: str
    start: int
    end: int
    detail: int = 0  # addresses: where the part after province/city/district begins (offset)


@dataclass
class Doc:
    """Page text built piece by piece; labelled pieces become Labels with exact spans."""

    traditional: bool = False
    text: str = ""
    labels: list[Label] = field(default_factory=list)

    def add(self, piece: str, kind: str | None = None, detail: int = 0) -> Doc:
        if self.traditional:
            head = _S2T.convert(piece[:detail]) if detail else ""
            piece = _S2T.convert(piece)
            detail = len(head) if detail else 0
        if kind:
            start = len(self.text)
            self.labels.append(Label(kind, piece, start, start + len(piece), detail))
        self.text += piece
        return self

    def line(self, *parts: str | tuple) -> Doc:
        """A printed line: plain strings, or (kind, value[, detail]) for a labelled value."""
        if self.text:
            self.text += "\n"
        for part in parts:
            if isinstance(part, str):
                self.add(part)
            else:
                self.add(part[1], part[0], part[2] if len(part) > 2 else 0)
        return self


def _sep(r: random.Random) -> str:
    return r.choice(["：", "：", " ", "  ", ":"])


def _addr(p: Person) -> tuple:
    return ("address", p.address, p.address_detail)


def _id(r: random.Random, p: Person) -> tuple:
    if p.id_print:  # a wide page's person (tests.synth.wide) brings its printed form
        return ("id_number", p.id_print)
    if r.random() < 0.12:
        return ("id_number", p.id15)
    if r.random() < 0.06:  # typed across a line end, as narrow form cells force
        cut = r.randint(6, 14)
        return ("id_number", p.id18[:cut] + "\n" + p.id18[cut:])
    return ("id_number", p.id18)


def household_register(g: People, d: Doc) -> None:
    """常住人口登记卡 / 户口登记表: one card per member, 户主 first."""
    r = g.r
    head = g.person()
    d.line(r.choice(["常住人口登记卡", "户口登记表", "居民户口簿 常住人口登记"]))
    d.line("户别 ", r.choice(["家庭户", "非农业家庭户", "农业家庭户"]), "    户号 ", g.file_no(archival=False))
    d.line("户主姓名", _sep(r), ("name", head.name), "    住址", _sep(r), _addr(head))
    for i, p in enumerate([head, *(g.person() for _ in range(r.randint(1, 3)))]):
        relation = "户主" if i == 0 else r.choice(["妻", "夫", "长子", "次子", "长女", "母亲", "孙女"])
        d.line(f"（{i + 1}）姓名", _sep(r), ("name", p.name), "  与户主关系 ", relation,
               "  性别 ", p.sex, "  民族 ", r.choice(["汉", "汉", "回", "满", "维吾尔", "蒙古"]))
        d.line("出生日期 ", f"{p.birth.year}年{p.birth.month}月{p.birth.day}日",
               "  出生地 ", p.region[1] + p.region[2])
        d.line("公民身份号码", _sep(r), _id(r, p))
        if p.name_pinyin and r.random() < 0.3:
            d.line("姓名拼音 ", ("name", p.name_pinyin))
        d.line("文化程度 ", r.choice(["大学本科", "高中", "初中", "中专", "研究生"]),
               "  婚姻状况 ", r.choice(["已婚", "未婚", "丧偶"]), "  兵役状况 ", r.choice(["未服兵役", "退出现役"]))
        d.line("何时由何地迁来本址 ", g.date_text(), "由", p.region[2], "迁入")
    d.line(r.choice(["住宅电话", "家庭电话", "宅电"]), _sep(r), ("landline", g.landline()[1]),
           "  手机", _sep(r), ("phone", head.mobile))
    d.line("承办人签章", _sep(r), ("name", g.person().name), "  登记日期 ", g.date_text())


def migration_certificate(g: People, d: Doc) -> None:
    """户口迁移证 / 准予迁入证明."""
    r = g.r
    p, clerk = g.person(), g.person()
    d.line(r.choice(["户口迁移证", "准予迁入证明"]), "    编号 No.", g.file_no(archival=False))
    d.line("迁移人姓名", _sep(r), ("name", p.name), "  性别 ", p.sex, "  出生 ", g.date_text())
    d.line("公民身份号码", _sep(r), _id(r, p))
    d.line("原住址", _sep(r), _addr(p))
    q = g.person()
    d.line("迁往地址", _sep(r), _addr(q))
    d.line("迁移原因 ", r.choice(["投靠亲属", "工作调动", "大中专院校录取", "购房落户"]),
           "  随迁人数 ", str(r.randint(1, 4)), " 人")
    for _ in range(r.randint(1, 3)):
        m = g.person()
        d.line("随迁人 ", ("name", m.name), "  身份证号 ", _id(r, m), "  关系 ", r.choice(["配偶", "子", "女"]))
    d.line("联系电话", _sep(r), ("phone", p.mobile), "  或 ", ("landline", p.landline))
    d.line("签发机关 ", p.region[2], "公安分局  签发日期 ", g.date_text(), "  有效期至 ", g.date_text())
    d.line("经办民警 ", ("name", clerk.name), "  档号 ", g.file_no(), "  共", str(r.randint(2, 9)), "页")


def cadre_resume(g: People, d: Doc) -> None:
    """干部履历表: personal block, work history, family members and social relations."""
    r = g.r
    p = g.person()
    d.line("干部履历表")
    d.line("姓名", _sep(r), ("name", p.name), "  性别 ", p.sex, "  出生年月 ", f"{p.birth.year}.{p.birth.month:02d}")
    if p.name_pinyin:
        d.line("姓名（汉语拼音） ", ("name", p.name_pinyin.upper() if r.random() < 0.5 else p.name_pinyin))
    d.line("身份证号码", _sep(r), _id(r, p), "  参加工作时间 ", g.date_text())
    d.line("家庭住址", _sep(r), _addr(p))
    d.line("联系方式", _sep(r), ("phone", p.mobile), "  办公电话 ", ("landline", g.landline()[0]))
    d.line("工资卡号", _sep(r), ("bank_card", p.card), "  开户行 ", r.choice(["工商银行", "农业银行", "建设银行"]), "支行")
    d.line("学习及工作简历")
    for _ in range(r.randint(2, 4)):
        d.line(f"{g.year()}.{r.randint(1, 12):02d}—{g.year()}.{r.randint(1, 12):02d}  ",
               r.choice(["县粮食局干事", "乡政府文书", "市财政局科员", "区委办公室副主任", "省农科院助理研究员"]))
    d.line("家庭主要成员及重要社会关系")
    for rel in r.sample(["父亲", "母亲", "妻子", "丈夫", "儿子", "女儿", "岳父"], r.randint(2, 4)):
        m = g.person()
        d.line(rel, "  ", ("name", m.name), f"  {r.randint(1930, 2010)}年生  ",
               r.choice(["退休职工", "务农", "某公司职员", "中学教师", "已故"]), "  电话 ", ("phone", m.mobile))
    d.line("填表人 ", ("name", g.person().name), "  审核人 ", ("name", g.person().name), "  填表日期 ", g.date_text())


def political_review(g: People, d: Doc) -> None:
    """政审材料: a running-text report on the subject and relatives."""
    r = g.r
    p, father, mother = g.person(), g.person(), g.person()
    d.line("关于", ("name", p.name), "同志的政审情况报告")
    d.line("根据组织安排，我们于", g.date_text(), "对", ("name", p.name), "同志进行了政治审查。")
    d.line("该同志，", p.sex, "，", f"{p.birth.year}年{p.birth.month}月生，身份证号", _id(r, p), "，")
    d.line("现住", _addr(p), "，")
    d.line("其父", ("name", father.name), "，系", r.choice(["退休工人", "农民", "原公社干部"]),
           "，住", _addr(father), "；其母", ("name", mother.name), "，", r.choice(["务农", "已退休"]), "。")
    d.line("经走访所在社区和派出所，未发现该同志及其直系亲属有违法犯罪记录。")
    d.line("走访对象：社区主任", ("name", g.person().name), "，电话", ("phone", g.person().mobile), "。")
    d.line("本报告共", str(r.randint(2, 6)), "页，附证明材料", str(r.randint(1, 8)), "份，档号 ", g.file_no(), "。")
    d.line("调查人：", ("name", g.person().name), "、", ("name", g.person().name), "    ", g.date_text())


def indictment(g: People, d: Doc) -> None:
    """起诉书 (procuratorate) / 民事起诉状 (private)."""
    r = g.r
    a, b = g.person(), g.person()
    d.line(r.choice(["民事起诉状", "起诉书"]))
    d.line("原告：", ("name", a.name), "，", a.sex, "，", f"{a.birth.year}年{a.birth.month}月{a.birth.day}日出生，汉族，")
    d.line("公民身份号码", _id(r, a), "，住", _addr(a), "。")
    d.line("联系电话：", ("phone", a.mobile), "。")
    d.line("被告：", ("name", b.name), "，", b.sex, "，住", _addr(b), "，")
    d.line("电话", ("phone", b.mobile), "，身份证号", _id(r, b), "。")
    d.line("诉讼请求：一、判令被告偿还借款", g.amount(), "及利息；二、本案诉讼费由被告承担。")
    d.line("事实与理由：", g.date_text(), "，被告向原告借款，原告通过银行转账支付，")
    d.line("收款账号", ("bank_card", b.card), "，约定于", g.year(), "年底前归还，至今未还。")
    d.line("此致  ", r.choice(["海淀区人民法院", "徐汇区人民法院", "天河区人民法院"]))
    d.line("具状人：", ("name", a.name), "    ", g.date_text(), "    附：本诉状副本1份，证据", str(r.randint(3, 12)), "页")


def judgment(g: People, d: Doc) -> None:
    """民事/刑事判决书 heading, parties, court members."""
    r = g.r
    a, b = g.person(), g.person()
    d.line(r.choice(["北京市海淀区人民法院", "上海市徐汇区人民法院", "广州市天河区人民法院"]))
    d.line(r.choice(["民事判决书", "刑事判决书"]), "    ", g.case_no())
    d.line("原告", ("name", a.name), "，", a.sex, "，", g.year(), "年生，住", _addr(a), "。")
    d.line("委托诉讼代理人", ("name", g.person().name), "，", r.choice(["北京某律师事务所律师", "原告之子"]), "。")
    d.line("被告", ("name", b.name), "，", b.sex, "，公民身份号码", _id(r, b), "，住", _addr(b), "。")
    d.line("本院于", g.date_text(), "立案后，依法适用", r.choice(["简易程序", "普通程序"]), "，公开开庭进行了审理。")
    d.line("被告应于本判决生效之日起十日内向原告支付", g.amount(), "，案件受理费", g.amount(), "，由被告负担。")
    d.line("如不服本判决，可在判决书送达之日起十五日内提起上诉。")
    d.line("审判长 ", ("name", g.person().name), "    审判员 ", ("name", g.person().name))
    d.line(g.date_text(), "    书记员 ", ("name", g.person().name))


def interview_record(g: People, d: Doc) -> None:
    """询问笔录: question/answer form, values as people say them (Chinese numerals too)."""
    r = g.r
    w = g.person()
    d.line("询问笔录", "    第", str(r.randint(1, 3)), "次")
    d.line("时间 ", g.date_text(), "  地点 ", w.region[2], "公安分局", r.choice(["办案区", "接待室"]))
    d.line("询问人 ", ("name", g.person().name), "、", ("name", g.person().name), "  记录人 ", ("name", g.person().name))
    d.line("被询问人 ", ("name", w.name), "  性别 ", w.sex, "  身份证件号码 ", _id(r, w))
    d.line("现住址 ", _addr(w), "  联系方式 ", ("phone", w.mobile))
    d.line("问：你把你的电话号码再说一遍。")
    d.line("答：我的手机是", ("phone", w.mobile_cn), "，家里座机", ("landline", g.landline()[0]), "。")
    x = g.person()
    d.line("问：你认识", ("name", x.name), "吗？")
    d.line("答：认识，他住", _addr(x), "，我们", g.year(), "年就认识了。")
    d.line("问：钱是怎么给的？答：转到他卡上，卡号", ("bank_card", x.card), "，一共", g.amount(), "。")
    d.line("以上笔录我看过，和我说的相符。被询问人：", ("name", w.name), "  ", g.date_text())


def service_receipt(g: People, d: Doc) -> None:
    """送达回证."""
    r = g.r
    p = g.person()
    d.line("送达回证")
    d.line("案号 ", g.case_no(), "  案由 ", r.choice(["民间借贷纠纷", "离婚纠纷", "劳动争议", "盗窃"]))
    d.line("受送达人 ", ("name", p.name), "  送达地址 ", _addr(p))
    d.line("送达文书 ", r.choice(["起诉状副本、应诉通知书、举证通知书", "判决书", "传票"]), "  共", str(r.randint(1, 30)), "页")
    d.line("受送达人签收 ", ("name", p.name), "  ", g.date_text())
    q = g.person()
    d.line("代收人 ", ("name", q.name), "  代收理由 ", r.choice(["受送达人之妻", "同住成年家属"]), "  电话 ", ("phone", q.mobile))
    d.line("送达人 ", ("name", g.person().name), "、", ("name", g.person().name), "  备注 邮编", str(r.randint(100000, 850000)))


TEMPLATES = {
    "household_register": household_register, "migration_certificate": migration_certificate,
    "cadre_resume": cadre_resume, "political_review": political_review, "indictment": indictment,
    "judgment": judgment, "interview_record": interview_record, "service_receipt": service_receipt,
}


def page_text(rng: random.Random, *, traditional: bool = False,
              kinds: tuple[str, ...] | None = None, min_lines: int = 24,
              wide: bool = False) -> tuple[str, Doc]:
    """One page: documents of the chosen template kinds until the page has `min_lines` lines.

    `wide`: the wider documents and value formats of tests.synth.forms / records / wide (most
    documents from the new templates, the rest old templates with the new formats); without it
    a seed gives exactly the page it always gave."""
    registry = TEMPLATES
    if wide:
        from tests.synth.forms import WIDE_TEMPLATES
        from tests.synth.wide import WidePeople
        g: People = WidePeople(rng)
        from tests.synth.records import MORE_TEMPLATES
        registry = {**TEMPLATES, **WIDE_TEMPLATES, **MORE_TEMPLATES}
        pool = kinds or tuple(WIDE_TEMPLATES) * 3 + tuple(TEMPLATES)
        # the second set joins two wide pages in five, drawn from a stream of its own (seeded by
        # the page's state, consuming nothing from it), so the other wide pages keep their text
        if not kinds and random.Random(str(rng.getstate()[1][:8])).random() < 0.4:
            pool += tuple(MORE_TEMPLATES) * 4
    else:
        g = People(rng)
        pool = kinds or tuple(TEMPLATES)
    d = Doc(traditional=traditional)
    first = None
    while d.text.count("\n") + 1 < min_lines:
        name = rng.choice(pool)
        first = first or name
        if d.text:
            d.line("")
        registry[name](g, d)
    return first or "", d
