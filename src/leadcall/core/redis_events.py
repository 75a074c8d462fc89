"""Live events through Redis pub/sub, for several web processes: any of them can serve any browser.

Each process publishes to one channel and relays what it hears on it to its own SSE
subscribers. The relay survives Redis restarting, freezing or going away: it notices
(a closed connection, or no answer to a ping), says so in `/health` and subscribes again
with backoff. Events published meanwhile are lost to this process, so once it is
subscribed again it tells every stream it serves `stream.resync`: the pages re-read
what they show (the call cards and status tags), and integrations should do the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.backoff import AbstractBackoff

from leadcall.core.events import Event, MemoryEventHub
from leadcall.core.redis_link import REDIS_FAILURES, RedisLink, RedisUnavailable, reconnect_backoff

log = logging.getLogger("leadcall.events")

CHANNEL = "leadcall:events"


class RelayLost(Exception):
    """Redis stopped answering the relay's pings."""


RELAY_FAILURES: tuple[type[BaseException], ...] = (*REDIS_FAILURES, RelayLost)


class RedisEventHub:
    """Publishes to one Redis channel; each process relays what it hears to its local subscribers.

    `ping_seconds`: how long the channel may stay silent before the relay pings Redis; no answer within
    `timeout_seconds` more and the connection counts as lost.
    """

    def __init__(self, link: RedisLink, *, timeout_seconds: float, ping_seconds: float = 5.0,
                 backoff: AbstractBackoff | None = None) -> None:
        self._link = link
        self._local = MemoryEventHub()
        self._timeout = timeout_seconds
        self._ping_seconds = ping_seconds
        self._backoff = backoff or reconnect_backoff()
        self._task: asyncio.Task[None] | None = None
        self._attempted = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._down_since: float | None = None
        self.reconnections = 0

    @property
    def _redis(self) -> Redis:
        return self._link.redis

    async def start(self) -> None:
        """Starts the relay; returns once its first attempt to subscribe has succeeded or failed (a process
        started while Redis is down serves all the same, and `/health` says the relay is down)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._relay(), name="redis-event-relay")
            await self._attempted.wait()

    @property
    def relay_connected(self) -> bool:
        return self._subscribed.is_set()

    @property
    def relay_down_seconds(self) -> float | None:
        """For how long the relay has been without a subscription (None while subscribed)."""
        return None if self._down_since is None else time.monotonic() - self._down_since

    async def wait_subscribed(self) -> None:
        """Until the relay is subscribed (tests)."""
        await self._subscribed.wait()

    async def _relay(self) -> None:
        failures = 0
        while True:
            try:
                await self._listen()
            except RELAY_FAILURES as exc:
                if self._subscribed.is_set() or failures == 0:
                    log.warning("the live-event relay lost Redis (%s: %s); it subscribes again with backoff, "
                                "and browsers are told to re-read what they show once it has",
                                type(exc).__name__, exc)
                failed_after_subscribing = self._subscribed.is_set()
                self._subscribed.clear()
                if self._down_since is None:
                    self._down_since = time.monotonic()
                self._attempted.set()
                failures = 1 if failed_after_subscribing else failures + 1
            await asyncio.sleep(self._backoff.compute(failures))

    async def _listen(self) -> None:
        pubsub: PubSub = self._redis.pubsub()
        try:
            async with asyncio.timeout(self._timeout):
                await pubsub.subscribe(CHANNEL)
                while (await pubsub.get_message(timeout=self._timeout) or {}).get("type") != "subscribe":
                    pass
            if self._down_since is not None:
                self.reconnections += 1
                log.warning("the live-event relay is subscribed again; telling %d streams to resync",
                            self._local.subscriber_count)
            self._down_since = None
            self._subscribed.set()
            self._attempted.set()
            # Whatever was published while this process was not subscribed never reached its streams.
            self.resync()
            await self._relay_messages(pubsub)
        finally:
            with contextlib.suppress(*REDIS_FAILURES):
                async with asyncio.timeout(self._timeout):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]

    async def _relay_messages(self, pubsub: PubSub) -> None:
        pinged = False
        while True:
            # A silent channel is pinged; Redis answers within the deadline or the connection counts as lost.
            message: dict[str, Any] | None = await pubsub.get_message(
                timeout=self._timeout if pinged else self._ping_seconds)
            if message is not None:
                pinged = False
                if message.get("type") == "message":
                    with contextlib.suppress(ValueError, KeyError):
                        self._local.deliver(Event.from_json(message["data"]))
                continue
            if pinged:
                raise RelayLost(f"no answer to a ping in {self._timeout:g} s")
            await pubsub.ping()
            pinged = True

    async def publish(self, event: Event) -> None:
        """Best effort: with Redis down the event is dropped (the state it announces is in the database, and
        every relay tells its streams to resync when it subscribes again)."""
        try:
            await self._link.call(lambda: self._redis.publish(CHANNEL, event.to_json()))
        except RedisUnavailable:
            log.info("live event %s not published: Redis is not answering", event.name)

    def resync(self) -> None:
        """Tells every stream of this process to read its state again (events may have been missed)."""
        self._local.resync()

    def subscribe(self, tenant_id: str, organization_id: str | None, *,
                  idle_seconds: float | None = None) -> AsyncIterator[Event | None]:
        return self._local.subscribe(tenant_id, organization_id, idle_seconds=idle_seconds)

    @property
    def subscriber_count(self) -> int:
        """Subscribers served by this process."""
        return self._local.subscriber_count

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._local.close()
