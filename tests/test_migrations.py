"""Upgrading a database made by an earlier release keeps its users and grants working."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from search_app.migrations import upgrade


def test_upgrade_from_the_first_schema_keeps_grants_usable(tmp_path):
    url = f"sqlite:///{tmp_path}/old.sqlite3"
    upgrade(url, "0001")
    engine = sa.create_engine(url)
    now = datetime(2026, 11, 1, 8, 0)
    with engine.begin() as conn:
        for uid, name, role in ((1, "zhang", "staff"), (2, "wang", "approver")):
            conn.execute(sa.text("INSERT INTO users (id, username, display_name, password_hash, role, unit, "
                                 "is_enabled, created_at) VALUES (:i, :n, :n, 'x', :r, '海淀', 1, :t)"),
                         {"i": uid, "n": name, "r": role, "t": now})
        conn.execute(sa.text(
            "INSERT INTO grants (id, user_id, approval_ref, purpose, categories, units, "
            "classification_ceiling, archive_nos, unmask_fields, valid_from, valid_until, status, "
            "approved_by_id, created_at) VALUES (1, 1, 'SP-20261101-ABCDEF', '核查', '[\"户籍档案\"]', "
            "'[\"海淀\"]', 1, '[]', '[]', :f, :u, 'active', 2, :f)"),
            {"f": now, "u": now + timedelta(days=30)})
    upgrade(url, "head")
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT request_no, approval_ref, status, approved_at, allow_lookup "
                                   "FROM grants WHERE id = 1")).one()
        user = conn.execute(sa.text("SELECT role, session_epoch, failed_logins, relative_hmacs "
                                    "FROM users WHERE id = 1")).one()
    assert row.request_no == row.approval_ref == "SP-20261101-ABCDEF" and row.status == "active"
    assert row.approved_at is not None and not row.allow_lookup
    assert (user.role, user.session_epoch, user.failed_logins, user.relative_hmacs) == ("staff", 0, 0, "[]")
