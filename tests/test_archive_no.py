"""档号 patterns (DA/T 13-2022) as a pure stage: what a rule accepts, and the reason it gives
for each way a 档号 can be wrong."""
from __future__ import annotations

import pytest

from indexer.archive_no import PatternError, Rule, check, compile_pattern, example
from indexer.manifest import parse_manifest_text
from indexer.vocab import Vocabulary

PATTERN = "{全宗号}-{门类代码}·{年度}-{保管期限}-{件号}"
RULES = (Rule("Q01", "HJ", PATTERN),)
FONDS = ("Q01", "Q02")
RETENTIONS = ("Y", "D30", "D10")


def _check(no: str, *, code: str = "HJ", year: int = 2023, fonds_no: str = ""):
    return check(no, category_code=code, year=year, fonds_no=fonds_no, rules=RULES, fonds=FONDS,
                 retentions=RETENTIONS)


def test_a_valid_archive_no_yields_its_parts():
    parts, why = _check("Q01-HJ·2023-D30-0012")
    assert why == ""
    assert parts == {"fonds_no": "Q01", "category_code": "HJ", "year": "2023", "retention": "D30",
                     "item_no": "0012"}


@pytest.mark.parametrize("no,year,reason", [
    ("Q01-HJ·2022-Y-0001", 2023, "年度 2022 与年度 2023 不符"),
    ("Q01-HJ·2023-D20-0001", 2023, "保管期限 D20 不在档案目录中"),
    ("Q01-HJ-2023-Y-0001", 2023, "不符合该门类的档号规则"),       # wrong separator
    ("Q01-HJ·2023-Y-", 2023, "不符合该门类的档号规则"),            # no 件号
    ("Q01-HJ·2023-Y-0001 ", 2023, "不符合该门类的档号规则"),       # trailing junk
    ("Q01-GB·2023-Y-0001", 2023, "门类代码 GB 与门类（代码 HJ）不符"),
])
def test_each_wrong_archive_no_is_refused_with_its_reason(no, year, reason):
    parts, why = _check(no, year=year)
    assert reason in why, f"{no!r}: got {why!r}"
    assert parts == {}


def test_a_rule_of_one_fonds_leaves_other_fonds_and_free_archive_nos_alone():
    assert _check("HJ-2020-0001") == ({}, "")            # no rule applies: legacy free form
    assert _check("Q02-ANYTHING", fonds_no="Q02") == ({"fonds_no": "Q02"}, "")
    assert "不符合" in _check("Q01/HJ/1", fonds_no="Q01")[1]  # the row says 全宗 Q01


def test_unknown_fonds_in_a_rule_for_every_fonds():
    parts, why = check("Q09-HJ·2023-Y-0001", category_code="HJ", year=2023, fonds_no="",
                       rules=(Rule("", "HJ", PATTERN),), fonds=FONDS, retentions=RETENTIONS)
    assert "全宗号 Q09 不在档案目录中" in why and parts == {}


@pytest.mark.parametrize("pattern,reason", [
    ("{全宗号}-{门类代码}-{序号}", "未知的部分：序号"),
    ("{全宗号}-{门类代码}", "必须包含 {件号}"),
    ("{全宗号}-{门类代码}-{件号}-{件号}", "只能出现一次"),
])
def test_unusable_patterns_are_refused(pattern, reason):
    with pytest.raises(PatternError, match=reason.replace("{", r"\{").replace("}", r"\}")):
        compile_pattern(pattern)


def test_example_follows_its_pattern():
    assert compile_pattern(PATTERN).fullmatch(example(PATTERN))


def test_manifest_row_refused_alone_and_parts_kept():
    vocab = Vocabulary(fonds=FONDS, rules=RULES)
    rows = parse_manifest_text(
        "档号,题名,门类,单位,年度,密级,文件名,保管期限\n"
        "Q01-HJ·2023-Y-0001,甲,户籍档案,某单位,2023,内部,a.pdf,永久\n"
        "Q01-HJ·2023-Y-0002,乙,户籍档案,某单位,2024,内部,b.pdf,\n"
        "Q01-HJ·2023-D10-0003,丙,户籍档案,某单位,2023,内部,c.pdf,Y\n", "m.csv", vocab)
    ok, year_bad, retention_bad = rows
    assert ok.meta and ok.meta.fonds_no == "Q01" and ok.meta.retention == "Y" \
        and ok.meta.item_no == "0001" and ok.meta.category_code == "HJ"
    assert year_bad.meta is None and year_bad.error.startswith("第 3 行") and "年度" in year_bad.error
    assert retention_bad.meta is None and "保管期限 Y 与档号中的保管期限 D10 不符" in retention_bad.error
