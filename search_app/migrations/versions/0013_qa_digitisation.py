"""digitisation QA (DA/T 31-2017): page and file checks, QA reviewers' scopes

Revision ID: 0013
Revises: 0012
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Idempotent: a database stamped back to an earlier revision (and re-upgraded) keeps its tables.
    have = set(sa.inspect(op.get_bind()).get_table_names())
    if 'qa_files' not in have:
        op.create_table(
            'qa_files',
            sa.Column('file_id', sa.Integer(), nullable=False),
            sa.Column('job_id', sa.Integer(), nullable=False),
            sa.Column('archive_no', sa.String(length=128), nullable=False),
            sa.Column('declared_pages', sa.Integer(), nullable=True),
            sa.Column('pages_total', sa.Integer(), nullable=False),
            sa.Column('mismatch', sa.Text(), nullable=False),
            sa.Column('checked_at', sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(['file_id'], ['ingest_files.id']),
            sa.PrimaryKeyConstraint('file_id'),
        )
        with op.batch_alter_table('qa_files', schema=None) as batch_op:
            batch_op.create_index('ix_qa_files_job_id', ['job_id'], unique=False)
            batch_op.create_index('ix_qa_files_archive_no', ['archive_no'], unique=False)
    if 'qa_pages' not in have:
        op.create_table(
            'qa_pages',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('file_id', sa.Integer(), nullable=False),
            sa.Column('job_id', sa.Integer(), nullable=False),
            sa.Column('archive_no', sa.String(length=128), nullable=False),
            sa.Column('page_no', sa.Integer(), nullable=False),
            sa.Column('doc_id', sa.String(length=300), nullable=False),
            sa.Column('text_source', sa.String(length=16), nullable=False),
            sa.Column('ocr_confidence', sa.Float(), nullable=True),
            sa.Column('dpi', sa.Float(), nullable=True),
            sa.Column('low_dpi', sa.Boolean(), nullable=False),
            sa.Column('blank', sa.Boolean(), nullable=False),
            sa.Column('ink_ratio', sa.Float(), nullable=True),
            sa.Column('rotation', sa.Integer(), nullable=False),
            sa.Column('osd_ran', sa.Boolean(), nullable=False),
            sa.Column('osd_confidence', sa.Float(), nullable=True),
            sa.Column('skew', sa.Float(), nullable=False),
            sa.Column('status', sa.String(length=16), nullable=False),
            sa.Column('text_version', sa.Integer(), nullable=False),
            sa.Column('decided_by', sa.String(length=64), nullable=True),
            sa.Column('decided_at', sa.DateTime(), nullable=True),
            sa.Column('rescan_reason', sa.Text(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(['file_id'], ['ingest_files.id']),
            sa.PrimaryKeyConstraint('id'),
            sa.UniqueConstraint('file_id', 'page_no', name='uq_qa_pages_file_page'),
        )
        with op.batch_alter_table('qa_pages', schema=None) as batch_op:
            batch_op.create_index('ix_qa_pages_file_id', ['file_id'], unique=False)
            batch_op.create_index('ix_qa_pages_job_id', ['job_id'], unique=False)
            batch_op.create_index('ix_qa_pages_archive_no', ['archive_no'], unique=False)
            batch_op.create_index('ix_qa_pages_doc_id', ['doc_id'], unique=False)
    if 'qa_scopes' not in have:
        op.create_table(
            'qa_scopes',
            sa.Column('id', sa.Integer(), nullable=False),
            sa.Column('user_id', sa.Integer(), nullable=False),
            sa.Column('job_ids', sa.JSON(), nullable=False),
            sa.Column('classification_ceiling', sa.Integer(), nullable=False),
            sa.Column('unmask_fields', sa.JSON(), nullable=False),
            sa.Column('purpose', sa.Text(), nullable=False),
            sa.Column('granted_by', sa.String(length=64), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('expires_at', sa.DateTime(), nullable=False),
            sa.Column('revoked_at', sa.DateTime(), nullable=True),
            sa.Column('revoked_by', sa.String(length=64), nullable=True),
            sa.ForeignKeyConstraint(['user_id'], ['users.id']),
            sa.PrimaryKeyConstraint('id'),
        )
        with op.batch_alter_table('qa_scopes', schema=None) as batch_op:
            batch_op.create_index('ix_qa_scopes_user_id', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('qa_scopes')
    op.drop_table('qa_pages')
    op.drop_table('qa_files')
