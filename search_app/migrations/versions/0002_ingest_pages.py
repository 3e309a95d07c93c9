"""ingest pages, page version history

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_pages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("page_no", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("ocr_confidence", sa.Float(), nullable=True),
        sa.Column("text_source", sa.String(length=16), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["ingest_files.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("file_id", "page_no", name="uq_ingest_pages_file_page"),
    )
    with op.batch_alter_table("ingest_pages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_pages_file_id"), ["file_id"], unique=False)
    op.create_table(
        "page_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("doc_id", sa.String(length=300), nullable=False),
        sa.Column("archive_no", sa.String(length=128), nullable=False),
        sa.Column("page_no", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("ocr_confidence", sa.Float(), nullable=True),
        sa.Column("text_source", sa.String(length=16), nullable=False),
        sa.Column("pii_kinds", sa.JSON(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("replaced_at", sa.DateTime(), nullable=False),
        sa.Column("replaced_by", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("page_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_page_versions_doc_id"), ["doc_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_page_versions_archive_no"), ["archive_no"], unique=False)
    with op.batch_alter_table("ingest_files", schema=None) as batch_op:
        batch_op.add_column(sa.Column("started_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=False, server_default=""))
    with op.batch_alter_table("page_secrets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("text_source", sa.String(length=16), nullable=False,
                                      server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("page_secrets", schema=None) as batch_op:
        batch_op.drop_column("text_source")
    with op.batch_alter_table("ingest_files", schema=None) as batch_op:
        batch_op.drop_column("note")
        batch_op.drop_column("started_at")
    with op.batch_alter_table("page_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_versions_archive_no"))
        batch_op.drop_index(batch_op.f("ix_page_versions_doc_id"))
    op.drop_table("page_versions")
    with op.batch_alter_table("ingest_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_pages_file_id"))
    op.drop_table("ingest_pages")
