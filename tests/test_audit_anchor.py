"""Guarantee: the audit log cannot be cut short unnoticed (DESIGN.md rule 6, anchored audit).

The attacker can write the database (and has kept a copy of an earlier head row); they cannot
forge a MAC (the key is outside the database). They cut the tail or the whole log and reset the
head; they edit, remove or cut the checkpoint file; they delete a checkpoint from the engine.
Each must make `flask audit-verify` fail and name what it found, against the real SQLite file,
the real file system and the real OpenSearch index.
"""
from __future__ import annotations

import json
import os
import stat
import uuid

import pytest
from sqlalchemy import text

from search_app import create_app
from search_app.audit.checkpoints import CheckpointError, engine, write_checkpoint
from search_app.audit.service import Actor, Event, record_event, verify_and_alert
from search_app.db import get_session
from search_app.migrations import upgrade
from search_app.search._backend import make_client

pytestmark = pytest.mark.integration


@pytest.fixture()
def anchored(settings, tmp_path):
    app = create_app({**settings, "DATABASE_URL": f"sqlite:///{tmp_path}/anchor.sqlite3",
                      "AUDIT_CHECKPOINT_FILE": str(tmp_path / "cp" / "checkpoints.log"),
                      "AUDIT_CHECKPOINT_INDEX": f"test-audit-cp-{uuid.uuid4().hex[:8]}"})
    upgrade(app.config["DATABASE_URL"])
    with app.app_context():
        yield app
    make_client(app.config, "admin").indices.delete(index=app.config["AUDIT_CHECKPOINT_INDEX"],
                                                ignore_unavailable=True)


