"""the leads search on SQLite: an FTS5 trigram index of the searched fields, kept in step by triggers

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 16:10:00
"""
from __future__ import annotations

from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# The search is a substring match (LIKE '%word%') over these columns; the trigram tokenizer indexes every
# three characters of each, so a phrase of three characters or more finds the rows containing it. The table
# is external content (it stores only the index and reads the text from leads by rowid), so it duplicates
# nothing. A migration that copies leads into a new table (batch mode) drops these triggers and may renumber
# the rowids: it must create them again and rebuild the index (tests/leads/test_search.py fails without them).
COLUMNS = 'name, company, phone, email'
OLD = 'old.name, old.company, old.phone, old.email'
NEW = 'new.name, new.company, new.phone, new.email'

STATEMENTS = [
    f"CREATE VIRTUAL TABLE leads_search USING fts5({COLUMNS}, content='leads', tokenize='trigram')",
    f"CREATE TRIGGER leads_search_insert AFTER INSERT ON leads BEGIN "
    f"INSERT INTO leads_search(rowid, {COLUMNS}) VALUES (new.rowid, {NEW}); END",
    f"CREATE TRIGGER leads_search_delete AFTER DELETE ON leads BEGIN "
    f"INSERT INTO leads_search(leads_search, rowid, {COLUMNS}) VALUES ('delete', old.rowid, {OLD}); END",
    # Only a change of a searched column touches the index (a call's status change does not).
    f"CREATE TRIGGER leads_search_update AFTER UPDATE OF {COLUMNS} ON leads BEGIN "
    f"INSERT INTO leads_search(leads_search, rowid, {COLUMNS}) VALUES ('delete', old.rowid, {OLD}); "
    f"INSERT INTO leads_search(rowid, {COLUMNS}) VALUES (new.rowid, {NEW}); END",
    "INSERT INTO leads_search(leads_search) VALUES ('rebuild')",
]


def upgrade() -> None:
    # PostgreSQL's search is served by the trigram indexes of migration 0017.
    if op.get_bind().dialect.name == 'sqlite':
        for statement in STATEMENTS:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('leads_search_insert', 'leads_search_delete', 'leads_search_update'):
            op.execute(f'DROP TRIGGER IF EXISTS {trigger}')
        op.execute('DROP TABLE IF EXISTS leads_search')
