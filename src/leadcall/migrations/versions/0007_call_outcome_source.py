"""call outcomes: where they came from, their evidence, and whether the lead opted out

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outcome_source', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('outcome_evidence', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('opted_out', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.drop_column('opted_out')
        batch_op.drop_column('outcome_evidence')
        batch_op.drop_column('outcome_source')
