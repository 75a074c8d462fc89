"""campaigns and their lead attempts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 12:51:05
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadcall.core.db

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('agent_ids', sa.JSON(), nullable=False),
    sa.Column('call_type', sa.String(length=40), nullable=False),
    sa.Column('lead_ids', sa.JSON(), nullable=True),
    sa.Column('lead_filter', sa.JSON(), nullable=True),
    sa.Column('start_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('windows', sa.JSON(), nullable=True),
    sa.Column('max_live_calls', sa.Integer(), nullable=False),
    sa.Column('calls_per_second', sa.Numeric(precision=8, scale=3, asdecimal=False), nullable=False),
    sa.Column('retry', sa.JSON(), nullable=False),
    sa.Column('stop_on', sa.JSON(), nullable=False),
    sa.Column('spending_cap', sa.Numeric(precision=12, scale=4, asdecimal=False), nullable=True),
    sa.Column('created_by', sa.String(length=36), nullable=True),
    sa.Column('created_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('end_code', sa.String(length=60), nullable=True),
    sa.Column('last_dispatch_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pace', sa.JSON(), nullable=True),
    sa.Column('agent_turn', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_campaigns_created_by_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_campaigns_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_campaigns_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index('ix_campaigns_dispatch', ['state', 'last_dispatch_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaigns_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaigns_tenant_id'), ['tenant_id'], unique=False)

    op.create_table('campaign_attempts',
    sa.Column('campaign_id', sa.String(length=36), nullable=False),
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('attempt', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=10), nullable=False),
    sa.Column('due_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_until', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('call_id', sa.String(length=36), nullable=True),
    sa.Column('agent_id', sa.String(length=100), nullable=True),
    sa.Column('phone_result', sa.String(length=20), nullable=True),
    sa.Column('outcome', sa.String(length=30), nullable=True),
    sa.Column('code', sa.String(length=60), nullable=True),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('cost', sa.Numeric(precision=12, scale=4, asdecimal=False), nullable=True),
    sa.Column('duration_seconds', sa.Integer(), nullable=True),
    sa.Column('lead_local_hour', sa.Integer(), nullable=True),
    sa.Column('created_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_attempts_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_campaign_attempts_lead_id_leads')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_campaign_attempts_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_campaign_attempts_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_attempts')),
    sa.UniqueConstraint('call_id', name=op.f('uq_campaign_attempts_call_id')),
    sa.UniqueConstraint('campaign_id', 'lead_id', 'attempt', name=op.f('uq_campaign_attempts_campaign_id_lead_id_attempt'))
    )
    with op.batch_alter_table('campaign_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_attempts_due', ['campaign_id', 'state', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_attempts_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_attempts_tenant_id'), ['tenant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('campaign_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_attempts_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_attempts_organization_id'))
        batch_op.drop_index('ix_campaign_attempts_due')

    op.drop_table('campaign_attempts')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_campaigns_organization_id'))
        batch_op.drop_index('ix_campaigns_dispatch')

    op.drop_table('campaigns')
