"""the dispatcher's indexes: due attempts in claim order (due time, then id) without a sort, and the claims on
their way found among the few claimed rows instead of a campaign's or tenant's every pending attempt

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 16:30:00
"""
from __future__ import annotations

from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaign_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_attempts_due')
        batch_op.create_index('ix_campaign_attempts_due', ['campaign_id', 'state', 'due_at', 'id'], unique=False)
        batch_op.create_index('ix_campaign_attempts_claimed', ['state', 'claimed_until'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('campaign_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_campaign_attempts_claimed')
        batch_op.drop_index('ix_campaign_attempts_due')
        batch_op.create_index('ix_campaign_attempts_due', ['campaign_id', 'state', 'due_at'], unique=False)
