"""Marking the query's words in a page's text (pure: no services)."""
from __future__ import annotations

from search_app.reading.highlight import highlight, query_terms


def test_marks_both_scripts_and_escapes_the_text():
    out = str(highlight("戶口遷移證明 <b>x</b> 户口迁移", "户口迁移"))
    assert out.count("<mark>") == 2, f"traditional and simplified forms are both marked: {out}"
    assert "<mark>戶口遷移</mark>" in out and "<mark>户口迁移</mark>" in out
    assert "&lt;b&gt;" in out and "<b>" not in out, "page text must be HTML-escaped"


def test_excluded_words_filters_and_bad_queries_mark_nothing():
    assert query_terms('户口 -证明 NOT 迁出 "迁移证明" 档号:HJ-2023 年度:2020') == ["迁移证明", "户口"]
    assert str(highlight("户口迁出证明", "户口 -证明")) == "<mark>户口</mark>迁出证明"
    assert str(highlight("户口 <迁移>", '"户口')) == "户口 &lt;迁移&gt;", "an unreadable query marks nothing"
    assert str(highlight("户口", "")) == "户口"


def test_overlapping_terms_make_one_mark():
    assert str(highlight("户口迁移证明", "户口迁移 迁移证明")) == "<mark>户口迁移证明</mark>"
