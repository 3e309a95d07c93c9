"""Guarantee (issue 8, requirement 3, look-up half): exact look-up cannot be used to recover a
value the grant may not see. It is allowed only for the kinds the grant unmasks, and only for
LOOKUP_MAX_DISTINCT_PER_DAY distinct values per grant and day; refusals say why in Chinese, are
audited and show up in the auditor's anomaly view. Replays the ID-recovery attack: the page
shows the region and (in its text) the birth date, and the attacker guesses the rest."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from search_app.audit.models import AuditRecord
from search_app.db import get_session
from search_app.search import ReadDenied, lookup_pii
from tests.conftest import login, meta
from tests.privacy_data import id_number

pytestmark = pytest.mark.integration

BIRTH = "19900307"
TRUE_ID = id_number("110105", BIRTH, "317")
PHONE = "13698765432"
DOC = "LP-0001#p0001"


@pytest.fixture()
def page(ingest):
    progress, _ = ingest([meta("LP-0001", pages=[[
        f"查找策略测试 户主 出生日期 {BIRTH[:4]}年{BIRTH[4:6]}月{BIRTH[6:]}日 "
        f"公民身份号码 {TRUE_ID} 联系电话 {PHONE} 内容足够长"]])])
    assert progress.files_failed == 0, progress.errors


def _candidates(n: int) -> list[str]:
    """What an attacker tries: the printed region and birth date, every sequence number."""
    return [id_number("110105", BIRTH, f"{s:03d}") for s in range(300, 300 + n)]


def _lookups(user) -> list[AuditRecord]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(AuditRecord).where(AuditRecord.user_id == user.id,
                                                          AuditRecord.action == "pii.lookup")
                                .order_by(AuditRecord.seq)).scalars())


def test_id_lookup_is_refused_at_once_when_the_grant_cannot_unmask_ids(ctx, page, make_user,
                                                                       make_grant):
    user = make_user("staff")
    grant = make_grant(user, allow_lookup=True, unmask_fields=["phone"])
    confirmed = []
    for candidate in [*_candidates(30), TRUE_ID]:
        try:
            out = lookup_pii(user=user, grant_id=grant.id, purpose="核实", kind="id_number",
                             value=candidate)
        except ReadDenied as exc:
            assert "未批准显示身份证号" in exc.reason, exc.reason
            continue
        if out.total:
            confirmed.append(candidate)
    assert not confirmed, (f"LEAK: ID look-up confirmed {confirmed} under a grant that may not "
                           "unmask ID numbers (ID recovery by look-up)")
    recs = _lookups(user)
    assert recs and all(r.outcome == "denied" for r in recs), "every refused look-up is audited"
    assert all(TRUE_ID not in f"{r.query}{r.filters}{r.reason}" for r in recs)
    # A name look-up needs 'name' unmaskable, like every other kind.
    with pytest.raises(ReadDenied, match="未批准显示姓名"):
        lookup_pii(user=user, grant_id=grant.id, purpose="核实", kind="name", value="王建国")
    # The kind it may unmask still works.
    out = lookup_pii(user=user, grant_id=grant.id, purpose="核实", kind="phone", value=PHONE)
    # other test modules' pages in the shared index may carry the same number
    assert "LP-0001#p0001" in {h.doc_id for h in out.hits}, \
        "the phone look-up the grant allows found nothing"


def test_brute_force_lookups_are_refused_after_the_daily_limit(app, ctx, page, make_user,
                                                               make_grant, monkeypatch):
    monkeypatch.setitem(app.config, "LOOKUP_MAX_DISTINCT_PER_DAY", 5)
    user = make_user("staff")
    grant = make_grant(user, allow_lookup=True, unmask_fields=["id_number"])
    wrong = [c for c in _candidates(40) if c != TRUE_ID]
    allowed, refused = [], []
    for candidate in [*wrong[:12], TRUE_ID]:
        try:
            lookup_pii(user=user, grant_id=grant.id, purpose="核实", kind="id_number",
                       value=candidate)
            allowed.append(candidate)
        except ReadDenied as exc:
            assert "精确查找超过每日上限" in exc.reason and "上限 5" in exc.reason, exc.reason
            refused.append(candidate)
    assert len(allowed) == 5, f"ALLOWED {len(allowed)} distinct look-ups, the limit is 5"
    assert TRUE_ID in refused, "LEAK: the true ID was confirmed after the daily limit"
    # A value already looked up today may be repeated: it reveals nothing new.
    lookup_pii(user=user, grant_id=grant.id, purpose="核实", kind="id_number", value=allowed[0])
    recs = _lookups(user)
    denied = [r for r in recs if r.outcome == "denied"]
    assert len(denied) == len(refused) and all("上限" in r.reason for r in denied)
    assert all(TRUE_ID not in f"{r.query}{r.filters}{r.reason}" for r in recs)
    auditor = make_user("auditor")
    client = app.test_client()
    login(client, auditor.username)
    page_html = client.get("/audit/anomalies").get_data(as_text=True)
    assert "精确查找超限被拒" in page_html and user.username in page_html, \
        "the refused brute force is not flagged in the anomaly view"


@pytest.mark.parametrize("kind,value,says", [
    ("id_number", "11010519800101123", "18 位"),            # 17 digits
    ("id_number", "110105198001011231", "校验不通过"),       # wrong check digit
    ("id_number", "110105801301123", "15 位身份证号"),       # month 13
    ("phone", "1391234567", "11 位"),
    ("bank_card", "6222021234567890124", "校验位"),
    ("bank_card", "62220212", "16–19 位"),
])
def test_a_value_that_cannot_exist_is_refused_as_bad_input_not_answered_none_found(
        app, ctx, make_user, make_grant, kind, value, says):
    """A typo answered 没有找到 reads as 'this person is not in the archive'."""
    from search_app.search import InvalidInput, lookup_pii

    user = make_user("staff")
    grant = make_grant(user, allow_lookup=True, unmask_fields=[kind])
    with pytest.raises(InvalidInput, match=says):
        lookup_pii(user=user, grant_id=grant.id, purpose="核实", kind=kind, value=value)
    client = app.test_client()
    from tests.conftest import login
    login(client, user.username)
    resp = client.post("/lookup", data={"grant_id": grant.id, "purpose": "核实", "kind": kind,
                                        "value": value})
    assert resp.status_code == 400 and says in resp.get_data(as_text=True)
    assert value not in resp.get_data(as_text=True).split("lookup-error")[-1], \
        "the refusal echoed the typed value"


def test_concurrent_lookups_cannot_share_the_last_slot_of_the_daily_limit(app, ctx, page, make_user,
                                                                           make_grant, monkeypatch):
    """The brute force run in parallel: eight new values at once against a budget of two. The
    count is read again under the audit chain's lock, so no two look-ups take the same slot."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    monkeypatch.setitem(app.config, "LOOKUP_MAX_DISTINCT_PER_DAY", 2)
    user = make_user("staff")
    grant = make_grant(user, allow_lookup=True, unmask_fields=["id_number"])
    values = [c for c in _candidates(20) if c != TRUE_ID][:8]
    start = threading.Barrier(len(values))

    def one(value: str) -> str:
        with app.app_context():
            try:
                start.wait(timeout=60)
                lookup_pii(user=get_session().get(type(user), user.id), grant_id=grant.id,
                           purpose="核实", kind="id_number", value=value)
                return "allowed"
            except ReadDenied as exc:
                assert "上限" in exc.reason, exc.reason
                return "refused"

    with ThreadPoolExecutor(len(values)) as pool:
        outcomes = list(pool.map(one, values))
    assert outcomes.count("allowed") == 2, (
        f"ALLOWED {outcomes.count('allowed')} distinct look-ups in parallel, the limit is 2")
    allowed = [r for r in _lookups(user) if r.outcome == "allowed"]
    assert len({r.filters["value_hmac"] for r in allowed}) == 2
