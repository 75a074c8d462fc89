"""callbacks (the scheduler of future dials) and the tenant's callback mode

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 11:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadcall.core.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('callbacks',
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('source_call_id', sa.String(length=36), nullable=True),
    sa.Column('call_id', sa.String(length=36), nullable=True),
    sa.Column('due_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('requested_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('requested_text', sa.String(length=200), nullable=True),
    sa.Column('lead_timezone', sa.String(length=64), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('moved_code', sa.String(length=60), nullable=True),
    sa.Column('moved_params', sa.JSON(), nullable=True),
    sa.Column('reason_code', sa.String(length=60), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('agent_id', sa.String(length=100), nullable=True),
    sa.Column('call_type', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('claimed_until', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('organization_id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_callbacks_lead_id_leads')),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_callbacks_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_callbacks_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_callbacks_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_callbacks')),
    sa.UniqueConstraint('source_call_id', name=op.f('uq_callbacks_source_call_id'))
    )
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.create_index('ix_callbacks_due', ['status', 'due_at'], unique=False)
        batch_op.create_index('ix_callbacks_lead', ['lead_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_callbacks_tenant_id'), ['tenant_id'], unique=False)
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('callback_mode', sa.String(length=10), server_default='manual',
                                      nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('callback_mode')
    with op.batch_alter_table('callbacks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_callbacks_tenant_id'))
        batch_op.drop_index(batch_op.f('ix_callbacks_organization_id'))
        batch_op.drop_index('ix_callbacks_lead')
        batch_op.drop_index('ix_callbacks_due')
    op.drop_table('callbacks')
