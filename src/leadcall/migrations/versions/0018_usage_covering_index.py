"""the usage report's covering index: a year of a tenant's calls grouped without reading the call rows

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 14:00:00
"""
from __future__ import annotations

from alembic import op

revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None

COLUMNS = ['tenant_id', 'created_at', 'organization_id', 'agent_ref_id', 'agent_name', 'user_id', 'phone_result',
           'sales_result', 'status', 'duration_seconds', 'cost']


def upgrade() -> None:
    op.create_index('ix_call_logs_usage', 'call_logs', COLUMNS, unique=False)


def downgrade() -> None:
    op.drop_index('ix_call_logs_usage', table_name='call_logs')
