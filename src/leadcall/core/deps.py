"""Request-scoped dependencies shared by every domain router."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.db import transaction
from leadcall.kit.clock import Clock, utc_datetime

if TYPE_CHECKING:
    from leadcall.core.container import Container


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def _db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request owns the transaction: commit when the endpoint returns, roll back on error."""
    async with transaction(get_container(request).sessionmaker) as session:
        yield session


# Dependencies are `async def`: FastAPI runs a plain `def` dependency in a worker thread,
# a thread hop per request for what is an attribute read.
async def _container(request: Request) -> Container:
    return get_container(request)


async def _clock(request: Request) -> Clock:
    return get_container(request).clock


async def _now(request: Request) -> datetime:
    return utc_datetime(get_container(request).clock)


DbSession = Annotated[AsyncSession, Depends(_db_session, scope="function")]
ContainerDep = Annotated["Container", Depends(_container)]
Now = Annotated[datetime, Depends(_now)]
ClockDep = Annotated[Clock, Depends(_clock)]
