"""call logs name the callback scheduled from their request

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 11:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_id', sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.drop_column('callback_id')
