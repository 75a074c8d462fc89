"""Leads are archived, never deleted: calls and their audit trail no longer cascade away with a lead;
an erased lead and its archive marks; conversations to delete at ElevenLabs; retention's provider option.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 09:47:43.935828
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadcall.core.db

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('conversation_deletions',
    sa.Column('call_id', sa.String(length=36), nullable=False),
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('conversation_id', sa.String(length=100), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('requested_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deleted_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['elevenlabs_accounts.id'], name=op.f('fk_conversation_deletions_account_id_elevenlabs_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['call_id'], ['call_logs.id'], name=op.f('fk_conversation_deletions_call_id_call_logs')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_conversation_deletions_tenant_id_tenants'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_deletions')),
    sa.UniqueConstraint('call_id', name=op.f('uq_conversation_deletions_call_id'))
    )
    with op.batch_alter_table('conversation_deletions', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_deletions_pending', ['deleted_at', 'attempts'], unique=False)
        batch_op.create_index(batch_op.f('ix_conversation_deletions_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_call_events_call_id_call_logs'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_call_events_call_id_call_logs'), 'call_logs', ['call_id'], ['id'])

    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_call_logs_lead_id_leads'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_call_logs_lead_id_leads'), 'leads', ['lead_id'], ['id'])

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('archived_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('erased_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True))

    op.create_table('lead_events',
    sa.Column('lead_id', sa.String(length=36), nullable=False),
    sa.Column('at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('user_id', sa.String(length=36), nullable=True),
    sa.Column('actor', sa.String(length=254), nullable=False),
    sa.Column('detail', sa.String(length=500), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['leads.id'], name=op.f('fk_lead_events_lead_id_leads')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_lead_events_tenant_id_tenants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_lead_events_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_events'))
    )
    with op.batch_alter_table('lead_events', schema=None) as batch_op:
        batch_op.create_index('ix_lead_events_lead', ['lead_id', 'at', 'seq'], unique=False)
        batch_op.create_index(batch_op.f('ix_lead_events_tenant_id'), ['tenant_id'], unique=False)

    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_delete_at_provider', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('lead_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lead_events_tenant_id'))
        batch_op.drop_index('ix_lead_events_lead')

    op.drop_table('lead_events')
    with op.batch_alter_table('tenants', schema=None) as batch_op:
        batch_op.drop_column('retention_delete_at_provider')

    with op.batch_alter_table('leads', schema=None) as batch_op:
        batch_op.drop_column('erased_at')
        batch_op.drop_column('archived_at')

    with op.batch_alter_table('call_logs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_call_logs_lead_id_leads'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_call_logs_lead_id_leads'), 'leads', ['lead_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('call_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_call_events_call_id_call_logs'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_call_events_call_id_call_logs'), 'call_logs', ['call_id'], ['id'], ondelete='CASCADE')

    with op.batch_alter_table('conversation_deletions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversation_deletions_tenant_id'))
        batch_op.drop_index('ix_conversation_deletions_pending')

    op.drop_table('conversation_deletions')
