"""Guarantee: no CSV the app writes carries a live spreadsheet formula (issue 9, item 6).

The attacker types `=HYPERLINK(...)` where the app will later write it into a CSV cell: as their
user name, their query and their purpose (the auditor's audit export) and as a document title
(the staff search export). Opened in Excel/WPS/LibreOffice, a cell starting with = + - @ tab or
CR runs as a formula; each must come out with a leading single quote, text otherwise intact.
"""
from __future__ import annotations

import csv
import io

import pytest

from search_app.csvsafe import FORMULA_STARTS, csv_text, safe_cell
from tests.conftest import login, meta

pytestmark = pytest.mark.integration

FORMULA = '=HYPERLINK("http://x","y")'
OTHERS = ["+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1"]


def _cells(body: str) -> list[list[str]]:
    assert body.startswith("\ufeff"), "the CSV lost its BOM (Excel would misread the Chinese)"
    return list(csv.reader(io.StringIO(body[1:], newline="")))


def _live_formulas(rows: list[list[str]]) -> list[str]:
    return [cell for row in rows for cell in row if cell.startswith(FORMULA_STARTS)]


@pytest.mark.parametrize("value", [FORMULA, *OTHERS])
def test_safe_cell_quotes_every_formula_start(value):
    assert safe_cell(value) == "'" + value
    assert _live_formulas(_cells(csv_text([[value, 7, "普通文本"]]))) == []
    assert _cells(csv_text([[-1, 0.5]])) == [["-1", "0.5"]], "numbers the app writes stay numbers"


def test_audit_export_neutralises_user_name_query_and_purpose(app, ctx, make_user, make_grant):
    attacker = make_user("staff", username=FORMULA)
    grant = make_grant(attacker, purpose="户籍核查")
    client = app.test_client()
    assert login(client, FORMULA).status_code == 302
    for q in (FORMULA, *OTHERS):
        resp = client.post("/search", follow_redirects=True, data={"grant_id": grant.id, "purpose": FORMULA, "q": q})
        assert resp.status_code in (200, 400, 403), resp.status_code  # 400: not a query (-2+3)
    auditor = app.test_client()
    assert login(auditor, make_user("auditor").username).status_code == 302
    resp = auditor.get("/audit/export.csv", query_string={"username": FORMULA})
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = _cells(resp.get_data(as_text=True))
    header, body = rows[0], rows[1:]
    assert body, "the attacker's records are missing from the export"
    live = _live_formulas(rows)
    assert not live, f"LIVE FORMULA in the audit export (would run in the auditor's spreadsheet): {live[:5]}"
    col = {name: header.index(name) for name in ("username", "query", "purpose")}
    searches = [r for r in body if r[header.index("action")] == "search"]
    assert {r[col["username"]] for r in body} == {"'" + FORMULA}, "user name not neutralised as written"
    assert {r[col["purpose"]] for r in searches} == {"'" + FORMULA}, "purpose not neutralised as written"
    assert "'" + FORMULA in {r[col["query"]] for r in searches}, "query not neutralised as written"


def test_search_export_neutralises_titles_and_snippets(app, ctx, ingest, make_user, make_grant):
    progress, _ = ingest([meta("CSV-0001", title=FORMULA,
                               pages=[["=HYPERLINK(\"http://x\",\"y\") 公式注入测试页 内容足够长足够长"]])])
    assert progress.files_failed == 0, progress.errors
    user = make_user("staff")
    grant = make_grant(user)
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    resp = client.post("/search/export", data={"grant_id": grant.id, "purpose": FORMULA,
                                               "q": "公式注入测试页"})
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    rows = _cells(resp.get_data(as_text=True))
    live = _live_formulas(rows)
    assert not live, f"LIVE FORMULA in the search export: {live[:5]}"
    [hit] = [r for r in rows[2:] if r[0] == "CSV-0001"]
    assert hit[1] == "'" + FORMULA, f"title cell not neutralised as written: {hit[1]!r}"
