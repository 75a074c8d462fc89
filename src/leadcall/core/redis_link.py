"""One process's connection to Redis, and what happens while Redis does not answer.

Every command has a deadline (`timeout_seconds` to connect and to read), so a frozen
Redis costs a request that much, never as long as Redis stays frozen. A failed command
raises `RedisUnavailable` (a 503 with the code `redis_unavailable`) and starts a probe;
once the probe's ping fails too, the link is down: further commands fail at once
instead of each waiting out its own deadline, while the probe pings Redis with
exponential backoff and marks the link up when it answers.

Callers decide what a failure means for them: a rate limit cannot be checked (the
request answers 503), a cached value is loaded from its source instead, a live event or
a job enqueued after a commit is dropped (browsers resync when the relay reconnects; the
worker's sweep finds the work).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.backoff import AbstractBackoff, EqualJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from leadcall.core.errors import Unavailable

log = logging.getLogger("leadcall.redis")

T = TypeVar("T")

# What a Redis that is down, restarting, frozen or unreachable raises. Other Redis errors are bugs of ours.
REDIS_FAILURES: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError, OSError, TimeoutError)


def reconnect_backoff() -> AbstractBackoff:
    """Waits between attempts to reach Redis again: 0.1 s doubling up to 5 s, with jitter so that many
    processes do not knock at once."""
    return EqualJitterBackoff(cap=5.0, base=0.1)


class RedisUnavailable(Unavailable):
    def __init__(self) -> None:
        super().__init__("leadcall's shared store (Redis) is not answering, so this cannot be done right now; "
                         "try again in a minute. If it persists, the operator should check that Redis is running "
                         "and reachable.", code="redis_unavailable")


def client_options(timeout_seconds: float) -> dict[str, Any]:
    """The deadlines every Redis client of ours is built with (ours and arq's)."""
    return {"socket_timeout": timeout_seconds, "socket_connect_timeout": timeout_seconds}


def connect(url: str, timeout_seconds: float) -> Redis:
    client: Redis = Redis.from_url(url, **client_options(timeout_seconds))
    return client


class RedisLink:
    """Runs commands against Redis, failing fast while it is known to be down (see the module docstring).

    A failed command starts a probe that pings Redis at once: only when that ping fails too is Redis down
    (a single command that missed its deadline on a busy process does not fail everyone else's)."""

    def __init__(self, redis: Redis, *, backoff: AbstractBackoff | None = None) -> None:
        self.redis = redis
        self._backoff = backoff or reconnect_backoff()
        self._probe: asyncio.Task[None] | None = None
        self._down = False

    @property
    def up(self) -> bool:
        return not self._down

    async def call(self, command: Callable[[], Awaitable[T]]) -> T:
        """`command()`'s result; RedisUnavailable when Redis fails it or is already known to be down."""
        if self._down:
            raise RedisUnavailable
        try:
            return await command()
        except REDIS_FAILURES as exc:
            self.failed(exc)
            raise RedisUnavailable from exc

    def failed(self, exc: BaseException) -> None:
        """Redis failed a command: probe it until it answers."""
        if self._probe is None:
            self._probe = asyncio.get_running_loop().create_task(self._probe_until_up(exc), name="redis-probe")

    async def _probe_until_up(self, first: BaseException) -> None:
        failures = 0
        while True:
            try:
                await self.redis.ping()
            except REDIS_FAILURES:
                if not self._down:
                    log.warning("Redis is not answering (%s: %s); commands fail at once until it does",
                                type(first).__name__, first)
                    self._down = True
                failures += 1
                await asyncio.sleep(self._backoff.compute(failures))
                continue
            if self._down:
                log.warning("Redis answers again")
            self._down = False
            self._probe = None
            return

    async def wait_until_up(self) -> None:
        """Until a probe has seen Redis answer (tests)."""
        while self._probe is not None:
            await asyncio.shield(self._probe)

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._probe
            self._probe = None
