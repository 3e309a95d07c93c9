"""use register (利用登记), destruction requests and register (销毁清册); per-file data keys

Schema: use_register, destruction_requests, destruction_register. Data: every file's page
secrets, page versions, manifest rows, page images and original scan are re-encrypted under a
data key of that file's own, wrapped by the master key and kept in the key store (KEY_STORE_DIR,
outside the database and the backups; search_app.retention.envelope). Idempotent: a ciphertext
already under its file's key is left alone, so an interrupted upgrade is simply run again. Needs
the data keys: run it through `flask db-upgrade`.

Revision ID: 0012
Revises: 0011
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def _tables() -> None:
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if 'use_register' not in have:
        op.create_table(
            'use_register',
            sa.Column('id', sa.Integer(), primary_key=True),
            sa.Column('session_id', sa.String(32), nullable=False, unique=True),
            sa.Column('user_id', sa.Integer(), nullable=False, index=True),
            sa.Column('username', sa.String(64), nullable=False),
            sa.Column('display_name', sa.String(128), nullable=False, server_default=''),
            sa.Column('unit', sa.String(128), nullable=False, server_default=''),
            sa.Column('grant_id', sa.Integer(), nullable=False),
            sa.Column('approval_ref', sa.String(32), nullable=False, server_default=''),
            sa.Column('purpose_category', sa.String(32), nullable=False, server_default=''),
            sa.Column('purpose', sa.Text(), nullable=False, server_default=''),
            sa.Column('categories', sa.JSON(), nullable=False),
            sa.Column('opened_at', sa.DateTime(), nullable=False, index=True),
            sa.Column('ended_at', sa.DateTime(), nullable=True),
            sa.Column('final', sa.Boolean(), nullable=False, server_default=sa.false()),
            sa.Column('files', sa.JSON(), nullable=False),
            sa.Column('pages_viewed', sa.JSON(), nullable=False),
            sa.Column('pages_exported', sa.JSON(), nullable=False),
            sa.Column('searches', sa.Integer(), nullable=False, server_default='0'),
            sa.Column('copies', sa.Integer(), nullable=False, server_default='0'),
            sa.Column('audit_seqs', sa.JSON(), nullable=False),
            sa.Column('outcome', sa.Text(), nullable=False, server_default=''),
            sa.Column('outcome_by', sa.String(64), nullable=False, server_default=''),
            sa.Column('outcome_at', sa.DateTime(), nullable=True),
            sa.Column('updated_at', sa.DateTime(), nullable=False),
        )
    if 'destruction_requests' not in have:
        op.create_table(
            'destruction_requests',
            sa.Column('id', sa.Integer(), primary_key=True),
            sa.Column('requested_by_id', sa.Integer(), nullable=False),
            sa.Column('requested_by', sa.String(64), nullable=False),
            sa.Column('reasons', sa.Text(), nullable=False),
            sa.Column('archive_nos', sa.JSON(), nullable=False),
            sa.Column('status', sa.String(16), nullable=False, index=True),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('first_approver', sa.String(64), nullable=False, server_default=''),
            sa.Column('first_approved_at', sa.DateTime(), nullable=True),
            sa.Column('second_approver', sa.String(64), nullable=False, server_default=''),
            sa.Column('second_approved_at', sa.DateTime(), nullable=True),
            sa.Column('decided_by', sa.String(64), nullable=False, server_default=''),
            sa.Column('decision_reason', sa.Text(), nullable=False, server_default=''),
            sa.Column('executed_by', sa.String(64), nullable=False, server_default=''),
            sa.Column('executed_at', sa.DateTime(), nullable=True),
            sa.Column('error', sa.Text(), nullable=False, server_default=''),
        )
    if 'destruction_register' not in have:
        op.create_table(
            'destruction_register',
            sa.Column('id', sa.Integer(), primary_key=True),
            sa.Column('archive_no', sa.String(128), nullable=False, unique=True),
            sa.Column('title', sa.Text(), nullable=False, server_default=''),
            sa.Column('page_count', sa.Integer(), nullable=False, server_default='0'),
            sa.Column('retention', sa.String(16), nullable=False, server_default=''),
            sa.Column('year', sa.Integer(), nullable=True),
            sa.Column('request_id', sa.Integer(), nullable=False),
            sa.Column('requested_by', sa.String(64), nullable=False),
            sa.Column('approvers', sa.JSON(), nullable=False),
            sa.Column('reasons', sa.Text(), nullable=False, server_default=''),
            sa.Column('executed_by', sa.String(64), nullable=False),
            sa.Column('destroyed_at', sa.DateTime(), nullable=False),
        )


def upgrade() -> None:
    _tables()
    conn = op.get_bind()
    has_data = conn.execute(sa.text(
        "SELECT (SELECT count(*) FROM page_secrets) + (SELECT count(*) FROM ingest_files "
        "WHERE length(meta_ciphertext) > 0)")).scalar_one()
    if not has_data:
        return
    settings = context.config.attributes.get("settings")
    if settings is None:
        raise RuntimeError("migration 0012 re-encrypts every file's data under its own data key "
                           "and needs the data keys and KEY_STORE_DIR: run "
                           "`flask --app search_app db-upgrade`")
    from search_app.retention.envelope import rewrap_existing

    rewrap_existing(conn, settings)


def downgrade() -> None:
    for name in ('destruction_register', 'destruction_requests', 'use_register'):
        op.drop_table(name)
