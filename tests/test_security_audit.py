"""Guarantees: every read is audited before it returns (fail closed), denials are audited with
their reason, and the hash chain exposes any edit, deletion, reordering or truncation — also a
truncation whose head row was reset to match, which the checkpoints kept outside the database
expose (tests/test_audit_anchor.py replays the attacks on the checkpoints themselves)."""
from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from indexer.redact import mask_value
from search_app import create_app
from search_app.audit.checkpoints import write_checkpoint
from search_app.audit.models import AuditRecord
from search_app.audit.service import Actor, Event, record_event
from search_app.db import get_session
from search_app.grants.services import actor_of, revoke
from search_app.migrations import upgrade
from search_app.search._backend import make_client
from search_app.timeutil import utcnow
from tests.conftest import login, meta

pytestmark = pytest.mark.integration


def _records(user) -> list[AuditRecord]:
    session = get_session()
    session.expire_all()
    return list(session.execute(select(AuditRecord).where(AuditRecord.user_id == user.id)
                                .where(AuditRecord.action == "search")
                                .order_by(AuditRecord.seq)).scalars())


@pytest.fixture()
def staff(ctx, client, make_user, make_grant, ingest):
    ingest([meta("AU-0001", pages=[["审计完整性测试页面 内容足够长以使用文本层"]])])
    user = make_user("staff")
    grant = make_grant(user, purpose="户籍核查：审计测试")
    assert login(client, user.username).status_code == 302
    return user, grant


ID_IN_PURPOSE = "110105199003071239"  # valid GB 11643 check digit


def _post(client, grant_id, q="审计完整性测试", purpose="核实登记信息"):
    client.environ_base["REMOTE_ADDR"] = "10.1.2.3"  # for the GET the form's 303 leads to, too
    return client.post("/search", follow_redirects=True,
                       data={"grant_id": grant_id or "", "purpose": purpose, "q": q})


def test_every_search_writes_exactly_one_complete_record(staff, client):
    user, grant = staff
    query = f"审计完整性测试 OR {ID_IN_PURPOSE}"  # a reader may type an ID into the query too
    for n in range(3):
        resp = _post(client, grant.id, q=query, purpose=f"核实登记信息 {ID_IN_PURPOSE}")
        assert resp.status_code == 200 and "AU-0001" in resp.get_data(as_text=True)
        assert len(_records(user)) == n + 1, "a search did not write exactly one audit record"
    rec = _records(user)[-1]
    assert (rec.outcome, rec.username, rec.role) == ("allowed", user.username, "staff")
    # Free text is stored masked (DESIGN rule 6): the ID typed into the purpose is not in the log.
    assert rec.purpose == f"核实登记信息 {mask_value('id_number', ID_IN_PURPOSE)}", rec.purpose
    assert ID_IN_PURPOSE not in rec.purpose, f"LEAKED the ID number {ID_IN_PURPOSE} into the audit log"
    assert rec.approval_ref == grant.approval_ref
    assert ID_IN_PURPOSE not in rec.query, f"LEAKED the ID number {ID_IN_PURPOSE} into the logged query"
    assert rec.query == f"审计完整性测试 OR {mask_value('id_number', ID_IN_PURPOSE)}", rec.query
    assert rec.grant_id == grant.id
    assert rec.result_count == 1 and rec.returned_ids == ["AU-0001#p0001"]
    assert rec.client_addr == "10.1.2.3"
    assert rec.filters["categories"] == ["户籍档案"] and rec.filters["classification_ceiling"] == 1


@pytest.mark.parametrize("case", ["no grant", "expired", "revoked", "not yet valid",
                                  "someone else's", "no purpose"])
def test_refused_reads_are_audited_as_denied(case, staff, client, make_user, make_grant):
    user, grant = staff
    session = get_session()
    grant_id, purpose = grant.id, "核实登记信息"
    if case == "no grant":
        grant_id = None
    elif case == "expired":
        grant.valid_from, grant.valid_until = utcnow() - timedelta(hours=9), utcnow() - timedelta(hours=1)
    elif case == "revoked":
        revoke(session, grant, by=user, reason="", actor=actor_of(user))
    elif case == "not yet valid":
        grant.valid_from = utcnow() + timedelta(hours=1)
    elif case == "someone else's":
        grant_id = make_grant(make_user("staff")).id
    elif case == "no purpose":
        purpose = " "
    session.commit()
    resp = _post(client, grant_id, purpose=purpose)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 403 and "查询被拒绝" in page
    assert "AU-0001" not in page, f"{case}: denied search still returned the document"
    rec = _records(user)[-1]
    assert rec.outcome == "denied" and rec.reason and rec.result_count is None, case
    if case in ("expired", "revoked", "not yet valid"):
        assert rec.approval_ref == grant.approval_ref, "a refused grant must be named in the record"
    assert rec.reason in page, "the refusal shown to the user must say why"


