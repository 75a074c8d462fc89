"""leadcall's analysis on each agent: whether it is set up, why not, and the tenant's opt-out

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 11:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadcall.core.db

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('agent_analysis_setups',
    sa.Column('agent_ref_id', sa.String(length=36), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('opted_out', sa.Boolean(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=True),
    sa.Column('call_types', sa.String(length=100), nullable=True),
    sa.Column('updated_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['agent_ref_id'], ['voice_agents.id'],
                            name=op.f('fk_agent_analysis_setups_agent_ref_id_voice_agents'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_agent_analysis_setups_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agent_analysis_setups')),
    sa.UniqueConstraint('agent_ref_id', name=op.f('uq_agent_analysis_setups_agent_ref_id'))
    )
    with op.batch_alter_table('agent_analysis_setups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agent_analysis_setups_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('agent_analysis_setups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agent_analysis_setups_tenant_id'))
    op.drop_table('agent_analysis_setups')
