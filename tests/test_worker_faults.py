"""`leadcall worker` outlives its Redis: started while Redis is down it waits for it, and through a restart
(an empty Redis) and a freeze it keeps running and sweeps again once Redis answers. What an operator sees:
the process stays up and its sweep heartbeat comes back.

The worker is a real process against the tests' database and a private redis-server (never the shared one)."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from leadcall.settings import Settings
from tests.redis_server import PrivateRedis, running_private_redis

LEADCALL = str(Path(sys.executable).with_name("leadcall"))
HEARTBEAT = "leadcall:heartbeat:sweep"


@pytest.fixture
def server() -> Iterator[PrivateRedis]:
    with running_private_redis() as redis:
        yield redis


class WorkerProcess:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.log: list[str] = []
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        async for line in self.proc.stderr:
            self.log.append(line.decode(errors="replace").rstrip())

    async def logged(self, words: str, *, times: int = 1) -> None:
        async with asyncio.timeout(30):
            while True:
                if sum(words in line for line in self.log) >= times:
                    return
                await asyncio.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.proc.returncode is None

    async def stop(self) -> None:
        if self.running:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await self._reader


StartWorker = Callable[[], Awaitable[WorkerProcess]]


@pytest.fixture
async def start_worker(settings: Settings, server: PrivateRedis) -> AsyncIterator[StartWorker]:
    started: list[WorkerProcess] = []

    async def start() -> WorkerProcess:
        env = {**os.environ, "LEADCALL_DATABASE_URL": settings.database_url, "LEADCALL_REDIS_URL": server.url,
               "LEADCALL_SECRET_KEYS": settings.secret_keys.get_secret_value(), "LEADCALL_REDIS_TIMEOUT_SECONDS": "0.5"}
        proc = await asyncio.create_subprocess_exec(LEADCALL, "worker", env=env, stdout=asyncio.subprocess.DEVNULL,
                                                    stderr=asyncio.subprocess.PIPE)
        started.append(WorkerProcess(proc))
        return started[-1]

    yield start
    for worker in started:
        await worker.stop()


async def swept_after(redis: Redis, after: float) -> float:
    """Waits for a sweep later than `after` (the heartbeat's time) and returns its time."""
    async with asyncio.timeout(60):
        while True:
            try:
                raw = await redis.get(HEARTBEAT)
            except OSError:
                raw = None  # Redis is coming back
            if raw is not None and float(raw) > after:
                return float(raw)
            await asyncio.sleep(0.05)


async def test_the_worker_waits_for_redis_and_outlives_a_restart_and_a_freeze(
        server: PrivateRedis, start_worker: StartWorker) -> None:
    redis = Redis.from_url(server.url, socket_timeout=5)
    try:
        server.stop()
        worker = await start_worker()
        await worker.logged("the worker waits for it")
        assert worker.running
        server.start()
        last = await swept_after(redis, 0.0)

        server.restart()  # empty: the heartbeat (and any queued job) is gone with it
        await redis.aclose()
        last = await swept_after(redis, last)
        assert worker.running

        server.freeze()
        try:
            await worker.logged("the worker tries again with backoff")
            assert worker.running
        finally:
            server.thaw()
        await swept_after(redis, last)
        await worker.logged("Redis answers again")
        assert worker.running
    finally:
        await redis.aclose()
