"""What CLI commands share: settings from the environment and one transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.db import make_engine, make_sessionmaker, transaction
from leadcall.core.errors import LeadcallError
from leadcall.settings import Settings


@asynccontextmanager
async def unit_of_work(settings: Settings | None = None) -> AsyncIterator[AsyncSession]:
    settings = settings or Settings()
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            yield session
    finally:
        await engine.dispose()


def now() -> datetime:
    return datetime.now(UTC)


def fail(exc: LeadcallError) -> typer.Exit:
    typer.secho(f"error: {exc.detail}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)
