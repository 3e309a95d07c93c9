"""Adversarial replays (issue 8, requirements 3–4) of the free-text paths the first privacy
tests did not cover: the value typed where an account name belongs, in Chinese numerals or
full width, split by odd separators, typed into the use register's outcome note, into an
approver's decision note, or into a JSON body's nested field. Each test names what leaked."""
from __future__ import annotations

import re
import unicodedata

import pytest
from sqlalchemy import func, select

from search_app.audit.models import AuditRecord
from search_app.audit.redaction import PII_HMACS, value_hmac
from search_app.db import get_session
from tests.conftest import login, meta, signed_in_client
from tests.privacy_data import ID_A, NAME_A, PHONE_A

pytestmark = pytest.mark.integration

_CN = str.maketrans("〇零一二三四五六七八九壹贰叁肆伍陆柒捌玖", "0012345678912345678" + "9")


def folded_digits(text: str) -> str:
    """Every digit in `text` in one run, whatever its width, script or separator: the form an
    attacker reads a number back in."""
    text = unicodedata.normalize("NFKC", str(text)).translate(_CN).upper()
    return "".join(ch for ch in text if ch.isdigit() or ch == "X")


def leaks(blob: str) -> list[str]:
    """The secret parts readable in `blob`: an ID's birth date + sequence, a phone's middle."""
    found, digits = [], folded_digits(blob)
    if ID_A[6:] in digits:
        found.append(f"ID number {ID_A} (birth date and check digit {ID_A[6:]})")
    if PHONE_A[3:7] + PHONE_A[7:] in digits and PHONE_A in digits:
        found.append(f"phone {PHONE_A}")
    if NAME_A in blob:
        found.append(f"name {NAME_A}")
    return found


def _last_seq() -> int:
    return get_session().execute(select(func.coalesce(func.max(AuditRecord.seq), 0))).scalar_one()


def new_records(since: int) -> list[AuditRecord]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(AuditRecord).where(AuditRecord.seq > since)
                                .order_by(AuditRecord.seq)).scalars())


def _blob(rec: AuditRecord) -> str:
    return (f"{rec.username} {rec.query} {rec.purpose} {rec.reason} {rec.approval_ref} "
            f"{rec.filters} {rec.returned_ids}")


@pytest.mark.parametrize("typed", [ID_A, PHONE_A, f"{ID_A[:6]} {ID_A[6:14]} {ID_A[14:]}"])
def test_an_id_typed_as_the_account_name_of_a_failed_login_is_masked(app, ctx, typed):
    """People type their ID number or phone where the login form asks for the account."""
    since = _last_seq()
    client = app.test_client()
    assert login(client, typed, "wrong-password").status_code == 401
    recs = [r for r in new_records(since) if r.action == "auth.login"]
    assert recs, "the refused login was not audited"
    for rec in recs:
        assert not leaks(_blob(rec)), \
            f"LEAKED into login record #{rec.seq}: {leaks(_blob(rec))} — username {rec.username!r}"
    assert any(h in (recs[-1].filters or {}).get(PII_HMACS, [])
               for h in (value_hmac("id_number", ID_A), value_hmac("phone", PHONE_A))), \
        "the masked account name keeps no hash: an auditor cannot match it"


@pytest.mark.parametrize("typed", [
    "一一〇一〇五" + "".join("〇一二三四五六七八九"[int(d)] for d in ID_A[6:17]) + ID_A[17],
    unicodedata.normalize("NFKC", ID_A).translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789X"}),
    "-".join([ID_A[:6], ID_A[6:14], ID_A[14:]]),
    f"{ID_A[:6]}\u3000{ID_A[6:14]}\u3000{ID_A[14:].lower()}",
    f"{ID_A[:9]}·{ID_A[9:]}",
])
def test_an_id_in_any_form_in_a_query_or_purpose_is_masked(app, ctx, make_user, make_grant,
                                                             ingest, typed):
    ingest([meta("PX-0001", pages=[["攻击审计脱敏测试页 内容足够长以使用文本层 户籍登记"]])])
    user = make_user("staff")
    grant = make_grant(user, unmask_fields=["id_number"])
    client = signed_in_client(app, user)
    since = _last_seq()
    resp = client.post("/search", follow_redirects=True,
                       data={"grant_id": grant.id, "q": typed, "purpose": f"核实{typed}的户籍"})
    assert resp.status_code == 200
    recs = new_records(since)
    assert recs
    for rec in recs:
        assert not leaks(_blob(rec)), f"LEAKED {typed!r} into record #{rec.seq} ({rec.action}): {_blob(rec)}"


