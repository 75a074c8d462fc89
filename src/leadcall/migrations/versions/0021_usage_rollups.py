"""daily usage rollups: what each UTC day's calls add up to per organization, agent, user and outcome,
filled here from the calls there are (calls/rollups.py keeps them exact from then on)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 16:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None

# What one call adds, as calls/rollups.py `contribution` computes it; the day is its UTC created_at.
_KEYS = {
    'agent': ("agent_ref_id", "coalesce(agent_name, '')"),
    'user': ("coalesce(user_id, '')", "''"),
    'outcome': ("coalesce(sales_result, phone_result, status)", "''"),
}


def _backfill_sql(dialect: str) -> list[str]:
    if dialect == 'postgresql':
        day = "(created_at AT TIME ZONE 'UTC')::date"
        units = "coalesce(round(cost * 10000), 0)::bigint"
    else:
        day = "substr(created_at, 1, 10)"  # SQLite keeps UTC datetimes as ISO text
        units = "coalesce(CAST(round(cost * 10000) AS INTEGER), 0)"
    return [
        "INSERT INTO usage_rollups (tenant_id, day, organization_id, dimension, key, label, calls, answered, "
        "seconds, cost_units) "
        f"SELECT tenant_id, {day}, organization_id, '{dimension}', {key}, {label}, count(*), "
        "sum(CASE WHEN phone_result = 'answered' THEN 1 ELSE 0 END), coalesce(sum(duration_seconds), 0), "
        f"sum({units}) FROM call_logs GROUP BY tenant_id, {day}, organization_id, {key}"
        + (f", {label}" if label != "''" else "")
        for dimension, (key, label) in _KEYS.items()]


def upgrade() -> None:
    op.create_table('usage_rollups',
    sa.Column('tenant_id', sa.String(length=36), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('organization_id', sa.String(length=36), nullable=False),
    sa.Column('dimension', sa.String(length=10), nullable=False),
    sa.Column('key', sa.String(length=36), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('calls', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.BigInteger(), nullable=False),
    sa.Column('cost_units', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'],
                            name=op.f('fk_usage_rollups_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_usage_rollups_tenant_id_tenants'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'day', 'organization_id', 'dimension', 'key', 'label',
                            name=op.f('pk_usage_rollups'))
    )
    op.create_index(op.f('ix_usage_rollups_organization_id'), 'usage_rollups', ['organization_id'], unique=False)
    for statement in _backfill_sql(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    op.drop_index(op.f('ix_usage_rollups_organization_id'), table_name='usage_rollups')
    op.drop_table('usage_rollups')
