"""A placement the provider did not take keeps the stable code of why, beside its sentence.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failure_code', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.drop_column('failure_code')
