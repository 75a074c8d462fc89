"""SQLite writers of one process take turns on an asyncio lock (no busy-wait polling), and the lock is
always given back: after a commit, after a rollback, and when a write waits too long it fails clearly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.core import db
from leadcall.core.db import make_engine, make_read_sessionmaker, make_sessionmaker, transaction


@pytest.fixture
async def makers(tmp_path: Path) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], ...]]:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'writers.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)"))
        await conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield make_sessionmaker(engine), make_read_sessionmaker(engine)
    await engine.dispose()


async def value(maker: async_sessionmaker[AsyncSession]) -> int:
    async with transaction(maker) as session:
        return int((await session.execute(text("SELECT value FROM counter WHERE id = 1"))).scalar_one())


async def test_concurrent_read_then_write_units_serialize(makers: tuple[async_sessionmaker[AsyncSession], ...]) -> None:
    writer, reader = makers

    async def increment() -> None:
        async with transaction(writer) as session:
            current = (await session.execute(text("SELECT value FROM counter WHERE id = 1"))).scalar_one()
            await asyncio.sleep(0.001)  # another task runs here; it must not read the same value
            await session.execute(text("UPDATE counter SET value = :v WHERE id = 1"), {"v": current + 1})

    await asyncio.gather(*(increment() for _ in range(25)))
    assert await value(reader) == 25


async def test_the_lock_is_given_back_after_a_rollback(makers: tuple[async_sessionmaker[AsyncSession], ...]) -> None:
    writer, reader = makers
    with pytest.raises(RuntimeError):
        async with transaction(writer) as session:
            await session.execute(text("UPDATE counter SET value = 7 WHERE id = 1"))
            raise RuntimeError("the unit of work fails")
    async with transaction(writer) as session:
        await session.execute(text("UPDATE counter SET value = value + 1 WHERE id = 1"))
    assert await value(reader) == 1


async def test_a_write_waiting_too_long_fails_clearly_and_reads_never_wait(
        makers: tuple[async_sessionmaker[AsyncSession], ...], monkeypatch: pytest.MonkeyPatch) -> None:
    writer, reader = makers
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 0.2)
    holding, release = asyncio.Event(), asyncio.Event()

    async def long_write() -> None:
        async with transaction(writer) as session:
            await session.execute(text("UPDATE counter SET value = 5 WHERE id = 1"))
            holding.set()
            await release.wait()

    first = asyncio.create_task(long_write())
    await holding.wait()
    assert await value(reader) == 0, "a reader sees the last commit while a write is open"
    with pytest.raises(TimeoutError, match="stayed locked by another write"):
        async with transaction(writer) as session:
            await session.execute(text("UPDATE counter SET value = 9 WHERE id = 1"))
    release.set()
    await first
    assert await value(reader) == 5


async def test_a_task_cancelled_mid_transaction_gives_the_lock_back(
        makers: tuple[async_sessionmaker[AsyncSession], ...], monkeypatch: pytest.MonkeyPatch) -> None:
    writer, reader = makers
    monkeypatch.setattr(db, "BUSY_TIMEOUT_SECONDS", 2)
    holding = asyncio.Event()

    async def abandoned_write() -> None:
        async with transaction(writer) as session:
            await session.execute(text("UPDATE counter SET value = 3 WHERE id = 1"))
            holding.set()
            await asyncio.Event().wait()  # never ends: the task is cancelled here

    task = asyncio.create_task(abandoned_write())
    await holding.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with transaction(writer) as session:  # would wait BUSY_TIMEOUT_SECONDS and fail if the lock leaked
        await session.execute(text("UPDATE counter SET value = value + 10 WHERE id = 1"))
    assert await value(reader) == 10, "the cancelled write was rolled back"
