"""what leadcall last learnt of each ElevenLabs account's webhooks

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 13:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadcall.core.db

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voice_account_health',
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('webhook_checked_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('webhook_state', sa.String(length=30), nullable=True),
    sa.Column('webhook_detail', sa.String(length=500), nullable=True),
    sa.Column('webhook_seen_url', sa.String(length=500), nullable=True),
    sa.Column('webhook_failure_code', sa.Integer(), nullable=True),
    sa.Column('webhook_failure_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refused_count', sa.Integer(), nullable=False),
    sa.Column('refused_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refused_detail', sa.String(length=300), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['elevenlabs_accounts.id'],
                            name=op.f('fk_voice_account_health_account_id_elevenlabs_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_voice_account_health_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_voice_account_health'))
    )
    with op.batch_alter_table('voice_account_health', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voice_account_health_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('voice_account_health', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voice_account_health_tenant_id'))
    op.drop_table('voice_account_health')
