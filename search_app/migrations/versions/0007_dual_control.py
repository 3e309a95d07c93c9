"""dual control: who proposed each account and its last reset; pending account changes

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_by', sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column('last_reset_by', sa.String(length=96), nullable=True))
    op.create_table(
        'pending_account_changes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('summary', sa.String(length=255), nullable=False),
        sa.Column('proposed_by', sa.String(length=96), nullable=False),
        sa.Column('proposed_at', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('decided_by', sa.String(length=96), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decision_reason', sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('pending_account_changes', schema=None) as batch_op:
        batch_op.create_index('ix_pending_account_changes_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_pending_account_changes_status', ['status'], unique=False)


def downgrade() -> None:
    op.drop_table('pending_account_changes')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('last_reset_by')
        batch_op.drop_column('created_by')
