"""The auditor's 按值查找 is a hashing oracle (type a candidate ID, see whether the log names it):
limited to AUDIT_MATCH_MAX_PER_DAY distinct values per auditor and day, refusals in Chinese,
recorded and flagged, also when the guesses are sent in parallel. Each test names what it let
through."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api_check import api_fixture
from tests.conftest import audit_records, signed_in_client
from tests.privacy_data import id_number

pytestmark = pytest.mark.integration
api = api_fixture(set())


def _candidates(n: int) -> list[str]:
    """What a guessing auditor types: one region and birth date, every sequence number."""
    return [id_number("110105", "19900307", f"{i:03d}") for i in range(n)]


def test_matches_above_the_daily_limit_are_refused_recorded_and_flagged(app, ctx, make_user, api,
                                                                        monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_MATCH_MAX_PER_DAY", 2)
    auditor = make_user("auditor")
    client = signed_in_client(app, auditor)
    one, two, three = _candidates(3)
    for value in (one, two, one):  # repeating a value matched today is free
        resp = client.post("/audit/match", data={"value": value})
        assert resp.status_code == 302 and "pii=" in resp.location, resp.status_code
    refused = client.post("/audit/match", data={"value": three})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 429 and "按值查找超过每日上限" in body, \
        f"a third distinct value was matched (status {refused.status_code})"
    assert three not in body and three[6:] not in refused.headers.get("Location", "")
    over_api = api(auditor).post("/api/v1/audit/match", json={"value": three})
    assert over_api.status_code == 429 and "上限" in over_api.get_json()["message"], \
        "the API's match is a second, unlimited oracle"
    records = audit_records("audit.match", username=auditor.username)
    assert [r.outcome for r in records] == ["allowed", "allowed", "allowed", "denied", "denied"], \
        [r.outcome for r in records]
    for rec in records[3:]:
        assert not rec.filters.get("pii"), f"a refused match kept the hashes {rec.filters}"
        assert three not in f"{rec.query} {rec.reason} {rec.filters}"
    page = client.get("/audit/anomalies").get_data(as_text=True)
    assert "按值查找超限被拒" in page, "refused matches are not flagged"


def test_parallel_matches_cannot_share_the_last_slot(app, ctx, make_user, monkeypatch):
    """Eight guesses sent at once (eight signed-in browsers of one auditor) against a limit of
    two: the count is read again under the audit chain's lock, so exactly two are hashed."""
    monkeypatch.setitem(app.config, "AUDIT_MATCH_MAX_PER_DAY", 2)
    auditor = make_user("auditor")
    values = _candidates(8)
    clients = [signed_in_client(app, auditor) for _ in values]
    start = threading.Barrier(len(values))

    def one(pair) -> str:
        client, value = pair
        start.wait(timeout=120)
        resp = client.post("/audit/match", data={"value": value})
        if resp.status_code == 302:
            return "allowed"
        assert resp.status_code == 429 and "上限" in resp.get_data(as_text=True), resp.status_code
        return "refused"

    with ThreadPoolExecutor(len(values)) as pool:
        outcomes = list(pool.map(one, zip(clients, values)))
    assert outcomes.count("allowed") == 2, (
        f"ALLOWED {outcomes.count('allowed')} distinct matches in parallel, the limit is 2")
    allowed = [r for r in audit_records("audit.match", username=auditor.username)
               if r.outcome == "allowed"]
    assert len(allowed) == 2, [r.filters for r in allowed]
