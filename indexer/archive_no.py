"""档号 structure (DA/T 13-2022): a configurable pattern per 全宗/门类, e.g.

    {全宗号}-{门类代码}·{年度}-{保管期限}-{件号}      →  0001-HJ·2023-Y-0012

Placeholders name the parts; everything else is literal. A pure stage: it checks one manifest
row's 档号 against the rules it is given and returns the parts (indexed as fields) or the reason
in Chinese. Which rules exist is the catalogue's business (search_app.catalogue).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# placeholder → (part name in the index, regular expression of the part)
PARTS: dict[str, tuple[str, str]] = {
    "全宗号": ("fonds_no", r"[0-9A-Z]{1,8}"),
    "门类代码": ("category_code", r"[A-Z]{1,6}"),
    "年度": ("year", r"(?:1[89]|20)\d\d"),
    "保管期限": ("retention", r"Y|D\d{1,3}"),
    "机构问题代码": ("org_code", r"[0-9A-Z]{1,8}"),
    "案卷号": ("volume_no", r"\d{1,6}"),
    "件号": ("item_no", r"\d{1,6}"),
}
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
EXAMPLE = {"fonds_no": "0001", "category_code": "HJ", "year": "2023", "retention": "Y",
           "org_code": "BGS", "volume_no": "0001", "item_no": "0012"}


class PatternError(ValueError):
    """The pattern itself is unusable; the message says why."""


@dataclass(frozen=True)
class Rule:
    fonds_code: str  # "" = any 全宗
    category_code: str
    pattern: str


def compile_pattern(pattern: str) -> re.Pattern[str]:
    names = PLACEHOLDER.findall(pattern)
    unknown = [n for n in names if n not in PARTS]
    if unknown:
        raise PatternError(f"档号规则含未知的部分：{'、'.join(unknown)}（可用：{'、'.join(PARTS)}）")
    if len(set(names)) != len(names):
        raise PatternError("档号规则中每个部分只能出现一次")
    for required in ("全宗号", "门类代码", "件号"):
        if required not in names:
            raise PatternError(f"档号规则必须包含 {{{required}}}（DA/T 13-2022：档号由全宗号、门类代码等与件号组成）")
    out, pos = [], 0
    for m in PLACEHOLDER.finditer(pattern):
        out.append(re.escape(pattern[pos:m.start()]))
        key, rx = PARTS[m.group(1)]
        out.append(f"(?P<{key}>{rx})")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    return re.compile("".join(out))


def example(pattern: str, fonds_code: str = "", category_code: str = "") -> str:
    """A 档号 following `pattern` (with the rule's own 全宗号 and 门类代码 when given)."""
    values = {**EXAMPLE, **({"fonds_no": fonds_code} if fonds_code else {}),
              **({"category_code": category_code} if category_code else {})}
    return PLACEHOLDER.sub(lambda m: values[PARTS[m.group(1)][0]], pattern)


def _applies(rule_fonds: str, fonds_no: str, archive_no: str) -> bool:
    if not rule_fonds:
        return True
    if fonds_no:
        return fonds_no == rule_fonds
    head = re.match(r"[0-9A-Za-z]+", archive_no)
    return bool(head) and head.group(0).upper() == rule_fonds


def check(archive_no: str, *, category_code: str, year: int, fonds_no: str,
          rules: tuple[Rule, ...], fonds: tuple[str, ...], retentions: tuple[str, ...]
          ) -> tuple[dict[str, str], str]:
    """(parts, "") when `archive_no` follows a rule of its 门类, else ({}, why). A rule of one
    全宗 applies to the rows of that 全宗: the row's 全宗号, or (none given) the 档号's first part,
    which DA/T 13 makes the 全宗号; a rule without a 全宗 applies to every row of the 门类. A row
    no rule applies to keeps a free-form 档号 (parts empty)."""
    mine = [r for r in rules if r.category_code == category_code
            and _applies(r.fonds_code, fonds_no, archive_no)]
    if not mine:
        return ({"fonds_no": fonds_no} if fonds_no else {}), ""
    for rule in mine:
        m = compile_pattern(rule.pattern).fullmatch(archive_no)
        if m is None:
            continue
        parts = {k: v for k, v in m.groupdict().items() if v is not None}
        if parts["category_code"] != category_code:
            return {}, f"档号中的门类代码 {parts['category_code']} 与门类（代码 {category_code}）不符"
        if "year" in parts and int(parts["year"]) != year:
            return {}, f"档号中的年度 {parts['year']} 与年度 {year} 不符"
        if parts["fonds_no"] not in fonds:
            return {}, f"档号中的全宗号 {parts['fonds_no']} 不在档案目录中"
        if rule.fonds_code and parts["fonds_no"] != rule.fonds_code:
            continue
        if fonds_no and parts["fonds_no"] != fonds_no:
            return {}, f"档号中的全宗号 {parts['fonds_no']} 与所填全宗号 {fonds_no} 不符"
        if "retention" in parts and parts["retention"] not in retentions:
            return {}, (f"档号中的保管期限 {parts['retention']} 不在档案目录中"
                        f"（可选：{'、'.join(retentions)}）")
        return parts, ""
    shown = "；".join(f"{r.pattern}（例：{example(r.pattern, r.fonds_code, r.category_code)}）"
                     for r in mine)
    return {}, f"档号“{archive_no}”不符合该门类的档号规则：{shown}"
