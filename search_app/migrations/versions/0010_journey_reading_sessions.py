"""reading sessions: a grant plus a typed purpose, opened once, named by every read in it

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Idempotent: a database stamped back to an earlier revision (and re-upgraded) keeps its table.
    if sa.inspect(op.get_bind()).has_table('reading_sessions'):
        return
    op.create_table(
        'reading_sessions',
        sa.Column('id', sa.String(length=32), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('grant_id', sa.Integer(), nullable=False),
        sa.Column('purpose_ciphertext', sa.LargeBinary(), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('closed_at', sa.DateTime(), nullable=True),
        sa.Column('close_reason', sa.String(length=32), nullable=False, server_default=''),
        sa.Column('reads', sa.Integer(), nullable=False, server_default='0'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.ForeignKeyConstraint(['grant_id'], ['grants.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('reading_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_reading_sessions_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_reading_sessions_grant_id', ['grant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('reading_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_reading_sessions_grant_id')
        batch_op.drop_index('ix_reading_sessions_user_id')
    op.drop_table('reading_sessions')
