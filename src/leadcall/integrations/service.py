"""Webhook endpoints: create, edit, delete, rotate their secret, read their delivery log. Services never
commit; sending (test, retry) is `delivery.WebhookDeliveries`, which keeps requests out of transactions."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.errors import Invalid
from leadcall.core.scoping import Scope
from leadcall.core.secrets import SecretBox, mask
from leadcall.integrations import schemas
from leadcall.integrations.catalog import EVENT_TYPES
from leadcall.integrations.models import DeliveryState, OutboxAttempt, OutboxDelivery, OutboxEvent, WebhookEndpoint
from leadcall.integrations.repository import DeliveryRepository, EndpointRepository
from leadcall.integrations.targets import WebhookTargets
from leadcall.kit.pagination import BadCursor, decode_cursor, encode_cursor

SECRET_OVERLAP_SECONDS = 24 * 3600  # after a rotation the previous secret signs too, this long
MAX_ENDPOINTS = 20  # per tenant
MAX_PAGE = 100


def new_secret() -> str:
    """`whsec_` and 32 random bytes in base64, the Standard Webhooks form."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_event_types(types: list[str] | None) -> list[str] | None:
    if types is None:
        return None
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        error = Invalid(f"eventTypes: unknown event type '{unknown[0][:60]}'; the types are {', '.join(EVENT_TYPES)}",
                        code="event_type_unknown", params={"field": "eventTypes", "eventType": unknown[0][:60]})
    elif not types:
        error = Invalid("eventTypes: choose at least one event type, or leave it out (null) for all of them",
                        code="event_types_empty", params={"field": "eventTypes"})
    else:
        return sorted(set(types), key=list(EVENT_TYPES).index)
    error.extra["fields"] = [{"field": "eventTypes", "message": error.detail, "code": error.code,
                              "params": error.params}]
    raise error


def endpoint_view(endpoint: WebhookEndpoint, box: SecretBox) -> schemas.WebhookEndpoint:
    return schemas.WebhookEndpoint(
        id=endpoint.id, url=endpoint.url, description=endpoint.description, event_types=endpoint.event_types,
        enabled=endpoint.enabled, secret_hint=mask(box.decrypt(endpoint.secret_encrypted)),
        previous_secret_until=endpoint.previous_secret_until if endpoint.previous_secret_encrypted else None,
        failing_since=endpoint.failing_since, consecutive_failures=endpoint.consecutive_failures,
        disabled_at=endpoint.disabled_at, disabled_reason=endpoint.disabled_reason, created_at=endpoint.created_at,
        updated_at=endpoint.updated_at)


def with_secret(endpoint: WebhookEndpoint, box: SecretBox, secret: str) -> schemas.WebhookEndpointWithSecret:
    return schemas.WebhookEndpointWithSecret(**endpoint_view(endpoint, box).model_dump(), secret=secret)


def delivery_view(delivery: OutboxDelivery, event: OutboxEvent,
                  attempts: list[OutboxAttempt]) -> schemas.WebhookDelivery:
    return schemas.WebhookDelivery(
        id=delivery.id, endpoint_id=delivery.endpoint_id, event_id=event.id, event_type=event.type,
        subject=event.subject, sequence=event.sequence, state=DeliveryState(delivery.state).value,
        test=delivery.is_test, attempt_count=delivery.attempts, next_attempt_at=delivery.next_attempt_at,
        last_status_code=delivery.last_status_code, last_error=delivery.last_error,
        last_duration_ms=delivery.last_duration_ms, delivered_at=delivery.delivered_at, created_at=delivery.created_at,
        attempts=[schemas.WebhookAttempt.model_validate(a) for a in attempts])


async def list_endpoints(session: AsyncSession, scope: Scope) -> list[WebhookEndpoint]:
    return await EndpointRepository(session, scope).list()


async def get_endpoint(session: AsyncSession, scope: Scope, endpoint_id: str) -> WebhookEndpoint:
    return await EndpointRepository(session, scope).get(endpoint_id)


