"""Guarantee (issue 8, requirement 4): no ID number, phone or name typed into a query, a purpose
or any other free-text field reaches the audit log, its listing or its CSV in plaintext; each
value is kept as a keyed hash so an auditor can still see who searched the same value, and can
find them by typing the value (hashed on the server, never stored, never in a URL)."""
from __future__ import annotations

from urllib.parse import unquote

import pytest
from sqlalchemy import func, select

from search_app.audit.models import AuditRecord
from search_app.audit.redaction import PII_HMACS, value_hmac
from search_app.audit.service import Actor, Event, record_event, verify_chain
from search_app.db import get_session
from search_app.search import lookup_pii
from tests.conftest import login, meta
from tests.privacy_data import ADDRESS_A, ID_A, ID_B, NAME_A, PHONE_A

pytestmark = pytest.mark.integration

RAW = {"ID number": ID_A, "phone": PHONE_A, "name": NAME_A}


def _leaks(blob: str, values: dict[str, str] = RAW) -> list[str]:
    return [f"{kind} {v}" for kind, v in values.items() if v in blob]


def _new_records(since: int) -> list[AuditRecord]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(AuditRecord).where(AuditRecord.seq > since)
                                .order_by(AuditRecord.seq)).scalars())


def _last_seq() -> int:
    return get_session().execute(select(func.coalesce(func.max(AuditRecord.seq), 0))).scalar_one()


@pytest.fixture()
def reader(ctx, app, make_user, make_grant, ingest):
    ingest([meta("PA-0001", pages=[["审计脱敏测试页面 内容足够长以使用文本层 户籍登记"]])])
    user = make_user("staff")
    grant = make_grant(user, unmask_fields=["id_number"], allow_lookup=True)
    client = app.test_client()
    assert login(client, user.username).status_code == 302
    return user, grant, client


@pytest.fixture()
def auditor(app, make_user):
    client = app.test_client()
    assert login(client, make_user("auditor").username).status_code == 302
    return client


def test_search_query_and_purpose_are_stored_masked_with_hashes(reader):
    user, grant, client = reader
    since = _last_seq()
    resp = client.post("/search", follow_redirects=True, data={"grant_id": grant.id, "q": f"{ID_A} 户籍",
                                        "purpose": f"核实{NAME_A}的登记，联系电话{PHONE_A}"})
    assert resp.status_code == 200
    [rec] = [r for r in _new_records(since) if r.action == "search"]
    blob = f"{rec.query} {rec.purpose} {rec.reason} {rec.filters}"
    assert not _leaks(blob), f"LEAKED into audit record #{rec.seq}: {_leaks(blob)} — {blob}"
    assert rec.query.startswith(ID_A[:6]) and "*" in rec.query, f"query not masked: {rec.query!r}"
    assert "王*" in rec.purpose and "139****5678" in rec.purpose, rec.purpose
    assert value_hmac("id_number", ID_A) in rec.filters[PII_HMACS]
    assert value_hmac("phone", PHONE_A) in rec.filters[PII_HMACS]
    assert value_hmac("name", NAME_A) in rec.filters[PII_HMACS]
    assert verify_chain(get_session()).ok, "a masked record must still verify in the chain"


def test_strings_inside_filters_and_reasons_are_masked(ctx):
    since = _last_seq()
    record_event(Actor(None, "system", "system"),
                 Event(action="ingest.job_started", outcome="denied",
                       reason=f"清单第 3 行当事人身份证号 {ID_B} 与文件不符",
                       filters={"batch": "20260101-ab", "note": [f"住址 {ADDRESS_A}"],
                                "nested": {"who": f"申请人 {NAME_A}"}, "count": 3}))
    [rec] = _new_records(since)
    blob = f"{rec.reason} {rec.filters}"
    leaks = _leaks(blob, {"ID number": ID_B, "address": ADDRESS_A, "name": NAME_A})
    assert not leaks, f"LEAKED into a record's reason/filters: {leaks} — {blob}"
    assert rec.filters["count"] == 3 and rec.filters["batch"] == "20260101-ab"
    assert value_hmac("id_number", ID_B) in rec.filters[PII_HMACS]


