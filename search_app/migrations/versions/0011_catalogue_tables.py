"""catalogue in the database: 全宗, 门类, units, 密级, 保管期限, 档号 rules and corrections, purpose
categories, seeded with the values indexer.vocab held until now

Revision ID: 0011
Revises: 0010
"""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

from indexer.vocab import (CATEGORY_CODES, CLASSIFICATION_LEVELS, PURPOSE_SEEDS, RETENTION_YEARS,
                           RETENTIONS)

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

ENTRY_TABLES = ('catalogue_fonds', 'catalogue_categories', 'catalogue_units',
                'catalogue_classifications', 'catalogue_retentions', 'catalogue_purposes')


def _entry_columns() -> list[sa.Column]:
    return [sa.Column('id', sa.Integer(), primary_key=True),
            sa.Column('code', sa.String(length=32), nullable=False, unique=True),
            sa.Column('name', sa.String(length=128), nullable=False, unique=True),
            sa.Column('enabled', sa.Boolean(), nullable=False, server_default=sa.true()),
            sa.Column('former_names', sa.JSON(), nullable=False),
            sa.Column('created_at', sa.DateTime(), nullable=False),
            sa.Column('updated_at', sa.DateTime(), nullable=False)]


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table('catalogue_categories'):
        return  # idempotent, like 0010
    now = datetime.utcnow()
    extra = {'catalogue_classifications': [sa.Column('level', sa.Integer(), nullable=False, unique=True)],
             'catalogue_retentions': [sa.Column('years', sa.Integer(), nullable=True)],
             'catalogue_purposes': [sa.Column('default_fields', sa.JSON(), nullable=False),
                                    sa.Column('max_fields', sa.JSON(), nullable=True),
                                    sa.Column('max_hours', sa.Float(), nullable=True)]}
    tables = {name: op.create_table(name, *_entry_columns(), *extra.get(name, []))
              for name in ENTRY_TABLES}
    op.create_table(
        'catalogue_archive_no_rules',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('fonds_code', sa.String(length=32), nullable=False, server_default=''),
        sa.Column('category_code', sa.String(length=32), nullable=False),
        sa.Column('pattern', sa.String(length=200), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('fonds_code', 'category_code', name='uq_archive_no_rule'))
    op.create_table(
        'catalogue_archive_no_corrections',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('new_no', sa.String(length=128), nullable=False, unique=True),
        sa.Column('old_no', sa.String(length=128), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False))
    op.create_index('ix_catalogue_archive_no_corrections_old_no',
                    'catalogue_archive_no_corrections', ['old_no'])

    def row(code: str, name: str, **more) -> dict:
        return {'code': code, 'name': name, 'enabled': True, 'former_names': [],
                'created_at': now, 'updated_at': now, **more}

    op.bulk_insert(tables['catalogue_categories'],
                   [row(code, name) for name, code in CATEGORY_CODES.items()])
    op.bulk_insert(tables['catalogue_classifications'],
                   [row(f'L{level}', name, level=level) for name, level in CLASSIFICATION_LEVELS.items()])
    op.bulk_insert(tables['catalogue_retentions'],
                   [row(code, name, years=RETENTION_YEARS[code]) for code, name in RETENTIONS.items()])
    op.bulk_insert(tables['catalogue_purposes'],
                   [row(f'P{n:02d}', name, default_fields=spec.get('default_fields', []),
                        max_fields=spec.get('max_fields'), max_hours=spec.get('max_hours'))
                    for n, (name, spec) in enumerate(PURPOSE_SEEDS.items(), start=1)])
    # 全宗 and units have no fixed list in code today: the system admin enters the 全宗; a unit is
    # registered when a file of it is first ingested (search_app.catalogue.services).


def downgrade() -> None:
    op.drop_index('ix_catalogue_archive_no_corrections_old_no',
                  table_name='catalogue_archive_no_corrections')
    for name in ('catalogue_archive_no_corrections', 'catalogue_archive_no_rules', *ENTRY_TABLES):
        op.drop_table(name)
