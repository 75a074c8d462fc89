"""All SQL of outgoing webhooks. Scoped repositories for what admins read and change; `unscoped_` reads
for the worker, which serves every tenant."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import NotFound
from leadcall.core.scoping import ScopedRepository
from leadcall.integrations.models import DeliveryState, OutboxAttempt, OutboxDelivery, OutboxEvent, WebhookEndpoint


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [OutboxDelivery.state == DeliveryState.pending.value, OutboxDelivery.next_attempt_at <= now,
            or_(OutboxDelivery.lease_until.is_(None), OutboxDelivery.lease_until <= now)]


class EndpointRepository(ScopedRepository[WebhookEndpoint]):
    model = WebhookEndpoint
    label = "webhook endpoint"

    async def list(self) -> list[WebhookEndpoint]:
        stmt = self.scoped_select().order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
        return list((await self.session.execute(stmt)).scalars())


class DeliveryRepository(ScopedRepository[OutboxDelivery]):
    model = OutboxDelivery
    label = "delivery"

    async def of_endpoint(self, endpoint_id: str, delivery_id: str) -> OutboxDelivery:
        stmt = self.scoped_select().where(OutboxDelivery.id == delivery_id, OutboxDelivery.endpoint_id == endpoint_id)
        row = (await self.session.execute(stmt)).scalar_one_or_none()
        if row is None:
            raise NotFound("delivery not found", code="not_found", params={"what": self.label})
        return row

    async def page(self, endpoint_id: str, *, limit: int,
                   after: tuple[datetime, str] | None) -> list[tuple[OutboxDelivery, OutboxEvent]]:
        """Newest first (keyset on created_at, id)."""
        stmt = (select(OutboxDelivery, OutboxEvent).join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
                .where(OutboxDelivery.tenant_id == self.scope.tenant_id, OutboxDelivery.endpoint_id == endpoint_id))
        if after is not None:
            when, row_id = after
            stmt = stmt.where(or_(OutboxDelivery.created_at < when,
                                  and_(OutboxDelivery.created_at == when, OutboxDelivery.id < row_id)))
        stmt = stmt.order_by(OutboxDelivery.created_at.desc(), OutboxDelivery.id.desc()).limit(limit)
        return [(d, e) for d, e in (await self.session.execute(stmt)).all()]

    async def attempts(self, delivery_ids: list[str], per_delivery: int = 20) -> dict[str, list[OutboxAttempt]]:
        if not delivery_ids:
            return {}
        stmt = (select(OutboxAttempt).where(OutboxAttempt.tenant_id == self.scope.tenant_id,
                                             OutboxAttempt.delivery_id.in_(delivery_ids))
                .order_by(OutboxAttempt.delivery_id, OutboxAttempt.attempt.desc()))
        found: dict[str, list[OutboxAttempt]] = {}
        for row in (await self.session.execute(stmt)).scalars():
            listed = found.setdefault(row.delivery_id, [])
            if len(listed) < per_delivery:
                listed.append(row)
        return found

    async def event(self, delivery: OutboxDelivery) -> OutboxEvent:
        event = await self.session.get(OutboxEvent, delivery.event_id)
        assert event is not None and event.tenant_id == self.scope.tenant_id
        return event

    # -- the worker (every tenant) ---------------------------------------------------------------

    @staticmethod
    async def unscoped_endpoints_due(session: AsyncSession, now: datetime, limit: int = 200) -> list[str]:
        stmt = (select(OutboxDelivery.endpoint_id).join(WebhookEndpoint, WebhookEndpoint.id == OutboxDelivery.endpoint_id)
                .where(*_due(now), WebhookEndpoint.enabled.is_(True)).distinct().limit(limit))
        return list((await session.execute(stmt)).scalars())

    @staticmethod
    async def unscoped_claim(session: AsyncSession, endpoint_id: str, token: str, now: datetime, *,
                             lease_seconds: float, limit: int) -> list[str]:
        """Leases up to `limit` due deliveries of an endpoint, in the order their events were written; answers
        the ids this claim got. The update re-checks that each row is still due and unleased, so of two
        workers claiming at once each delivery goes to one (PostgreSQL re-evaluates the row it waited for;
        SQLite runs one writer at a time)."""
        due = (select(OutboxDelivery.id).join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
               .where(OutboxDelivery.endpoint_id == endpoint_id, *_due(now))
               .order_by(OutboxDelivery.created_at, OutboxEvent.sequence, OutboxDelivery.id).limit(limit))
        ids = list((await session.execute(due)).scalars())
        if not ids:
            return []
        await session.execute(update(OutboxDelivery).where(OutboxDelivery.id.in_(ids), *_due(now))
                              .values(lease_token=token, lease_until=now + timedelta(seconds=lease_seconds))
                              .execution_options(synchronize_session=False))
        got = set((await session.execute(select(OutboxDelivery.id).where(
            OutboxDelivery.id.in_(ids), OutboxDelivery.lease_token == token))).scalars())
        return [i for i in ids if i in got]

    @staticmethod
    async def unscoped_leased(session: AsyncSession, delivery_id: str,
                              token: str) -> tuple[OutboxDelivery, OutboxEvent, WebhookEndpoint] | None:
        stmt = (
            select(OutboxDelivery, OutboxEvent, WebhookEndpoint)
            .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
            .join(WebhookEndpoint, WebhookEndpoint.id == OutboxDelivery.endpoint_id)
            .where(OutboxDelivery.id == delivery_id, OutboxDelivery.lease_token == token))
        row = (await session.execute(stmt)).first()
        return (row[0], row[1], row[2]) if row is not None else None

    @staticmethod
    async def unscoped_for_update(session: AsyncSession, delivery_id: str) -> OutboxDelivery | None:
        stmt = select(OutboxDelivery).where(OutboxDelivery.id == delivery_id).with_for_update()
        return (await session.execute(stmt)).scalar_one_or_none()
