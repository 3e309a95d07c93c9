"""page images: the redacted page image (black boxes burned in) kept encrypted in the blob store

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('page_secrets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('page_secrets', schema=None) as batch_op:
        batch_op.drop_column('image_sha256')
