"""free text stored masked; login throttle keys by keyed hash only

Grant, retention, QA, register and account-change free text was stored as typed; the columns
now mask on write and on read (search_app.masked_text). This migration masks the rows already
stored, so the database itself no longer holds the values. Login throttle rows kept the typed
name in clear and keyed by an unkeyed sha256 of it: they are deleted (each is forgotten within
LOGIN_FAILURE_WINDOW_MINUTES anyway; the new rows are keyed by the blind-index hash).

Revision ID: 0014
Revises: 0013
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

# (table, primary key, free-text columns)
_COLUMNS = (
    ("grants", "id", ("purpose", "decision_reason")),
    ("destruction_requests", "id", ("reasons", "decision_reason", "error")),
    ("destruction_register", "id", ("title", "reasons")),
    ("qa_files", "file_id", ("mismatch",)),
    ("qa_pages", "id", ("rescan_reason",)),
    ("qa_scopes", "id", ("purpose",)),
    ("pending_account_changes", "id", ("decision_reason",)),
    ("use_register", "id", ("purpose", "outcome")),
)


def upgrade() -> None:
    from search_app.masked_text import mask_free_text

    bind = op.get_bind()
    have = set(sa.inspect(bind).get_table_names())
    for table, pk, columns in _COLUMNS:
        if table not in have:
            continue
        present = {c["name"] for c in sa.inspect(bind).get_columns(table)}
        cols = [c for c in columns if c in present]
        if not cols:
            continue
        rows = bind.execute(sa.text(f"SELECT {pk}, {', '.join(cols)} FROM {table}")).all()
        for row in rows:
            changed = {c: mask_free_text(v) for c, v in zip(cols, row[1:]) if v}
            changed = {c: v for c, v in changed.items() if v != row[cols.index(c) + 1]}
            if changed:
                sets = ", ".join(f"{c} = :{c}" for c in changed)
                bind.execute(sa.text(f"UPDATE {table} SET {sets} WHERE {pk} = :pk"),
                             {**changed, "pk": row[0]})
    if "login_throttles" in have:
        bind.execute(sa.text("DELETE FROM login_throttles"))


def downgrade() -> None:
    pass  # masked text cannot be unmasked
