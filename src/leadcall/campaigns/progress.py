"""Live progress: `campaign.updated` (the campaign as the API reads it, counts included) after every commit
that changed one of its attempts or its state, whichever path changed it (an API request, the dispatcher,
a call ending in a webhook's transaction, the reservation binding its call).

Counting is a grouped query per campaign; a campaign changing many times a second is counted once per
publishing pass rather than once per change (the pass publishes what changed while the previous one ran).
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from leadcall.campaigns.models import Campaign
from leadcall.campaigns.service import to_wire
from leadcall.core.db import transaction
from leadcall.core.events import Event, EventHub

log = logging.getLogger("leadcall.campaigns")

CHANGED = "leadcall.campaigns_changed"
EVENT = "campaign.updated"


def mark_changed(session: AsyncSession | Session, campaign_id: str) -> None:
    session.info.setdefault(CHANGED, set()).add(campaign_id)


class ProgressPublisher:
    def __init__(self, *, sessionmaker: async_sessionmaker[AsyncSession], events: EventHub) -> None:
        self.sessionmaker = sessionmaker
        self.events = events
        bind = sessionmaker.kw.get("bind")
        self.engine = bind.sync_engine if bind is not None else None
        self._dirty: set[str] = set()
        self._task: asyncio.Task[None] | None = None
        event.listen(Session, "after_commit", self._committed)
        event.listen(Session, "after_rollback", self._rolled_back)

    def _rolled_back(self, session: Session) -> None:
        if session.get_bind() is self.engine:
            session.info.pop(CHANGED, None)

    def _committed(self, session: Session) -> None:
        if session.get_bind() is not self.engine:  # another app's database (tests run several)
            return
        ids = session.info.pop(CHANGED, None)
        if not ids:
            return
        self._dirty.update(ids)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        while self._dirty:
            ids, self._dirty = sorted(self._dirty), set()
            try:
                await self.publish(ids)
            except Exception:  # noqa: BLE001 - live news is best effort; pages re-read on reconnect
                log.exception("publishing campaign progress failed")

    async def publish(self, ids: list[str]) -> None:
        async with transaction(self.sessionmaker) as reader:
            rows = list((await reader.execute(select(Campaign).where(Campaign.id.in_(ids)))).scalars())
            for row in rows:
                data = (await to_wire(reader, row)).model_dump(mode="json", by_alias=True)
                await self.events.publish(Event(EVENT, row.tenant_id, row.organization_id, data))

    async def settled(self) -> None:
        """Waits for the publishing pass under way (tests, shutdown)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    def close(self) -> None:
        for name, handler in (("after_commit", self._committed), ("after_rollback", self._rolled_back)):
            if event.contains(Session, name, handler):
                event.remove(Session, name, handler)
