"""利用登记 (issue 13, requirement 3) from a scripted reading session against the real services:
one entry per session naming who, unit, purpose and category, approval reference, the files and
pages viewed and exported and the copies made; the entry stays after the grant ends; the
records office head annotates the outcome; monthly statistics with a chart, CSV and XLSX
exports; auditors and the head see it, staff do not; no page content in any of it."""
from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from search_app.db import get_session
from search_app.register.models import UseEntry
from search_app.timeutil import utcnow
from tests.conftest import audit_records, meta, signed_in_client
from tests.test_reading_sessions import open_session

pytestmark = pytest.mark.integration

FILE = "REG-2019-0001"
OTHER = "REG-2019-0002"
PHRASE = "利用登记脚本会话"
ID = "110105198203041238"
SECRET_LINE = f"公民身份号码 {ID}"


@pytest.fixture()
def corpus(ingest):
    progress, _ = ingest([
        meta(FILE, year=2019, pages=[[f"{PHRASE} 第一页 {SECRET_LINE} 内容足够长以使用文本层"],
                                     [f"{PHRASE} 第二页 附件材料 内容足够长以使用文本层"]]),
        meta(OTHER, year=2019, pages=[[f"{PHRASE} 另一卷 第一页 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors


def _entry(sid: str) -> UseEntry:
    session = get_session()
    session.expire_all()
    [entry] = session.query(UseEntry).filter_by(session_id=sid).all()
    return entry


def _scripted_session(app, staff, grant) -> str:
    """Search, view two pages of one file and one of another, export one page, close."""
    client = signed_in_client(app, staff)
    sid = open_session(client, grant.id, purpose="核实户籍登记情况")
    assert client.get(f"/search?s={sid}&q={quote(PHRASE)}").status_code == 200
    for doc in (f"{FILE}#p0001", f"{FILE}#p0002", f"{OTHER}#p0001"):
        assert client.get(f"/pages/{quote(doc)}?s={sid}").status_code == 200, doc
    resp = client.post("/reading/export.pdf", data={"s": sid, "doc": [f"{FILE}#p0002"]})
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    assert client.post("/reading/close", data={"s": sid}).status_code in (302, 303)
    return sid


def test_one_entry_per_session_with_what_was_used(app, ctx, corpus, make_user, make_grant):
    staff = make_user("staff", unit="北京市公安局海淀分局")
    grant = make_grant(staff, purpose="户籍核查")
    sid = _scripted_session(app, staff, grant)
    head = make_user("records_head")
    page = signed_in_client(app, head).get("/register/")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert f'data-session="{sid}"' in body, "the session has no register entry"
    entry = _entry(sid)
    assert (entry.username, entry.unit, entry.approval_ref) == (
        staff.username, "北京市公安局海淀分局", grant.ref)
    assert entry.purpose == "核实户籍登记情况" and entry.purpose_category == grant.purpose_category
    assert entry.categories == ["户籍档案"] and entry.final, entry.categories
    assert entry.files == [FILE, OTHER], f"files used: {entry.files}"
    assert set(entry.pages_viewed) == {f"{FILE}#p0001", f"{FILE}#p0002", f"{OTHER}#p0001"}
    assert entry.pages_exported == [f"{FILE}#p0002"] and entry.copies == 1
    assert entry.searches == 1
    # traceable: every record it was built from names the session
    recs = {r.seq: r for a in ("page.view", "export.pdf", "search", "reading.open")
            for r in audit_records(a, user_id=staff.id)}
    assert set(entry.audit_seqs) <= set(recs) | {r.seq for r in audit_records("reading.close")}
    assert all(recs[s].filters.get("reading_session") == sid for s in entry.audit_seqs if s in recs)
    assert ID not in body and SECRET_LINE not in body, "LEAK: page content on the register page"
    # a second view builds no second entry
    signed_in_client(app, head).get("/register/")
    assert get_session().query(UseEntry).filter_by(session_id=sid).count() == 1
    assert audit_records("register.view", username=head.username)[-1].outcome == "allowed"


def test_entry_survives_grant_expiry_and_takes_the_outcome(app, ctx, corpus, make_user, make_grant):
    staff = make_user("staff")
    grant = make_grant(staff)
    sid = _scripted_session(app, staff, grant)
    head = make_user("records_head")
    client = signed_in_client(app, head)
    client.get("/register/")
    before = _entry(sid)
    snapshot = (before.files, before.pages_viewed, before.approval_ref, before.purpose)
    session = get_session()
    grant.valid_until = utcnow() - timedelta(minutes=1)  # the grant has run out
    session.commit()
    assert f'data-session="{sid}"' in client.get("/register/").get_data(as_text=True)
    after = _entry(sid)
    assert (after.files, after.pages_viewed, after.approval_ref, after.purpose) == snapshot
    resp = client.post("/register/outcome", data={"entry_id": after.id,
                                                  "outcome": "核实了户主身份，出具证明一份"})
    assert resp.status_code == 303
    assert _entry(sid).outcome == "核实了户主身份，出具证明一份"
    assert _entry(sid).outcome_by == head.username
    [rec] = audit_records("register.annotate", username=head.username)
    assert rec.outcome == "allowed" and rec.filters["session"] == sid
    empty = client.post("/register/outcome", data={"entry_id": after.id, "outcome": " "})
    assert empty.status_code == 400 and "利用效果不能为空" in empty.get_data(as_text=True)


def test_statistics_chart_and_exports(app, ctx, corpus, make_user, make_grant):
    staff = make_user("staff", unit="北京市公安局海淀分局")
    sid = _scripted_session(app, staff, make_grant(staff, purpose="户籍核查"))
    auditor = make_user("auditor")
    client = signed_in_client(app, auditor)
    client.get("/register/")
    month = _entry(sid).opened_at and __import__("search_app.register.stats",
                                                 fromlist=["month_of"]).month_of(_entry(sid))
    stats = client.get(f"/register/stats?month={month}")
    assert stats.status_code == 200
    body = stats.get_data(as_text=True)
    bar = re.search(rf'<rect class="bar" data-month="{month}" data-count="(\d+)"', body)
    assert bar and int(bar.group(1)) >= 1, "the chart has no bar for this month"
    assert "<script" not in body and "cdn" not in body.lower()
    for table in ("by-unit", "by-category", "by-purpose"):
        assert f'id="{table}"' in body, f"no statistics table {table}"
    assert "北京市公安局海淀分局" in body and "户籍档案" in body

    resp = client.get(f"/register/export.csv?month={month}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    header, data = rows[0], rows[1:]
    mine = [r for r in data if sid in r]
    assert len(mine) == 1, "the CSV must have this session's entry once"
    row = dict(zip(header, mine[0]))
    assert row["利用档号"] == f"{FILE}、{OTHER}" and row["导出页数"] == "1" and row["复制件"] == "1"
    assert ID not in resp.get_data(as_text=True), "LEAK: page content in the CSV"

    resp = client.get(f"/register/export.xlsx?month={month}")
    assert resp.status_code == 200
    book = load_workbook(io.BytesIO(resp.data))
    assert book.sheetnames == ["利用登记", "月度统计"]
    cells = [[c.value for c in r] for r in book["利用登记"].iter_rows()]
    assert any(sid in r for r in cells), "the XLSX lacks the entry"
    summary = [[c.value for c in r] for r in book["月度统计"].iter_rows()]
    assert [month, "单位", "北京市公安局海淀分局"] in [r[:3] for r in summary]
    assert [r.filters["format"] for r in audit_records("register.export", username=auditor.username)] == ["csv", "xlsx"]


def test_staff_and_admins_do_not_see_the_register(app, ctx, make_user):
    for role in ("staff", "approver", "security_admin", "system_admin"):
        client = signed_in_client(app, make_user(role))
        for url in ("/register/", "/register/stats", "/register/export.csv"):
            resp = client.get(url)
            assert resp.status_code == 403, f"{role} reached {url}"
    auditor = signed_in_client(app, make_user("auditor"))
    resp = auditor.post("/register/outcome", data={"entry_id": 1, "outcome": "x"})
    assert resp.status_code == 403, "an auditor may read the register, not annotate it"


def test_formula_in_a_purpose_stays_text(app, ctx, corpus, make_user, make_grant):
    staff = make_user("staff")
    grant = make_grant(staff)
    client = signed_in_client(app, staff)
    sid = open_session(client, grant.id, purpose="=HYPERLINK(\"http://x\",\"y\")核实")
    client.post("/reading/close", data={"s": sid})
    resp = signed_in_client(app, make_user("auditor")).get("/register/export.csv")
    line = next(l for l in resp.get_data(as_text=True).splitlines() if sid in l)
    assert "'=HYPERLINK" in line, f"a formula reached the CSV unneutralised: {line}"
