"""Names that a table row's shape vouches for, where OCR lost the table's header or its rules.

The wide registers (证人名单, 花名册, 随迁人员, 银行流水, 送达回证) print one person per row. OCR
runs the cells together (1左丘堂器女80岁…), reads the rules as ! 1 i ; ) (上官勇兰!), garbles the
header (姓名，与申请人关系:出生日期”…) or the label (和名 for 姓名), so neither the column rule
(indexer.table_names) nor the cue rules (indexer.names) see a name there. What still marks the
name is the row around it, the same on every such page:
* a row number, the name, then sex and age (1左丘堂器女80岁 / 2 司马英 女 32岁);
* a money amount with two decimals, a rule, then the name cell (92,912.27 |东方晨| 6258…,
  the payee of a statement or the signer of a payroll);
* at a line start, the name cell, a rule, a short relation cell, a rule, a date (扎西次仁!父1
  1973.02, 张而|址| 1950-11-07: a family table whose relation OCR may garble);
* the last name-shaped run of a line when the next line starts with the sex and 民族 (和名毕梓振⏎
  二女民族汉: the form's 姓名 … 性别 … 民族 row broken at the name).
A cell is a name only when shaped like one (indexer.table_names rules: a surname and one to
three characters, a name ending in 氏, or a transliterated name whose dots OCR read as other
marks) and is no stop word, place, label or cue.
"""
from __future__ import annotations

import re

from indexer import cues, dotnames, textview
from indexer.name_data import divisions, stopwords, surname_len
from indexer.name_rules import FIELD_LABEL, TERMINATORS
from indexer.pii import PiiMatch

__all__ = ["find_row_names", "name_cell"]

_HAN = "\u4e00-\u9fff"
_MARKS = re.escape("".join(sorted(dotnames.ANY_DOTS)))
# A name cell as OCR reads it: Han characters and the marks a middle dot becomes.
_CELL = rf"[{_HAN}](?:[{_HAN}{_MARKS} ]{{0,14}}[{_HAN}])?"
# What OCR makes of a table rule.
_RULE = r"[|｜│┃!！;；)）(（\[\]1iIl]"
_STRONG_RULE = r"[|｜│┃!！]"
_AGED = re.compile(rf"^[ \t]*\d{{1,2}}[ \t.、]*(?P<name>{_CELL})[ \t]*[男女][ \t]*\d{{1,3}}[ \t]*岁", re.M)
_PAID = re.compile(rf"(?<![\d,.])\d{{1,3}}(?:,\d{{3}})*\.\d\d[ \t]*(?P<rule>{_RULE}?)[ \t]*(?P<name>{_CELL})"
                   rf"[ \t]*(?={_RULE}|[ \t]*$)", re.M)
_KIN = re.compile(rf"^[ \t]*(?P<name>{_CELL})[ \t]*{_STRONG_RULE}[ \t]*[{_HAN}]{{1,3}}[ \t]*{_RULE}"
                  rf"[ \t]*(?:\d{{4}}|[一二][〇○零O0一二三四五六七八九]{{3}})", re.M)
# A family register's row: the relation, the name, sex, nationality, birth date (長子凌和平男汉1950-10-24).
_RELATIONS = ("户主|妻|夫|子|女|长子|次子|三子|四子|长女|次女|三女|四女|父|母|兄|弟|姐|妹|孙子|孙女|儿媳|"
              "女婿|祖父|祖母|外孙|外孙女|侄子|侄女|养子|养女|继子|继女|配偶|丈夫|妻子|儿子|女儿")
_RELATION_ROW = re.compile(rf"^[ \t]*(?:{_RELATIONS})[ \t|｜│]*(?P<name>[{_HAN}]{{2,4}}?)[ \t|｜│]*[男女]"
                           rf"[ \t|｜│]*[汉回满藏蒙壮维苗彝朝土][族]?[ \t|｜│]*\d", re.M)
# A role label, the name, then the office that issued the form glued to it (审批人周利永宁习县公安局,
# 户籍民警格桑卓玛派出所): the county or district name before 公安局 has two characters.
_OFFICE_NEXT = re.compile(rf"(?P<name>[{_HAN}]{{2,4}}?)(?:[{_HAN}]{{2}}[县区市](?:公安|人民)|派出所)")
# A relation cell, a rule, the name cell, a rule, the birth date (兄|如仙古丽:阿依古丽:吐尔逊| 1940.01).
_RELATION_CELL = re.compile(rf"^[ \t]*(?:{_RELATIONS})[ \t]*{_STRONG_RULE}[ \t]*(?P<name>{_CELL})[ \t]*"
                            rf"{_STRONG_RULE}[ \t]*\d{{4}}", re.M)
# Whose card the money went to, in a 笔录 answer (转到线维新的建行卡, 转到哈斯:再努尔的工行卡): the
# account holder sits between the transfer verb and the card, whatever OCR made of its surname.
_TRANSFER = re.compile(rf"(?:转到|转给|汇到|汇给|打到|存到)(?P<name>{_CELL}?)的[{_HAN}]{{0,3}}卡")
_SEXED_NEXT = re.compile(rf"(?P<run>[{_HAN}{_MARKS}]{{2,16}})[ \t]*\n[^\n{_HAN}]{{0,2}}[{_HAN}]?[男女][ \t]*民族")
_MONEY_WORDS = frozenset("元币整万角分")
_MAX_FOREIGN_MISREAD = 2  # Han characters outside the transliteration set in a long name


