"""Guarantee: a page view costs a fixed, small number of database round trips (issue 11: the
API within 1.5x of the engine), and the statements it saved change nothing it must check — a
revocation committed elsewhere still refuses the next read, pages filed under a unit's former
name stay readable under the new one (and only those), and the audit record is committed before
the response, or there is no response (DESIGN.md rules 2, 4 and 6)."""
from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import event, select

from search_app.accounts.services import issue_api_token
from search_app.audit.models import AuditRecord
from search_app.catalogue.models import Unit
from search_app.catalogue.services import lists, rename_entry
from search_app.db import fresh_session, get_session
from search_app.grants.models import Grant
from search_app.grants.services import actor_of, revoke
from search_app.search import ReadDenied, view_page
from tests.conftest import meta

pytestmark = pytest.mark.integration

TAG = uuid.uuid4().hex[:6].upper()
OLD_UNIT, NEW_UNIT, OTHER_UNIT = f"往返旧单位{TAG}", f"往返新单位{TAG}", f"往返他单位{TAG}"
RENAMED, ELSEWHERE = f"RT{TAG}-0001#p0001", f"RT{TAG}-0002#p0001"
# token check 1, grant 1, the catalogue's former names 1, audit: chain lock, INSERT, head update
MAX_STATEMENTS = 6


@pytest.fixture()
def pages(ingest, ctx, make_user):
    session = get_session()
    if session.execute(select(Unit).where(Unit.name == NEW_UNIT)).scalar_one_or_none():
        return  # ingested and renamed by an earlier test of this module (one index per session)
    progress, _ = ingest([
        meta(f"RT{TAG}-0001", unit=OLD_UNIT, pages=[["往返测试 旧单位名下的页面 内容足够长以使用文本层"]]),
        meta(f"RT{TAG}-0002", unit=OTHER_UNIT, pages=[["往返测试 另一单位的页面 内容足够长以使用文本层"]]),
    ])
    assert progress.files_failed == 0, progress.errors
    unit = session.execute(select(Unit).where(Unit.name == OLD_UNIT)).scalar_one()
    rename_entry(session, actor_of(make_user("system_admin")), "unit", unit.id, NEW_UNIT)
    session.commit()


def _count_statements(engine):
    seen: list[str] = []
    me = threading.get_ident()

    def on_sql(_conn, _cursor, statement, *_args):
        if threading.get_ident() == me:  # this request's thread only
            seen.append(" ".join(statement.split()[:4]))
    event.listen(engine, "before_cursor_execute", on_sql)
    return seen, lambda: event.remove(engine, "before_cursor_execute", on_sql)


def test_a_page_view_through_the_api_costs_at_most_six_statements(app, ctx, pages, make_user,
                                                                   make_grant):
    user = make_user("staff")
    grant = make_grant(user, units=(NEW_UNIT,))
    token = issue_api_token(get_session(), user)
    get_session().commit()
    http = app.test_client()
    body = {"grant_id": grant.id, "purpose": "核实往返次数"}
    headers = {"Authorization": f"Bearer {token}"}
    assert http.post(f"/api/v1/pages/{RENAMED.replace('#', '%23')}", json=body,
                     headers=headers).status_code == 200  # warm: pool, caches
    seen, stop = _count_statements(app.extensions["db_engine"])
    try:
        resp = http.post(f"/api/v1/pages/{RENAMED.replace('#', '%23')}", json=body, headers=headers)
    finally:
        stop()
    assert resp.status_code == 200, resp.get_json()
    assert len(seen) <= MAX_STATEMENTS, (
        f"a page view sent {len(seen)} statements to the database (at most {MAX_STATEMENTS}: "
        f"token, grant, former names, chain lock, INSERT, head): {seen}")


def test_pages_under_a_units_former_name_stay_readable_and_no_other_unit_is(
        ctx, pages, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user, units=(NEW_UNIT,))
    for cached in (False, True):  # the one-statement names, and the request's cached lists
        if cached:
            lists()
        view = view_page(user=user, grant_id=grant.id, purpose="核实曾用名", doc_id=RENAMED)
        assert view.fields["unit"] == OLD_UNIT
        with pytest.raises(ReadDenied):
            view_page(user=user, grant_id=grant.id, purpose="核实曾用名", doc_id=ELSEWHERE)
            pytest.fail(f"LEAKED {ELSEWHERE}: a grant over {NEW_UNIT} read a page of {OTHER_UNIT}")


def test_a_revocation_committed_elsewhere_refuses_the_next_read_in_the_same_session(
        ctx, pages, make_user, make_grant):
    user = make_user("staff")
    grant = make_grant(user, units=(NEW_UNIT,))
    view_page(user=user, grant_id=grant.id, purpose="核实撤销", doc_id=RENAMED)  # grant now cached
    with fresh_session() as other:
        revoke(other, other.get(Grant, grant.id), by=user, reason="", actor=actor_of(user))
        other.commit()
    with pytest.raises(ReadDenied) as refused:
        view_page(user=user, grant_id=grant.id, purpose="核实撤销", doc_id=RENAMED)
        pytest.fail("ALLOWED: a page was read under a grant revoked by another session")
    assert "撤销" in refused.value.reason, refused.value.reason


def test_the_record_is_committed_before_the_page_view_returns(app, ctx, pages, make_user,
                                                             make_grant, monkeypatch):
    """The record is visible to another connection by the time the API answers, and a commit
    that fails returns no page text."""
    user = make_user("staff")
    grant = make_grant(user, units=(NEW_UNIT,))
    token = issue_api_token(get_session(), user)
    get_session().commit()
    http = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"grant_id": grant.id, "purpose": "核实提交顺序"}
    resp = http.post(f"/api/v1/pages/{RENAMED.replace('#', '%23')}", json=body, headers=headers)
    assert resp.status_code == 200
    with fresh_session() as other:
        rec = other.execute(select(AuditRecord).where(
            AuditRecord.seq == resp.get_json()["audit_seq"])).scalar_one_or_none()
    assert rec is not None and (rec.action, rec.outcome, rec.user_id) == \
        ("page.view", "allowed", user.id), \
        "the API answered a page view whose audit record another connection cannot see"

    from sqlalchemy.orm import Session

    def failing_commit(self):
        raise RuntimeError("disk full")
    monkeypatch.setattr(Session, "commit", failing_commit)
    resp = http.post(f"/api/v1/pages/{RENAMED.replace('#', '%23')}", json=body, headers=headers)
    monkeypatch.undo()
    assert resp.status_code == 503, resp.get_data(as_text=True)
    assert "旧单位名下" not in resp.get_data(as_text=True), \
        "LEAKED page text: the audit commit failed and the page was returned anyway"


def test_gunicorn_runs_threaded_workers_so_concurrent_reads_share_a_commit():
    """With gunicorn's sync worker a process serves one request at a time, so its group commit
    (search_app.audit.writer) never holds more than one record: every read pays a durable flush
    of its own, however many readers wait."""
    from pathlib import Path

    from gunicorn.config import Config

    source = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
    namespace: dict = {}
    exec(compile(source.read_text("utf-8"), str(source), "exec"), namespace)
    cfg = Config()
    for name, value in namespace.items():
        if name in cfg.settings:
            cfg.set(name, value)
    assert cfg.worker_class_str == "gthread", (
        f"gunicorn.conf.py runs the {cfg.worker_class_str!r} worker: one request per process, "
        "so no two reads' audit records ever share a commit")
    assert cfg.threads >= 2, f"{cfg.threads} thread per worker: the group commit has no company"
