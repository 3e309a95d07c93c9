"""The staff query language, parsed by hand into a small tree (never `query_string` from user
input: its syntax errors and field access are OpenSearch's, not ours to explain).

    户口 迁移                 both words (anywhere on the page)
    "户口迁移证明"            the exact phrase
    迁移 OR 迁出              either (OR binds tighter than the implicit AND)
    户口 -迁移 / 户口 NOT 迁移  pages with 户口 but without 迁移
    档号:HJ-2023-0001        field filters: 档号 (prefix), 题名, 门类, 单位, 年度, 密级
    年度:2010-2015           a year range; a bare 2023 also matches the year field
    HJ-2023                  a bare 档号 or 档号 prefix

A query that cannot be read raises QuerySyntaxError with the reason in Chinese; nothing is
silently reinterpreted. Filters and NOT only ever narrow: the permission filter is applied
outside this tree by the choke point.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from indexer.normalise import for_search
from indexer.vocab import SEED_VOCABULARY, Vocabulary

MAX_QUERY_CHARS = 200
# Field names users type (Chinese and English) → the filter they mean.
FIELDS = {"档号": "archive_no", "archive_no": "archive_no", "题名": "title", "title": "title",
          "门类": "category", "category": "category", "单位": "unit", "unit": "unit",
          "年度": "year", "year": "year", "密级": "classification", "classification": "classification",
          "全宗": "fonds_no", "全宗号": "fonds_no", "fonds": "fonds_no",
          "保管期限": "retention", "retention": "retention"}
# A 档号 or a prefix of one: letters, then groups of digits/letters joined by - . · or /.
ARCHIVE_NO = re.compile(r"[A-Za-z]{1,8}(?:[-.·/][0-9A-Za-z]{1,8})+[-.·/]?")
YEAR = re.compile(r"(1[89]\d\d|20\d\d)")
YEAR_RANGE = re.compile(r"(1[89]\d\d|20\d\d)\s*[-~～至到]\s*(1[89]\d\d|20\d\d)")


class InvalidInput(ValueError):
    """What the user typed cannot be used (a 400, not a refusal: nothing was read or audited);
    `str(exc)` says why, in words a user can act on."""


class QuerySyntaxError(InvalidInput):
    """The query cannot be read; `str(exc)` says where and why."""


@dataclass(frozen=True)
class Term:
    text: str  # folded (width, traditional→simplified, lower case)
    phrase: bool = False  # typed in quotes: exact, no fuzzy alternatives


@dataclass(frozen=True)
class Filter:
    field: str  # archive_no | title | category | unit | year | classification | fonds_no | retention
    value: str | tuple[int, int]


@dataclass
class Query:
    """`groups`: every group must match (AND); the atoms of one group are alternatives (OR).
    A group of filters only narrows (no score); a group with a term scores."""

    groups: list[list[Term | Filter]] = field(default_factory=list)
    excluded: list[Term | Filter] = field(default_factory=list)

    @property
    def terms(self) -> list[Term]:
        return [a for group in self.groups for a in group if isinstance(a, Term)]


def _tokens(raw: str) -> list[tuple[str, bool]]:
    """(token, quoted) pairs; a quote opened and never closed is an error, not a word."""
    out: list[tuple[str, bool]] = []
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if ch.isspace():
            i += 1
            continue
        prefix = ""
        if ch in "-－" and i + 1 < n and raw[i + 1] in "\"“”":
            prefix, i = "-", i + 1
            ch = raw[i]
        if ch in "\"“”":
            end = next((j for j in range(i + 1, n) if raw[j] in "\"“”"), -1)
            if end < 0:
                raise QuerySyntaxError(f"引号没有闭合：{raw[i:i + 20]}…（短语请用一对引号括起来）")
            inner = raw[i + 1:end].strip()
            if not inner:
                raise QuerySyntaxError("引号中没有内容")
            out.append((prefix + inner, True))
            i = end + 1
            continue
        j = i
        while j < n and not raw[j].isspace() and raw[j] not in "\"“”":
            j += 1
        out.append((raw[i:j], False))
        i = j
    return out


def _field_filter(name: str, value: str, vocab: Vocabulary) -> Filter:
    key = FIELDS[name]
    value = value.strip()
    if not value:
        raise QuerySyntaxError(f"“{name}:”后面缺少要筛选的值")
    if key == "year":
        rng = YEAR_RANGE.fullmatch(value)
        if rng:
            lo, hi = int(rng.group(1)), int(rng.group(2))
            if lo > hi:
                raise QuerySyntaxError(f"年度范围 {value} 的起始年大于结束年")
            return Filter("year", (lo, hi))
        if YEAR.fullmatch(value):
            return Filter("year", (int(value), int(value)))
        raise QuerySyntaxError(f"年度应为四位年份或范围（如 年度:2023、年度:2010-2015），收到“{value}”")
    if key == "category" and value not in vocab.categories:
        raise QuerySyntaxError(f"门类“{value}”不存在，可选：{'、'.join(vocab.categories)}")
    if key == "classification" and value not in vocab.classifications:
        raise QuerySyntaxError(f"密级“{value}”不存在，可选：{'、'.join(vocab.classifications)}")
    if key == "retention":  # a code (D30) or a name (定期30年)
        value = {n: c for c, n in vocab.retentions.items()}.get(value, value.upper())
        if value not in vocab.retentions:
            raise QuerySyntaxError(f"保管期限“{value}”不存在，可选："
                                   f"{'、'.join(f'{n}（{c}）' for c, n in vocab.retentions.items())}")
    if key == "fonds_no":
        value = value.upper()
    if key == "archive_no":
        value = value.upper()
    if key == "title":
        value = for_search(value)
    return Filter(key, value)


def _atom(token: str, quoted: bool, vocab: Vocabulary) -> Term | Filter:
    if not quoted:
        name, sep, value = token.partition(":") if ":" in token else token.partition("：")
        if sep and name in FIELDS:
            return _field_filter(name, value, vocab)
        if sep and name and not value:
            raise QuerySyntaxError(f"“{token}”：未知的筛选字段“{name}”，可用：档号、题名、门类、单位、年度、密级、全宗、保管期限")
        if ARCHIVE_NO.fullmatch(token) and any(ch.isdigit() for ch in token):
            return Filter("archive_no", token.upper())
    text = for_search(token)
    if not text.strip():
        raise QuerySyntaxError(f"“{token}”中没有可检索的文字")
    return Term(" ".join(text.split()) if quoted else text, phrase=quoted)


def parse(raw: str, vocab: Vocabulary = SEED_VOCABULARY) -> Query:
    """The query tree of `raw`; QuerySyntaxError says what is wrong. `vocab` holds the 门类,
    密级 and 保管期限 a filter may name (the search passes the catalogue's)."""
    if len(raw) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(f"查询内容过长（最多 {MAX_QUERY_CHARS} 字）")
    tokens = _tokens(raw)
    if not tokens:
        raise QuerySyntaxError("请输入查询内容")
    query = Query()
    pending_or = negate_next = False
    for token, quoted in tokens:
        word = "" if quoted else token
        if word in ("OR", "|", "或"):
            if not query.groups or pending_or or negate_next:
                raise QuerySyntaxError("OR 两边都需要检索词（例如：迁移 OR 迁出）")
            pending_or = True
            continue
        if word in ("AND", "&"):
            if pending_or or negate_next or not (query.groups or query.excluded):
                raise QuerySyntaxError("AND 两边都需要检索词")
            continue
        if word == "NOT":
            if negate_next or pending_or:
                raise QuerySyntaxError("NOT 后面需要一个检索词")
            negate_next = True
            continue
        negative, negate_next = negate_next, False
        if token.startswith(("-", "－")) and not quoted:
            if len(token) == 1:
                raise QuerySyntaxError("“-”后面需要紧跟要排除的词（例如：户口 -迁移）")
            negative, token = True, token[1:]
        elif quoted and token.startswith("-"):
            negative, token = True, token[1:]
        atom = _atom(token, quoted, vocab)
        if negative:
            if pending_or:
                raise QuerySyntaxError("OR 后面不能直接跟排除条件")
            query.excluded.append(atom)
        elif pending_or:
            query.groups[-1].append(atom)
            pending_or = False
        else:
            query.groups.append([atom])
    if pending_or:
        raise QuerySyntaxError("OR 后面缺少检索词")
    if negate_next:
        raise QuerySyntaxError("NOT 后面缺少检索词")
    if not query.groups:
        raise QuerySyntaxError("只有排除条件：请至少输入一个要查找的词或一个筛选条件")
    return query