def test_read_fails_closed_when_the_audit_record_cannot_be_written(staff, client):
    user, grant = staff
    session = get_session()
    pg = session.get_bind().dialect.name == "postgresql"  # TEST_DATABASE=postgresql
    for sql in ([
            "CREATE FUNCTION audit_down() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; "
            "END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER audit_down BEFORE INSERT ON audit_records FOR EACH ROW "
            "EXECUTE FUNCTION audit_down()"] if pg else [
            "CREATE TRIGGER audit_down BEFORE INSERT ON audit_records "
            "BEGIN SELECT RAISE(ABORT, 'disk full'); END"]):
        session.execute(text(sql))
    session.commit()
    try:
        resp = _post(client, grant.id)
    finally:
        for sql in (["DROP TRIGGER audit_down ON audit_records", "DROP FUNCTION audit_down()"]
                    if pg else ["DROP TRIGGER audit_down"]):
            session.execute(text(sql))
        session.commit()
    assert resp.status_code == 503
    assert "AU-0001" not in resp.get_data(as_text=True), "results returned without an audit record"


@pytest.fixture()
def chain_app(settings, tmp_path):
    """Six records and a checkpoint of them (what beat writes), in a database, checkpoint file
    and checkpoint index of the test's own."""
    app = create_app({**settings, "DATABASE_URL": f"sqlite:///{tmp_path}/chain.sqlite3",
                      "AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.log"),
                      "AUDIT_CHECKPOINT_INDEX": f"test-audit-cp-{uuid.uuid4().hex[:8]}"})
    upgrade(app.config["DATABASE_URL"])
    with app.app_context():
        for n in range(6):
            record_event(Actor(1, "zhangsan", "staff", "127.0.0.1"),
                         Event(action="search", outcome="allowed", query=f"查询{n}",
                               returned_ids=[f"D-{n}#p0001"], result_count=1))
        write_checkpoint(get_session())
        yield app
    make_client(app.config, "admin").indices.delete(index=app.config["AUDIT_CHECKPOINT_INDEX"],
                                                ignore_unavailable=True)


def _verify(app):
    return app.test_cli_runner().invoke(args=["audit-verify"])


TAMPERING = {
    "edit": "UPDATE audit_records SET query = '无害查询' WHERE seq = 3",
    "delete": "DELETE FROM audit_records WHERE seq = 2",
    "reorder": "UPDATE audit_records SET id = 1000 WHERE seq = 4; "
               "UPDATE audit_records SET id = 4 WHERE seq = 5; "
               "UPDATE audit_records SET id = 5 WHERE id = 1000",
    "renumber": "UPDATE audit_records SET seq = seq + 100 WHERE seq = 6; "
                "UPDATE audit_records SET seq = 6 WHERE seq = 5; "
                "UPDATE audit_records SET seq = 5 WHERE seq = 106",
    "truncate": "DELETE FROM audit_records WHERE seq = 6",
    "edit count": "UPDATE audit_records SET returned_ids = '[]', result_count = 0 WHERE seq = 1",
    "delete head": "DELETE FROM audit_records WHERE seq = 6; DELETE FROM audit_head",
    # the attack that passed before the checkpoints: cut the tail, point the head at what is left
    "truncate tail, head reset": "DELETE FROM audit_records WHERE seq > 3; UPDATE audit_head SET "
                                 "last_seq = 3, last_hash = (SELECT hash FROM audit_records WHERE seq = 3)",
    "truncate all, head reset": "DELETE FROM audit_records; UPDATE audit_head SET last_seq = 0, "
                                f"last_hash = '{'0' * 64}', mac = NULL",
}
# What the report must name for the truncations that leave a consistent database behind.
NAMED = {"truncate tail, head reset": "names seq 6, but the log ends at seq 3",
         "truncate all, head reset": "names seq 6, but the log ends at seq 0"}


def test_intact_chain_verifies(chain_app):
    result = _verify(chain_app)
    assert result.exit_code == 0 and "6 records checked against 1 checkpoints" in result.output \
        and "intact" in result.output, result.output


@pytest.mark.parametrize("kind", TAMPERING)
def test_tampering_breaks_verification(kind, chain_app):
    session = get_session()
    for statement in TAMPERING[kind].split("; "):
        session.execute(text(statement))
    session.commit()
    result = _verify(chain_app)
    assert result.exit_code == 1, f"{kind} of an audit record was not detected:\n{result.output}"
    assert "BROKEN" in result.output
    if kind in NAMED:
        assert NAMED[kind] in result.output, f"{kind}: the report does not name the checkpoint " \
                                             f"that proves it:\n{result.output}"


def test_recomputed_chain_without_the_key_is_detected(chain_app):
    """Someone with database access edits a record and recomputes plain SHA-256 hashes."""
    import hashlib

    from search_app.audit.models import AuditHead
    from search_app.audit.service import GENESIS, _values

    session = get_session()
    prev = GENESIS
    for rec in session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars():
        if rec.seq == 2:
            rec.query = "无害查询"
        rec.prev_hash = prev
        rec.hash = hashlib.sha256(prev.encode() + json.dumps(
            _values(rec), sort_keys=True, ensure_ascii=False, separators=(",", ":"),
            default=str).encode()).hexdigest()
        prev = rec.hash
    head = session.get(AuditHead, 1)
    head.last_hash = prev
    session.commit()
    assert _verify(chain_app).exit_code == 1, "a re-hashed chain passed verification"


def test_concurrent_writers_keep_one_chain(chain_app):
    from concurrent.futures import ThreadPoolExecutor

    def write(n):
        with chain_app.app_context():
            record_event(Actor(2, "lisi", "staff"), Event(action="search", outcome="allowed",
                                                          query=f"并发{n}"))
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, range(20)))
    assert get_session().execute(select(func.count(AuditRecord.id))).scalar_one() == 26
    assert _verify(chain_app).exit_code == 0
