from __future__ import annotations

import typer

from leadcall.core.migrate import upgrade as run_upgrade
from leadcall.settings import Settings

app = typer.Typer(help="Database schema.", no_args_is_help=True)


@app.command("upgrade", help="Apply all migrations (SQLite or PostgreSQL, from LEADCALL_DATABASE_URL).")
def upgrade(revision: str = typer.Argument("head")) -> None:
    run_upgrade(Settings().database_url, revision)
    typer.echo("database is up to date")
