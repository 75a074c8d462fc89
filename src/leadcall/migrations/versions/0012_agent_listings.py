"""the last good agent listing of each ElevenLabs account

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 10:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import leadcall.core.db

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('voice_agent_listings',
    sa.Column('account_id', sa.String(length=36), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('listed_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('checked_at', leadcall.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('problem_code', sa.String(length=40), nullable=True),
    sa.Column('problem_detail', sa.String(length=500), nullable=True),
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['elevenlabs_accounts.id'],
                            name=op.f('fk_voice_agent_listings_account_id_elevenlabs_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_voice_agent_listings_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', name=op.f('pk_voice_agent_listings'))
    )
    with op.batch_alter_table('voice_agent_listings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_voice_agent_listings_tenant_id'), ['tenant_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('voice_agent_listings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_voice_agent_listings_tenant_id'))
    op.drop_table('voice_agent_listings')
