"""ElevenLabs accounts keep their last connection test's result as a code with parameters, so a page words it
in its reader's language (the English detail stays as the fallback for results without a code)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 16:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('elevenlabs_accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_check_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('last_check_params', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('elevenlabs_accounts', schema=None) as batch_op:
        batch_op.drop_column('last_check_params')
        batch_op.drop_column('last_check_code')
