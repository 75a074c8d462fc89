"""indexes for a big tenant: calls by tenant and time (usage, calls list), trigram search of leads (PostgreSQL)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 13:50:00
"""
from __future__ import annotations

from alembic import op

from leadcall.leads.models import SEARCH_INDEXES

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_call_logs_tenant_created', 'call_logs', ['tenant_id', 'created_at', 'id'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # The leads search is a substring match (LIKE '%word%'): only trigram indexes serve it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        for name, expression in SEARCH_INDEXES.items():
            op.execute(f'CREATE INDEX {name} ON leads USING gin (({expression}) gin_trgm_ops)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        for name in SEARCH_INDEXES:
            op.execute(f'DROP INDEX IF EXISTS {name}')
    op.drop_index('ix_call_logs_tenant_created', table_name='call_logs')