def test_audit_listing_and_csv_show_masked_text_and_the_hash(reader, auditor):
    user, grant, client = reader
    client.post("/search", follow_redirects=True, data={"grant_id": grant.id, "q": ID_A, "purpose": f"核实{NAME_A}"})
    page = auditor.get(f"/audit/?username={user.username}").get_data(as_text=True)
    assert not _leaks(page), f"LEAKED in the audit listing: {_leaks(page)}"
    assert value_hmac("id_number", ID_A) in page, "the listing must show the value's hash"
    csv = auditor.get(f"/audit/export.csv?username={user.username}").get_data(as_text=True)
    assert not _leaks(csv), f"LEAKED in the audit CSV: {_leaks(csv)}"
    header = csv.lstrip("\ufeff").splitlines()[0].split(",")
    assert "pii_hmacs" in header and value_hmac("id_number", ID_A) in csv


def test_auditor_finds_everyone_who_searched_one_id(app, ctx, reader, make_user, make_grant, auditor):
    """"The same ID was searched by three users": by search, by purpose and by exact look-up."""
    _, _, _ = reader
    users = []
    for n, how in enumerate(("query", "purpose", "lookup")):
        user = make_user("staff")
        grant = make_grant(user, unmask_fields=["id_number"], allow_lookup=True)
        if how == "lookup":
            lookup_pii(user=user, grant_id=grant.id, purpose="核实户籍", kind="id_number", value=ID_A)
        else:
            client = app.test_client()
            login(client, user.username)
            q, purpose = (ID_A, "核实") if how == "query" else ("户籍", f"核实{ID_A}的户籍")
            assert client.post("/search", follow_redirects=True, data={"grant_id": grant.id, "q": q,
                                                "purpose": purpose}).status_code == 200
        users.append(user.username)
    other = make_user("staff")  # a different ID: must not match
    lookup_pii(user=other, grant_id=make_grant(other, unmask_fields=["id_number"],
                                               allow_lookup=True).id,
               purpose="核实", kind="id_number", value=ID_B)
    before = _last_seq()
    resp = auditor.post("/audit/match", data={"value": f"{ID_A[:6]} {ID_A[6:]}", "action": ""})
    assert resp.status_code == 302
    target = unquote(resp.headers["Location"])
    assert ID_A not in target and ID_A[6:] not in target, f"LEAKED the typed value into a URL: {target}"
    [match] = _new_records(before)  # the match is audited (and limited), by its hashes only
    assert match.action == "audit.match" and match.filters.get("pii"), match.filters
    blob = f"{match.query} {match.purpose} {match.reason} {match.filters}"
    assert ID_A not in blob and ID_A[6:] not in blob, f"the match record keeps the value: {blob}"
    page = auditor.get(resp.headers["Location"]).get_data(as_text=True)
    found = {u for u in users if f">{u}<" in page}
    assert found == set(users), f"auditor's value match missed {set(users) - found}"
    assert f">{other.username}<" not in page, "a record of a different ID matched"
    assert ID_A not in page
    view = _new_records(before)[-1]
    assert view.action == "audit.view" and ID_A not in str(view.filters), \
        f"LEAKED the auditor's typed value into their own audit.view record: {view.filters}"


def test_malformed_hash_filter_is_refused_in_chinese(auditor):
    resp = auditor.get("/audit/?pii=110105199003071239")
    assert resp.status_code == 400 and "值哈希的格式不正确" in resp.get_data(as_text=True)


def test_machine_values_in_filters_are_kept_as_written(ctx):
    """Hashes and batch ids may hold long digit runs; masking them would break the matching."""
    since = _last_seq()
    digits = "1234567890123456"
    record_event(Actor(None, "system", "system"),
                 Event(action="pii.lookup", outcome="allowed",
                       filters={"value_hmac": digits, "batch": f"20260101-{digits}{digits}",
                                "target": "bad-12345678", "note": f"电话 {PHONE_A}"}))
    [rec] = _new_records(since)
    assert rec.filters["value_hmac"] == digits and rec.filters["batch"].endswith(digits)
    assert rec.filters["target"] == "bad-12345678", "an account name in filters was masked"
    assert PHONE_A not in str(rec.filters)