def name_cell(cell: str) -> bool:
    """Whether a (folded) cell reads as one person's name: a surname and one to three given
    characters, a married woman's 夫姓父姓氏, or a transliterated name of up to a dozen."""
    squeezed = re.sub(r"\s+", "", cell)
    han = [ch for ch in squeezed if textview.is_cjk(ch)]
    if not han or not textview.is_cjk(squeezed[0]) or not textview.is_cjk(squeezed[-1]):
        return False
    if squeezed in stopwords() or squeezed in divisions() or FIELD_LABEL.search(squeezed):
        return False
    if cues.cue_regex().match(squeezed):
        return False
    if len(han) == len(squeezed) and 2 <= len(han) <= 4:
        if squeezed[-1] == "氏" and len(han) >= 2 and surname_len(squeezed):
            return True  # 李张氏
        sl = surname_len(squeezed)
        if sl and 1 <= len(han) - sl <= 2 and not any(ch in TERMINATORS for ch in squeezed[sl:]):
            return True
        if len(han) < 4:
            return False  # four characters without a surname: a transliterated name (扎西次仁)
    if len(han) < 4 or len(squeezed) > 14:
        return False
    return sum(ch not in dotnames.TRANSLIT for ch in han) <= _MAX_FOREIGN_MISREAD


def _aged_cell(cell: str) -> bool:
    """After a row number and before sex and age the row says a person is named: the surname
    may be misread (癌雷妍), so three or four Han characters need no surname."""
    squeezed = re.sub(r"\s+", "", cell)
    if name_cell(squeezed):
        return True
    return (all(textview.is_cjk(ch) for ch in squeezed) and 3 <= len(squeezed) <= 4
            and squeezed not in stopwords() and not FIELD_LABEL.search(squeezed)
            and not cues.cue_regex().match(squeezed))


_NOT_HOLDER = frozenset("我你他她它们自己儿子女父母妻夫哥姐弟妹亲家单位公司的")


def _holder_cell(cell: str) -> bool:
    """The account holder after 转到: a name cell, or three or four Han characters that are no
    pronoun or kinship phrase (转到我儿子的卡上 names nobody)."""
    return name_cell(cell) or (_aged_cell(cell) and not any(ch in _NOT_HOLDER for ch in cell))


def _trimmed(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _sexed_span(folded: str, m: re.Match[str]) -> tuple[int, int] | None:
    """The name closing the line before a 性别/民族 line: surname plus two, else plus one."""
    a, b = m.span("run")
    if any(ch in dotnames.ANY_DOTS for ch in folded[a:b - 1]):
        # A dotted name: the transliterated run before the line end (江名。阿不都.艾力).
        start = b
        while start > a and (folded[start - 1] in dotnames.TRANSLIT or folded[start - 1] in dotnames.ANY_DOTS):
            start -= 1
        while start < b and folded[start] in dotnames.ANY_DOTS:
            start += 1
        dotted = folded[start:b]
        ok = any(ch in dotnames.ANY_DOTS for ch in dotted) and name_cell(dotted)
        return (start, b) if ok else None
    while a < b and not textview.is_cjk(folded[a]):
        a += 1
    for length in (3, 2, 4):
        start = b - length
        if start < a:
            continue
        word = folded[start:b]
        sl = surname_len(word)
        if sl and 1 <= length - sl <= 2 and name_cell(word):
            return start, b
    return None


def find_row_names(text: str) -> list[PiiMatch]:
    """Names the row shapes above vouch for (spans in `text`, values folded without spaces)."""
    folded = "".join(textview.fold_chars(text))
    spans: list[tuple[int, int]] = []
    for regex, check in ((_AGED, _aged_cell), (_PAID, name_cell), (_KIN, name_cell),
                         (_TRANSFER, _holder_cell)):
        for m in regex.finditer(folded):
            a, b = _trimmed(folded, *m.span("name"))
            # Without a rule after the amount (275,384.48哈斯。阿依古丽) only a transliterated
            # name is taken: a unit or a word follows an amount too (3,200.00元整).
            if regex is _PAID and not m.group("rule") and (
                    b - a < 3 or folded[a] in _MONEY_WORDS
                    or (b - a < 5 and folded[b:b + 1] not in ("", "\n"))):
                continue
            if check(folded[a:b]):
                spans.append((a, b))
    for m in _RELATION_CELL.finditer(folded):
        a, b = _trimmed(folded, *m.span("name"))
        if name_cell(folded[a:b]):
            spans.append((a, b))
    for m in _RELATION_ROW.finditer(folded):
        if _aged_cell(m.group("name")):
            spans.append(m.span("name"))
    for cue in cues.cue_regex().finditer(folded):
        if (m := _OFFICE_NEXT.match(folded, cue.end())) and _aged_cell(m.group("name")):
            spans.append(m.span("name"))
    for m in _SEXED_NEXT.finditer(folded):
        if (span := _sexed_span(folded, m)) is not None:
            spans.append(span)
    out: list[PiiMatch] = []
    for a, b in sorted(set(spans)):
        if out and a < out[-1].end:
            continue
        out.append(PiiMatch("name", a, b, re.sub(r"\s+", "", folded[a:b])))
    return out
