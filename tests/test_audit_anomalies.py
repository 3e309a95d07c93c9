"""Anomaly flags for the auditor (pure function over records) and the scheduled chain check
that raises an alert record when the chain is broken."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from search_app.audit.anomalies import find_anomalies
from search_app.audit.models import AuditRecord
from search_app.audit.service import Actor, Event, record_event
from search_app.db import get_session
from tests.conftest import login

CFG = {"AUDIT_TIMEZONE": "Asia/Shanghai", "AUDIT_WORK_HOURS": (8, 19), "AUDIT_BURST_READS": 5,
       "AUDIT_BURST_MINUTES": 5, "AUDIT_LOOKUPS_PER_DAY": 3, "AUDIT_DENIALS": 3,
       "AUDIT_DENIALS_MINUTES": 10}
NOON_BEIJING = datetime(2026, 11, 20, 4, 0)  # 12:00 in Asia/Shanghai, stored as naive UTC


@dataclass
class Rec:
    seq: int
    ts: datetime
    username: str = "zhang"
    action: str = "search"
    outcome: str = "allowed"
    reason: str = ""
    filters: dict = field(default_factory=dict)


def _series(n: int, step_s: float, **kw) -> list[Rec]:
    return [Rec(i + 1, NOON_BEIJING + timedelta(seconds=i * step_s), **kw) for i in range(n)]


def kinds(recs) -> list[str]:
    return [f.kind for f in find_anomalies(recs, CFG)]


def test_quiet_daytime_reading_raises_no_flag():
    assert kinds(_series(4, 60)) == []
    assert kinds(_series(20, 120)) == [], "reads spread out are not a burst"


def test_a_burst_is_one_flag_covering_every_read():
    flags = find_anomalies(_series(12, 10), CFG)
    assert [f.kind for f in flags] == ["burst"]
    assert flags[0].seqs == list(range(1, 13)) and "12 次" in flags[0].detail


def test_off_hours_reads_are_flagged_in_local_time():
    night = [Rec(1, datetime(2026, 11, 20, 15, 30))]  # 23:30 in Beijing
    assert kinds(night) == ["off_hours"]
    assert kinds([Rec(1, datetime(2026, 11, 20, 10, 30))]) == []  # 18:30 in Beijing


def test_many_distinct_lookups_in_a_day():
    recs = [Rec(i, NOON_BEIJING + timedelta(minutes=10 * i), action="pii.lookup",
                filters={"value_hmac": f"h{i % 4}"}) for i in range(1, 9)]
    flags = find_anomalies(recs, CFG)
    assert [f.kind for f in flags] == ["lookups"] and "4 个不同的值" in flags[0].detail
    same = [Rec(i, NOON_BEIJING + timedelta(minutes=10 * i), action="pii.lookup",
                filters={"value_hmac": "h"}) for i in range(1, 9)]
    assert kinds(same) == [], "repeating one look-up is not many distinct look-ups"


def test_repeated_denials():
    assert kinds(_series(3, 60, outcome="denied")) == ["denials"]
    assert kinds(_series(3, 400, outcome="denied")) == []


@pytest.mark.integration
def test_scheduled_verify_raises_an_alert_the_auditor_sees(app, ctx, make_user):
    from workers.celery_app import celery_init_app  # noqa: F401 - the schedule lives there
    from workers.tasks import verify_audit_chain

    schedule = app.extensions["celery"].conf.beat_schedule
    assert schedule["verify-audit-chain"]["task"] == "workers.tasks.verify_audit_chain"
    assert schedule["verify-audit-chain"]["schedule"] == 60 * app.config["AUDIT_VERIFY_MINUTES"]
    assert verify_audit_chain.run()["ok"] is True
    rec = record_event(Actor(None, "x", "staff"), Event(action="search", outcome="allowed", query="原始"))
    session = get_session()
    session.execute(text("UPDATE audit_records SET query = '篡改' WHERE seq = :s"), {"s": rec.seq})
    session.commit()
    try:
        result = verify_audit_chain.run()
        assert result["ok"] is False and any(str(rec.seq) in p for p in result["problems"])
        alert = session.execute(select(AuditRecord).where(AuditRecord.action == "audit.alert")
                                .order_by(AuditRecord.seq.desc())).scalars().first()
        assert alert is not None and alert.outcome == "error" and f"seq={rec.seq}" in alert.reason, \
            "a broken chain raised no alert record"
        auditor = make_user("auditor")
        client = app.test_client()
        login(client, auditor.username)
        page = client.get("/audit/anomalies").get_data(as_text=True)
        assert "哈希链告警" in page and f"seq={rec.seq}" in page
    finally:  # put the record back so later tests see an intact chain
        session.execute(text("UPDATE audit_records SET query = '原始' WHERE seq = :s"), {"s": rec.seq})
        session.commit()
