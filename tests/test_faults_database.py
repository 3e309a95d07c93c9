"""Faults of the relational store, against the real databases: concurrent audit writers on
PostgreSQL keep one chain (always on PostgreSQL, whichever database the session runs on); a
database that is down or read-only refuses every read, and nothing is returned unaudited."""
from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from search_app import create_app
from search_app.audit.models import AuditRecord
from search_app.audit.service import Actor, Event, record_event, verify_chain
from search_app.db import get_session
from search_app.migrations import upgrade
from tests.conftest import _pg_admin_url, fresh_pg_database, meta

pytestmark = pytest.mark.integration

THREADS, EACH = 16, 25


@pytest.fixture()
def pg_url():
    """A PostgreSQL database of its own (dropped afterwards), even when the session is SQLite."""
    with fresh_pg_database() as url:
        yield url


def test_sixteen_concurrent_audit_writers_keep_one_chain_on_postgresql(settings, services, pg_url):
    app = create_app({**settings, "DATABASE_URL": pg_url})
    upgrade(pg_url)
    start = threading.Barrier(THREADS)
    errors: list[str] = []

    def writer(n: int) -> None:
        with app.app_context():
            start.wait()
            for i in range(EACH):
                try:
                    record_event(Actor(None, f"writer-{n}", "system"),
                                 Event(action="audit.view", outcome="allowed", query=f"w{n}-{i}"))
                except Exception as exc:  # collected: the assertion below names them
                    errors.append(f"writer {n} record {i}: {type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, f"{len(errors)} audit writes failed under concurrency: {errors[:3]}"
    with app.app_context():
        s = get_session()
        recs = s.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars().all()
        assert [r.seq for r in recs] == list(range(1, THREADS * EACH + 1)), \
            "seqs are not one gapless sequence: two writers took the same head"
        forks = [seq for seq, n in Counter(r.prev_hash for r in recs).items() if n > 1]
        assert not forks, f"the chain forked: {len(forks)} records share a predecessor"
        assert Counter(r.username for r in recs) == {f"writer-{n}": EACH for n in range(THREADS)}
        report = verify_chain(s, anchored=False)
        assert report.ok, report.problems[:3]
    app.extensions["db_engine"].dispose()


@pytest.fixture()
def pg_reader(settings, services, pg_url, ingest):
    """An app on its own PostgreSQL database over the session's index, with a page it may find,
    a staff user with a grant and an API token: (app, client, headers, grant id)."""
    from search_app.accounts.services import create_user, issue_api_token
    from search_app.grants.services import Scope, create_grant

    progress, _ = ingest([meta("DBF-0001", pages=[["数据库故障演练 户籍页面 内容足够长以使用文本层"]])])
    assert progress.files_failed == 0, progress.errors
    app = create_app({**settings, "DATABASE_URL": pg_url})
    upgrade(pg_url)
    with app.app_context():
        s = get_session()
        staff = create_user(s, username="dbf-staff", password="correct-horse-9", role="staff",
                            unit="北京市公安局海淀分局")
        a1 = create_user(s, username="dbf-a1", password="correct-horse-9", role="approver", unit="x")
        a2 = create_user(s, username="dbf-a2", password="correct-horse-9", role="approver", unit="x")
        s.commit()
        grant = create_grant(s, user=staff, approver=a1, second_approver=a2, purpose="户籍核查",
                             hours=8, scope=Scope(["户籍档案"], ["北京市公安局海淀分局"], "内部", []),
                             unmask_fields=[], allow_lookup=False, subject_id="")
        token = issue_api_token(s, staff)
        s.commit()
        grant_id = grant.id
    yield app, app.test_client(), {"Authorization": f"Bearer {token}"}, grant_id
    app.extensions["db_engine"].dispose()


def _reads(client, headers, grant_id):
    yield "search", client.post("/api/v1/search", headers=headers,
                                json={"grant_id": grant_id, "purpose": "故障演练", "q": "数据库故障演练"})
    yield "page", client.post("/api/v1/pages/DBF-0001%23p0001", headers=headers,
                              json={"grant_id": grant_id, "purpose": "故障演练"})


def _audited_reads(pg_url: str) -> int:
    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM audit_records WHERE action IN "
                                     "('search', 'page.view')")).scalar_one()
    finally:
        engine.dispose()


def test_a_read_only_database_refuses_every_read(pg_reader, pg_url):
    app, client, headers, grant_id = pg_reader
    for what, resp in _reads(client, headers, grant_id):
        assert resp.status_code == 200, f"{what} before the fault: {resp.get_json()}"
    assert "DBF-0001#p0001" in [h["id"] for h in client.post(
        "/api/v1/search", headers=headers, json={"grant_id": grant_id, "purpose": "故障演练",
                                                 "q": "数据库故障演练"}).get_json()["hits"]]
    audited = _audited_reads(pg_url)
    name = make_url(pg_url).database
    admin = create_engine(make_url(_pg_admin_url()), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
    admin.dispose()
    app.extensions["db_engine"].dispose()  # new connections start read-only
    for what, resp in _reads(client, headers, grant_id):
        body = resp.get_json()
        assert resp.status_code == 503, f"{what} on a read-only database answered {resp.status_code}: {body}"
        assert "审计" in body["message"] and "hits" not in body and "text" not in body, \
            f"{what} returned data it could not audit: {body}"
    assert _audited_reads(pg_url) == audited, "a read was recorded although the database is read-only"


def test_a_database_that_is_down_refuses_every_read(pg_reader, settings):
    app, client, headers, grant_id = pg_reader
    down_url = make_url(app.config["DATABASE_URL"]).set(port=1).render_as_string(hide_password=False)
    down = create_app({**settings, "DATABASE_URL": down_url}).test_client()
    for what, resp in _reads(down, headers, grant_id):
        body = resp.get_json()
        assert resp.status_code == 503, f"{what} with the database down answered {resp.status_code}"
        assert "数据库" in body["message"] and "hits" not in body and "text" not in body, body
