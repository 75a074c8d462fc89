"""calls confirmed by our id: when a call's placing became unconfirmed, when a kept webhook is retried

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadcall.core.db

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirming_since', leadcall.core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retry_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('webhook_deliveries', schema=None) as batch_op:
        batch_op.drop_column('retry_at')
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.drop_column('confirming_since')