async def create_endpoint(session: AsyncSession, scope: Scope, box: SecretBox, targets: WebhookTargets,
                          data: schemas.WebhookEndpointCreate, now: datetime,
                          user_id: str | None) -> tuple[WebhookEndpoint, str]:
    """The endpoint and its secret (in clear this once)."""
    url = targets.check(data.url)
    types = check_event_types(data.event_types)
    repo = EndpointRepository(session, scope)
    if len(await repo.list()) >= MAX_ENDPOINTS:
        raise Invalid(f"a tenant has at most {MAX_ENDPOINTS} webhook endpoints; delete one first",
                      code="webhook_endpoints_limit", params={"limit": MAX_ENDPOINTS})
    secret = new_secret()
    endpoint = WebhookEndpoint(tenant_id=scope.tenant_id, url=url, description=data.description or None,
                               event_types=types, enabled=data.enabled, secret_encrypted=box.encrypt(secret),
                               consecutive_failures=0, created_by=user_id, created_at=now, updated_at=now)
    repo.add(endpoint)
    await session.flush()
    return endpoint, secret


async def update_endpoint(session: AsyncSession, scope: Scope, targets: WebhookTargets, endpoint_id: str,
                          data: schemas.WebhookEndpointUpdate, now: datetime) -> WebhookEndpoint:
    endpoint = await EndpointRepository(session, scope).get(endpoint_id)
    given = data.model_fields_set
    if "url" in given:
        if data.url is None:
            raise Invalid("url cannot be empty", code="url_invalid", params={"field": "url"},
                          extra={"field": "url"})
        endpoint.url = targets.check(data.url)
    if "description" in given:
        endpoint.description = data.description or None
    if "event_types" in given:
        endpoint.event_types = check_event_types(data.event_types)
    if "enabled" in given and data.enabled is not None and data.enabled != endpoint.enabled:
        endpoint.enabled = data.enabled
        if data.enabled:  # switched on again: a fresh start, whatever turned it off
            endpoint.disabled_at, endpoint.disabled_reason = None, None
            endpoint.failing_since, endpoint.consecutive_failures = None, 0
    endpoint.updated_at = now
    await session.flush()
    return endpoint


async def delete_endpoint(session: AsyncSession, scope: Scope, endpoint_id: str) -> None:
    endpoint = await EndpointRepository(session, scope).get(endpoint_id)
    await session.delete(endpoint)  # its deliveries and their log go with it (ON DELETE CASCADE)
    await session.flush()


async def rotate_secret(session: AsyncSession, scope: Scope, box: SecretBox, endpoint_id: str,
                        now: datetime) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now on; the current one keeps signing beside it for SECRET_OVERLAP_SECONDS,
    so the consumer can switch without losing a delivery (one rotated before the overlap ended drops the
    oldest)."""
    endpoint = await EndpointRepository(session, scope).get(endpoint_id)
    secret = new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_until = now + timedelta(seconds=SECRET_OVERLAP_SECONDS)
    endpoint.secret_encrypted = box.encrypt(secret)
    endpoint.updated_at = now
    await session.flush()
    return endpoint, secret


async def deliveries(session: AsyncSession, scope: Scope, endpoint_id: str, *, limit: int,
                     cursor: str | None) -> schemas.WebhookDeliveryPage:
    endpoint = await EndpointRepository(session, scope).get(endpoint_id)
    try:
        after = decode_cursor(cursor) if cursor else None
    except BadCursor as exc:
        raise Invalid(str(exc), extra={"field": "cursor"}, code="cursor_invalid") from exc
    limit = max(1, min(limit, MAX_PAGE))
    repo = DeliveryRepository(session, scope)
    rows = await repo.page(endpoint.id, limit=limit + 1, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    attempts = await repo.attempts([d.id for d, _ in rows])
    return schemas.WebhookDeliveryPage(
        items=[delivery_view(d, e, attempts.get(d.id, [])) for d, e in rows],
        next_cursor=encode_cursor(rows[-1][0].created_at, rows[-1][0].id) if more and rows else None)


async def delivery(session: AsyncSession, scope: Scope, endpoint_id: str, delivery_id: str) -> schemas.WebhookDelivery:
    repo = DeliveryRepository(session, scope)
    row = await repo.of_endpoint(endpoint_id, delivery_id)
    attempts = await repo.attempts([row.id])
    return delivery_view(row, await repo.event(row), attempts.get(row.id, []))


async def unscoped_rotate_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypts every endpoint's secrets (all tenants) under the newest key (`leadcall secrets rotate`)."""
    endpoints = list((await session.execute(select(WebhookEndpoint))).scalars())
    for endpoint in endpoints:
        endpoint.secret_encrypted = box.rotate(endpoint.secret_encrypted)
        if endpoint.previous_secret_encrypted:
            endpoint.previous_secret_encrypted = box.rotate(endpoint.previous_secret_encrypted)
    await session.flush()
    return len(endpoints)