def _write(n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        record_event(Actor(1, "zhangsan", "staff", "127.0.0.1"),
                     Event(action="search", outcome="allowed", query=f"查询{i}", result_count=1))


def _sql(*statements: str) -> None:
    session = get_session()
    for statement in statements:
        session.execute(text(statement))
    session.commit()


def _verify(app):
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    return result.exit_code, result.output


def _lines(app) -> list[str]:
    return open(app.config["AUDIT_CHECKPOINT_FILE"], encoding="utf-8").read().splitlines()


def _set_lines(app, lines: list[str]) -> None:
    with open(app.config["AUDIT_CHECKPOINT_FILE"], "w", encoding="utf-8") as fh:
        fh.write("".join(f"{line}\n" for line in lines))


def _head_row() -> dict:
    row = get_session().execute(text("SELECT last_seq, last_hash, mac FROM audit_head")).one()
    return dict(row._mapping)


def test_intact_log_with_checkpoints_verifies(anchored):
    for _ in range(3):
        _write(2)
        write_checkpoint(get_session())
    code, out = _verify(anchored)
    assert code == 0 and "6 records checked against 3 checkpoints" in out, out
    lines = _lines(anchored)
    assert len(lines) == 3 and [json.loads(line)["seq"] for line in lines] == [2, 4, 6]
    mode = stat.S_IMODE(os.stat(anchored.config["AUDIT_CHECKPOINT_FILE"]).st_mode)
    assert mode == 0o600, f"checkpoint file is mode {oct(mode)}, readable by others"
    engine().indices.refresh(index=anchored.config["AUDIT_CHECKPOINT_INDEX"])
    count = engine().count(index=anchored.config["AUDIT_CHECKPOINT_INDEX"])["count"]
    assert count == 3, f"the engine holds {count} checkpoints, the file 3"


def test_tail_cut_with_a_saved_head_row_put_back_is_detected(anchored):
    """The head row (with its valid MAC) was copied at seq 3; the tail is cut and it is restored."""
    _write(3)
    saved = _head_row()
    _write(3, start=3)
    write_checkpoint(get_session())
    _sql("DELETE FROM audit_records WHERE seq > 3",
         f"UPDATE audit_head SET last_seq = {saved['last_seq']}, last_hash = '{saved['last_hash']}', "
         f"mac = '{saved['mac']}'")
    code, out = _verify(anchored)
    assert code == 1, f"LEAK: records 4-6 were deleted and audit-verify passed:\n{out}"
    assert "names seq 6, but the log ends at seq 3" in out, out
    assert "MAC" not in out, f"the restored head is genuine; only the checkpoint can tell:\n{out}"


def test_tail_cut_and_regrown_is_detected(anchored):
    """After the cut, new records are appended (the app seals the head again): the checkpoint's
    hash for seq 6 no longer matches the log's record 6, and the next checkpoint shrank."""
    _write(3)
    saved = _head_row()
    _write(3, start=3)
    write_checkpoint(get_session())
    _sql("DELETE FROM audit_records WHERE seq > 3",
         f"UPDATE audit_head SET last_seq = 3, last_hash = '{saved['last_hash']}', mac = '{saved['mac']}'")
    _write(4, start=100)
    code, out = _verify(anchored)
    assert code == 1 and "names seq 6 with hash" in out and "rewritten after the checkpoint" in out, out


def test_whole_log_deleted_with_head_reset_is_detected(anchored):
    _write(5)
    write_checkpoint(get_session())
    _sql("DELETE FROM audit_records",
         f"UPDATE audit_head SET last_seq = 0, last_hash = '{'0' * 64}', mac = NULL")
    code, out = _verify(anchored)
    assert code == 1, f"LEAK: the whole log was deleted and audit-verify passed:\n{out}"
    assert "0 records checked" in out and "names seq 5, but the log ends at seq 0" in out, out


def test_head_pointed_at_an_earlier_record_fails_its_mac(anchored):
    _write(4)
    _sql("DELETE FROM audit_records WHERE seq = 4",
         "UPDATE audit_head SET last_seq = 3, last_hash = (SELECT hash FROM audit_records WHERE seq = 3)")
    code, out = _verify(anchored)
    assert code == 1 and "chain head (seq 3) does not match its MAC" in out, out
    with pytest.raises(CheckpointError, match="链头不可信"):
        write_checkpoint(get_session())  # a tampered head is never anchored


def test_edited_checkpoint_line_is_detected(anchored):
    _write(4)
    write_checkpoint(get_session())
    _write(2, start=4)
    write_checkpoint(get_session())
    lines = _lines(anchored)
    forged = json.loads(lines[1])
    forged["seq"] = 3  # pretend the log was shorter at the second checkpoint
    _set_lines(anchored, [lines[0], json.dumps(forged)])
    code, out = _verify(anchored)
    assert code == 1 and "line 2: does not match its MAC (the checkpoint was edited)" in out, out


def test_removed_and_cut_checkpoint_lines_are_detected(anchored):
    for _ in range(3):
        _write(1)
        write_checkpoint(get_session())
    lines = _lines(anchored)
    _set_lines(anchored, [lines[0], lines[2]])  # the middle line removed
    code, out = _verify(anchored)
    assert code == 1 and "does not follow the line before it" in out, out
    _set_lines(anchored, lines[:2])  # the last line cut off
    code, out = _verify(anchored)
    assert code == 1 and "checkpoint seq 3" in out and "not in the checkpoint file" in out, out
    os.remove(anchored.config["AUDIT_CHECKPOINT_FILE"])  # the whole file gone
    code, out = _verify(anchored)
    assert code == 1 and out.count("not in the checkpoint file") == 3, out


def test_checkpoint_deleted_from_the_engine_is_detected(anchored):
    _write(2)
    cp = write_checkpoint(get_session())
    # the attacker here holds more than any app identity: no app role may delete a checkpoint
    make_client(anchored.config, "admin").delete(index=anchored.config["AUDIT_CHECKPOINT_INDEX"],
                                                 id=cp.mac, refresh=True)
    code, out = _verify(anchored)
    assert code == 1 and "checkpoint seq 2" in out and "deleted from the index" in out, out


def test_checkpoints_are_never_overwritten_in_the_engine(anchored):
    from opensearchpy import ConflictError

    _write(2)
    cp = write_checkpoint(get_session())
    with pytest.raises(ConflictError):
        engine().create(index=anchored.config["AUDIT_CHECKPOINT_INDEX"], id=cp.mac,
                        body={"seq": 0, "hash": "0" * 64, "ts": cp.ts, "prev": cp.prev, "mac": cp.mac})


def test_beat_writes_checkpoints_and_alerts_on_truncation(anchored):
    from search_app.audit.models import AuditRecord
    from workers.tasks import write_audit_checkpoint

    schedule = anchored.extensions["celery"].conf.beat_schedule["write-audit-checkpoint"]
    assert schedule["task"] == "workers.tasks.write_audit_checkpoint"
    assert schedule["schedule"] == 60.0 * anchored.config["AUDIT_CHECKPOINT_MINUTES"]
    _write(3)
    assert write_audit_checkpoint.run() == {"ok": True, "seq": 3, "ts": json.loads(_lines(anchored)[-1])["ts"]}
    _sql("DELETE FROM audit_records",
         f"UPDATE audit_head SET last_seq = 0, last_hash = '{'0' * 64}', mac = NULL")
    report = verify_and_alert(get_session())
    assert not report.ok
    alert = get_session().query(AuditRecord).filter_by(action="audit.alert").one()
    assert "names seq 3, but the log ends at seq 0" in alert.reason, alert.reason


def test_a_new_log_verifies_before_its_first_checkpoint(anchored):
    code, out = _verify(anchored)
    assert code == 0 and "0 records checked against 0 checkpoints" in out, out


def test_a_log_from_before_the_head_mac_is_sealed_once_by_its_first_checkpoint(anchored):
    _write(3)
    _sql("UPDATE audit_head SET mac = NULL")  # what migration 0006 leaves on an existing log
    code, out = _verify(anchored)
    assert code == 1 and "carries no MAC" in out, out
    result = anchored.test_cli_runner().invoke(args=["audit-checkpoint"])
    assert result.exit_code == 0 and "checkpoint seq 3" in result.output, result.output
    assert _verify(anchored)[0] == 0
    _sql("DELETE FROM audit_records WHERE seq = 3",  # later: cut, reset, and strip the MAC
         "UPDATE audit_head SET last_seq = 2, last_hash = (SELECT hash FROM audit_records WHERE seq = 2), "
         "mac = NULL")
    result = anchored.test_cli_runner().invoke(args=["audit-checkpoint"])
    assert result.exit_code == 1 and "carries no MAC" in result.output, \
        f"LEAK: a head whose MAC was stripped after checkpoints began was sealed again:\n{result.output}"
    code, out = _verify(anchored)
    assert code == 1 and "names seq 3, but the log ends at seq 2" in out, out
