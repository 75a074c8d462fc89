from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi import FastAPI
from sqlalchemy.engine import Connection

from leadcall.leads.models import SEARCH_INDEXES, SEARCH_TABLE
from leadcall.models import metadata


def _declared(name: Any, type_: str, *_: Any) -> bool:
    """The search's indexes exist in the migrations only: PostgreSQL's trigram indexes, SQLite's FTS5 table
    and the shadow tables FTS5 keeps it in (leads_search_data, _idx, _docsize, _config)."""
    if type_ == "table" and (name == SEARCH_TABLE or str(name).startswith(f"{SEARCH_TABLE}_")):
        return False
    return not (type_ == "index" and name in SEARCH_INDEXES)


async def test_migrations_match_the_models(app: FastAPI) -> None:
    """The migrated test database has exactly the tables and columns the models declare."""

    def diff(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": False, "include_name": _declared})
        return list(compare_metadata(context, metadata))

    async with app.state.container.engine.connect() as connection:
        differences = await connection.run_sync(diff)
    assert differences == []