def test_the_use_register_outcome_note_is_kept_masked(app, ctx, ingest, make_user, make_grant):
    """利用效果 is free text the records office head types ("向王建国出具证明"); the register
    page, its CSV/XLSX and the annotate record must not keep the values typed into it."""
    from openpyxl import load_workbook
    import io

    from search_app.register.models import UseEntry
    from tests.test_reading_sessions import open_session

    ingest([meta("PX-REG-0001", pages=[["攻击利用登记测试页 内容足够长以使用文本层 户籍登记"]])])
    staff = make_user("staff")
    grant = make_grant(staff)
    client = signed_in_client(app, staff)
    sid = open_session(client, grant.id, purpose="核实户籍登记情况")
    assert client.post("/reading/close", data={"s": sid}).status_code in (302, 303)
    head = signed_in_client(app, make_user("records_head"))
    head.get("/register/")
    session = get_session()
    session.expire_all()
    [entry] = session.query(UseEntry).filter_by(session_id=sid).all()
    since = _last_seq()
    note = f"已向{NAME_A}（身份证{ID_A}，电话{PHONE_A}）出具证明一份"
    assert head.post("/register/outcome", data={"entry_id": entry.id, "outcome": note}).status_code == 303
    session.expire_all()
    stored = session.get(UseEntry, entry.id).outcome
    assert not leaks(stored), f"LEAKED into use_entries.outcome: {leaks(stored)} — {stored!r}"
    assert "出具证明一份" in stored, f"the note lost its words: {stored!r}"
    for rec in new_records(since):
        assert not leaks(_blob(rec)), f"LEAKED into record #{rec.seq}: {_blob(rec)}"
    [rec] = [r for r in new_records(since) if r.action == "register.annotate"]
    assert value_hmac("id_number", ID_A) in rec.filters.get(PII_HMACS, []), rec.filters
    page = head.get("/register/").get_data(as_text=True)
    assert not leaks(page), f"LEAKED on the register page: {leaks(page)}"
    csv = head.get("/register/export.csv").get_data(as_text=True)
    assert not leaks(csv), f"LEAKED in the register CSV: {leaks(csv)}"
    book = load_workbook(io.BytesIO(head.get("/register/export.xlsx").data))
    cells = " ".join(str(c.value) for ws in book for row in ws.iter_rows() for c in row)
    assert not leaks(cells), f"LEAKED in the register XLSX: {leaks(cells)}"


def test_a_manifest_value_echoed_in_an_ingest_error_is_masked(app, ctx, ingest, make_user):
    """A shifted CSV column puts the subject's ID where 年度 belongs: the refusal that names the
    bad value must not keep it on the file row, the job page or its progress JSON."""
    from search_app.ingest.models import IngestFile

    progress, job_id = ingest([meta("PX-ERR-0001", year=int(ID_A)),
                               meta("PX-ERR-0002", category=f"{NAME_A}{PHONE_A}")])
    assert progress.files_failed == 2, progress.errors
    session = get_session()
    session.expire_all()
    rows = session.query(IngestFile).filter(IngestFile.job_id == job_id).all()
    for f in rows:
        assert f.error and not leaks(f.error), f"LEAKED into ingest_files.error: {f.error!r}"
    assert any("年度" in f.error for f in rows), [f.error for f in rows]
    assert not leaks(str(progress.errors)), f"LEAKED into the job progress: {progress.errors}"
    sysadmin = signed_in_client(app, make_user("system_admin"))
    for url in (f"/ingest/jobs/{job_id}", f"/ingest/jobs/{job_id}/progress.json",
                f"/api/v1/ingest/jobs/{job_id}"):
        body = sysadmin.get(url).get_data(as_text=True)
        assert not leaks(body), f"LEAKED on {url}: {leaks(body)}"
