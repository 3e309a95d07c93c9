"""identity and sessions: the reader's (name, birth date) term, server-side sessions, expiring
API tokens and name/address login throttling instead of account lockout

Revision ID: 0008
Revises: 0007

Stored own/relative ID hashes need no rewrite: 18-digit numbers hash as before. Hashes of
numbers registered in their 15-digit form do not match the canonical (18-digit) term any more;
they cannot be recomputed without the number, so the security admin re-enters those (and every
ID number, to add the name/birth-date term) - docs/access-control.md. Existing API tokens get
no expiry or epoch and therefore stop working: issue new ones. Existing session cookies carry
no server session id and are refused: everyone signs in again.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('person_hmac', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('api_token_expires_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('api_token_epoch', sa.Integer(), nullable=True))
    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('sid_hash', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('client_addr', sa.String(length=64), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_seen_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('end_reason', sa.String(length=32), nullable=False, server_default=''),
        sa.ForeignKeyConstraint(['user_id'], ['users.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_user_sessions_sid_hash', ['sid_hash'], unique=True)
        batch_op.create_index('ix_user_sessions_user_id', ['user_id'], unique=False)
    op.create_table(
        'login_throttles',
        sa.Column('key', sa.String(length=80), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False, server_default=''),
        sa.Column('client_addr', sa.String(length=64), nullable=False, server_default=''),
        sa.Column('failures', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('next_at', sa.DateTime(), nullable=True),
        sa.Column('last_failure_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    # Tokens issued before expiry existed never expired; they end now (issue new ones).
    op.execute("UPDATE users SET api_token_hash = NULL")


def downgrade() -> None:
    op.drop_table('login_throttles')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_user_sessions_user_id')
        batch_op.drop_index('ix_user_sessions_sid_hash')
    op.drop_table('user_sessions')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('api_token_epoch')
        batch_op.drop_column('api_token_expires_at')
        batch_op.drop_column('person_hmac')
