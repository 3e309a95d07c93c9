"""access control: multi-role users with lockout and session epochs; the grant request workflow

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('role', type_=sa.String(length=64), existing_nullable=False)
        batch_op.add_column(sa.Column('relative_hmacs', sa.JSON(), nullable=False, server_default='[]'))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('session_epoch', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('last_login_at', sa.DateTime(), nullable=True))

    with op.batch_alter_table('audit_records', schema=None) as batch_op:
        batch_op.alter_column('role', type_=sa.String(length=64), existing_nullable=False)

    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_no', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('purpose_category', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('subject_hmac', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('subject_label', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('allow_lookup', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('requested_hours', sa.Float(), nullable=False, server_default='8'))
        batch_op.add_column(sa.Column('approved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('second_approved_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('second_approved_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('decision_reason', sa.Text(), nullable=False, server_default=''))
        batch_op.alter_column('approval_ref', existing_type=sa.String(length=32), nullable=True)
        batch_op.alter_column('valid_from', existing_type=sa.DateTime(), nullable=True)
        batch_op.alter_column('valid_until', existing_type=sa.DateTime(), nullable=True)
        batch_op.alter_column('approved_by_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_foreign_key('fk_grants_second_approver', 'users', ['second_approved_by_id'], ['id'])
        batch_op.create_foreign_key('fk_grants_decided_by', 'users', ['decided_by_id'], ['id'])
    # Grants made before the workflow were approved directly: their request number is their ref.
    op.execute("UPDATE grants SET request_no = approval_ref, approved_at = valid_from "
               "WHERE request_no IS NULL")
    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.alter_column('request_no', existing_type=sa.String(length=32), nullable=False)
        batch_op.create_unique_constraint('uq_grants_request_no', ['request_no'])
        batch_op.create_index('ix_grants_status', ['status'], unique=False)


def downgrade() -> None:
    raise NotImplementedError("the access-control schema is not reversible: restore a backup")
