"""campaign attempts remember the lead's owner when the campaign started (stop condition `reassigned`)

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 16:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_owner_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('campaign_attempts', schema=None) as batch_op:
        batch_op.drop_column('lead_owner_id')
