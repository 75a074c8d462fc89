from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from leadcall.core.db import make_engine
from leadcall.models import metadata

config = context.config


def _sqlite_pragma(connection: Connection, statement: str) -> list[tuple[object, ...]]:
    """Runs a pragma on the raw connection, outside SQLAlchemy's transaction handling."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(statement)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    guard = sqlite and not connection.in_transaction()
    if guard:
        # Batch mode alters a SQLite table by copying it and dropping the old one; with foreign keys on,
        # that drop would cascade deletes into every referencing table (call events, calls...). The pragma
        # is ignored inside a transaction, so it is set before the migration's transaction begins, and the
        # references are checked once it has committed.
        _sqlite_pragma(connection, "PRAGMA foreign_keys=OFF")
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=sqlite, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
    if guard:
        connection.commit()
        broken = _sqlite_pragma(connection, "PRAGMA foreign_key_check")
        _sqlite_pragma(connection, "PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"the migration left rows whose references are broken: {broken[:5]}")


async def _main() -> None:
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


existing = config.attributes.get("connection")
if existing is not None:
    _run(existing)
else:
    asyncio.run(_main())
