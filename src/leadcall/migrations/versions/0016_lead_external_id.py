"""leads carry the CRM's own id (externalId), unique per tenant

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 13:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=200), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_leads_tenant_id_external_id'), ['tenant_id', 'external_id'])


def downgrade() -> None:
    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_leads_tenant_id_external_id'), type_='unique')
        batch_op.drop_column('external_id')
