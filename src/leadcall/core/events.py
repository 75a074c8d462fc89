"""Live events to browsers and integrations (Server-Sent Events).

Publishers send `Event`s; each subscriber sees only its tenant's events, and only
its organization's unless it is tenant-wide. The in-process hub serves the embedded
default; the Redis hub (pub/sub) lets any web process serve any browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

RESYNC = "stream.resync"  # to every stream after events may have been missed: re-read what you show


@dataclass(frozen=True)
class Event:
    name: str  # dotted, e.g. "call.updated"
    tenant_id: str
    organization_id: str | None
    data: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"name": self.name, "tenantId": self.tenant_id, "organizationId": self.organization_id,
                           "data": self.data}, default=str)

    @cached_property
    def sse_frame(self) -> bytes:
        """The Server-Sent Events frame, encoded once however many clients receive it."""
        return f"event: {self.name}\ndata: {self.to_json()}\n\n".encode()

    @classmethod
    def from_json(cls, raw: str | bytes) -> Event:
        body = json.loads(raw)
        return cls(body["name"], body["tenantId"], body.get("organizationId"), body["data"])

    def visible_to(self, tenant_id: str, organization_id: str | None) -> bool:
        if self.tenant_id != tenant_id:
            return False
        return organization_id is None or self.organization_id in (None, organization_id)


class EventHub(Protocol):
    async def publish(self, event: Event) -> None: ...

    def subscribe(self, tenant_id: str, organization_id: str | None, *,
                  idle_seconds: float | None = None) -> AsyncIterator[Event | None]:
        """The events this subscriber may see; None after each `idle_seconds` without one (keep-alives)."""
        ...

    async def close(self) -> None: ...


class MemoryEventHub:
    def __init__(self, queue_size: int = 1000) -> None:
        self._subscribers: set[tuple[asyncio.Queue[Event], str, str | None]] = set()
        self._queue_size = queue_size

    async def publish(self, event: Event) -> None:
        self.deliver(event)

    def deliver(self, event: Event) -> None:
        for queue, tenant_id, organization_id in list(self._subscribers):
            if event.visible_to(tenant_id, organization_id):
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(event)  # a stalled client loses events, never blocks others

    def resync(self) -> None:
        """Tells every subscriber that events may have been missed (the relay that feeds this hub lost its
        source for a while): what it shows should be read again."""
        for queue, tenant_id, organization_id in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(Event(RESYNC, tenant_id, organization_id,
                                       {"reason": "live events may have been missed; read the current state again"}))

    async def subscribe(self, tenant_id: str, organization_id: str | None, *,
                        idle_seconds: float | None = None) -> AsyncIterator[Event | None]:
        queue: asyncio.Queue[Event] = asyncio.Queue(self._queue_size)
        entry = (queue, tenant_id, organization_id)
        self._subscribers.add(entry)
        try:
            while True:
                try:
                    async with asyncio.timeout(idle_seconds):  # a timer, not a task per wait
                        event = await queue.get()
                except TimeoutError:
                    yield None
                    continue
                yield event
        finally:
            self._subscribers.discard(entry)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def close(self) -> None:
        self._subscribers.clear()
