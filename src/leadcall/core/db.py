"""Database engine, sessions and the declarative base."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import GenericFunction
from sqlalchemy.util import await_only

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class IdMixin:
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)


class fold(GenericFunction[str]):  # noqa: N801 - an SQL function, named as SQL names them
    """A text in lower case, any letter (not only ASCII's), for searches that ignore case: PostgreSQL's
    lower(); on SQLite, whose lower() folds ASCII letters only, a function of ours that does what Python's
    str.lower does ("JOSÉ" → "josé")."""

    type = String()
    name = "fold"
    inherit_cache = True


@compiles(fold)
def _fold_default(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(fold, "sqlite")
def _fold_sqlite(element: fold, compiler: SQLCompiler, **kw: Any) -> str:
    return f"leadcall_fold({compiler.process(element.clauses, **kw)})"


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


BUSY_TIMEOUT_SECONDS = 30  # how long a SQLite write waits for another one before it fails


class _Writers:
    """One asyncio lock per event loop that the SQLite writers of this process take in turn (from
    SQLAlchemy's synchronous events, which run inside the async engine's greenlet). Held by DBAPI
    connection, and given back on every way a transaction can end: commit, rollback, the pool's reset
    or check-in, an invalidated or closed connection (a task cancelled mid-transaction)."""

    def __init__(self) -> None:
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()
        self._held: dict[int, asyncio.Lock] = {}

    def enter(self, dbapi_connection: object) -> None:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        await_only(self._acquire(lock))
        self._held[id(dbapi_connection)] = lock

    def leave(self, dbapi_connection: object) -> None:
        lock = self._held.pop(id(dbapi_connection), None)
        if lock is not None:
            lock.release()

    @staticmethod
    async def _acquire(lock: asyncio.Lock) -> None:
        try:
            async with asyncio.timeout(BUSY_TIMEOUT_SECONDS):
                await lock.acquire()
        except TimeoutError:
            raise TimeoutError(f"the database stayed locked by another write for {BUSY_TIMEOUT_SECONDS} s") from None


def make_engine(url: str) -> AsyncEngine:
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_SECONDS}
    else:
        kwargs["pool_size"] = 10
        kwargs["max_overflow"] = 20
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_SECONDS * 1000}")
            # WAL + NORMAL: a commit survives a crash of the process; only a power cut may lose the
            # last commits (never corrupting the file). FULL would sync the disk on every commit.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()
            dbapi_conn.create_function("leadcall_fold", 1, _lower, deterministic=True)

        writers = _Writers()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Take the write lock at BEGIN so read-then-write transactions (budget
            # reservations, idempotency keys) serialize instead of failing to upgrade;
            # read-only units of work (see `read_only`) begin deferred and never wait.
            if conn.get_execution_options().get("leadcall_read_only"):
                conn.exec_driver_sql("BEGIN")
                return
            # Writers of this process queue on an asyncio lock first: SQLite's own busy handler
            # sleeps and polls (up to 100 ms a try), which wastes most of the time under contention.
            dbapi_connection = conn.connection.dbapi_connection
            writers.enter(dbapi_connection)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                writers.leave(dbapi_connection)
                raise

        @event.listens_for(engine.sync_engine, "commit")
        @event.listens_for(engine.sync_engine, "rollback")
        def _sqlite_end(conn: Any) -> None:
            if not conn.invalidated:
                writers.leave(conn.connection.dbapi_connection)

        for pool_event in ("reset", "checkin", "invalidate", "soft_invalidate", "close", "close_detached"):
            @event.listens_for(engine.sync_engine.pool, pool_event)
            def _sqlite_released(dbapi_connection: Any, *_: Any) -> None:
                writers.leave(dbapi_connection)

        # Let SQLAlchemy's BEGIN be ours (pysqlite otherwise begins implicitly).
        @event.listens_for(engine.sync_engine, "connect", insert=True)
        def _sqlite_autocommit(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def make_read_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for units of work that only read (SQLite: a deferred BEGIN that takes no write lock)."""
    return async_sessionmaker(engine.execution_options(leadcall_read_only=True), expire_on_commit=False)


AfterCommit = Callable[[], Awaitable[None]]


def on_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Run `callback` once the session's transaction has committed (never if it rolls back).

    Jobs and events are published this way, so a worker never sees an id whose row
    is not yet visible.
    """
    session.info.setdefault("after_commit", []).append(callback)


async def commit(session: AsyncSession) -> None:
    await session.commit()
    callbacks: list[AfterCommit] = session.info.pop("after_commit", [])
    for callback in callbacks:
        await callback()


@asynccontextmanager
async def transaction(maker: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: committed when the block ends without error, rolled back otherwise."""
    async with maker() as session:
        try:
            yield session
        except BaseException:
            session.info.pop("after_commit", None)
            await session.rollback()
            raise
        await commit(session)
