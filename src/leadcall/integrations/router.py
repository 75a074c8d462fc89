from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from leadcall.core.db import transaction
from leadcall.core.deps import ContainerDep, DbSession, Now
from leadcall.core.scoping import Scope
from leadcall.integrations import schemas, service
from leadcall.integrations.catalog import EVENT_TYPES
from leadcall.integrations.delivery import WebhookDeliveries
from leadcall.tenancy.deps import ApiRoute, CanManageWebhooks

router = APIRouter(tags=["webhooks (outgoing)"], route_class=ApiRoute)
BASE = "/api/webhook-endpoints"


def _deliveries(request: Request) -> WebhookDeliveries:
    deliveries: WebhookDeliveries = request.app.state.webhooks
    return deliveries


@router.get("/api/webhook-event-types", response_model=list[schemas.WebhookEventType],
            description="The event types an endpoint can subscribe to.")
async def event_types(principal: CanManageWebhooks) -> list[schemas.WebhookEventType]:
    return [schemas.WebhookEventType(type=t, description=d) for t, d in EVENT_TYPES.items()]


@router.get(BASE, response_model=list[schemas.WebhookEndpoint], description="The tenant's endpoints. Admins.")
async def list_endpoints(principal: CanManageWebhooks, session: DbSession,
                         container: ContainerDep) -> list[schemas.WebhookEndpoint]:
    rows = await service.list_endpoints(session, principal.tenant_scope)
    return [service.endpoint_view(r, container.secret_box) for r in rows]


@router.post(BASE, response_model=schemas.WebhookEndpointWithSecret, status_code=201,
             description="A new endpoint; its `secret` (`whsec_…`) is in this answer only. The URL must be https "
                         "(plain http only to loopback where the operator allows private targets) and not a private, "
                         "loopback or link-local address.")
async def create_endpoint(body: schemas.WebhookEndpointCreate, request: Request, principal: CanManageWebhooks,
                          session: DbSession, container: ContainerDep,
                          now: Now) -> schemas.WebhookEndpointWithSecret:
    endpoint, secret = await service.create_endpoint(session, principal.tenant_scope, container.secret_box,
                                                     _deliveries(request).targets, body, now, principal.user_id)
    return service.with_secret(endpoint, container.secret_box, secret)


@router.get(f"{BASE}/{{endpoint_id}}", response_model=schemas.WebhookEndpoint)
async def get_endpoint(endpoint_id: str, principal: CanManageWebhooks, session: DbSession,
                       container: ContainerDep) -> schemas.WebhookEndpoint:
    endpoint = await service.get_endpoint(session, principal.tenant_scope, endpoint_id)
    return service.endpoint_view(endpoint, container.secret_box)


@router.patch(f"{BASE}/{{endpoint_id}}", response_model=schemas.WebhookEndpoint,
              description="Change its URL, description, event types (null: all) or switch it on or off; switching "
                          "on an endpoint leadcall disabled starts its failure count afresh.")
async def update_endpoint(endpoint_id: str, body: schemas.WebhookEndpointUpdate, request: Request,
                          principal: CanManageWebhooks, session: DbSession, container: ContainerDep,
                          now: Now) -> schemas.WebhookEndpoint:
    endpoint = await service.update_endpoint(session, principal.tenant_scope, _deliveries(request).targets,
                                             endpoint_id, body, now)
    return service.endpoint_view(endpoint, container.secret_box)


@router.delete(f"{BASE}/{{endpoint_id}}", status_code=204, description="Deletes it, with its delivery log.")
async def delete_endpoint(endpoint_id: str, principal: CanManageWebhooks, session: DbSession) -> Response:
    await service.delete_endpoint(session, principal.tenant_scope, endpoint_id)
    return Response(status_code=204)


@router.post(f"{BASE}/{{endpoint_id}}/rotate-secret", response_model=schemas.WebhookEndpointWithSecret,
             description="A new secret, in this answer only; the previous one keeps signing (a second `v1,` "
                         "signature) for 24 hours.")
async def rotate_secret(endpoint_id: str, principal: CanManageWebhooks, session: DbSession, container: ContainerDep,
                        now: Now) -> schemas.WebhookEndpointWithSecret:
    endpoint, secret = await service.rotate_secret(session, principal.tenant_scope, container.secret_box,
                                                   endpoint_id, now)
    return service.with_secret(endpoint, container.secret_box, secret)


@router.post(f"{BASE}/{{endpoint_id}}/test", response_model=schemas.WebhookDelivery,
             description="Sends a `webhook.test` event to this endpoint now (also while it is disabled) and answers "
                         "its delivery with the attempt's result.")
async def test_endpoint(endpoint_id: str, request: Request, principal: CanManageWebhooks) -> schemas.WebhookDelivery:
    sent = await _deliveries(request).test(principal.tenant_scope, endpoint_id)
    return await _view(request, principal.tenant_scope, endpoint_id, sent.id)


@router.get(f"{BASE}/{{endpoint_id}}/deliveries", response_model=schemas.WebhookDeliveryPage,
            description="The delivery log, newest first: each delivery's state and its attempts (status code, "
                        "duration, reason). Cursor-paginated.")
async def list_deliveries(endpoint_id: str, principal: CanManageWebhooks, session: DbSession,
                          limit: int = Query(default=50, ge=1, le=100),
                          cursor: str | None = Query(default=None, max_length=200)) -> schemas.WebhookDeliveryPage:
    return await service.deliveries(session, principal.tenant_scope, endpoint_id, limit=limit, cursor=cursor)


@router.post(f"{BASE}/{{endpoint_id}}/deliveries/{{delivery_id}}/retry", response_model=schemas.WebhookDelivery,
             description="One attempt of this delivery now, whatever its state; answers it with the result. 409 "
                         "while the endpoint is disabled.")
async def retry_delivery(endpoint_id: str, delivery_id: str, request: Request,
                         principal: CanManageWebhooks) -> schemas.WebhookDelivery:
    await _deliveries(request).retry(principal.tenant_scope, endpoint_id, delivery_id)
    return await _view(request, principal.tenant_scope, endpoint_id, delivery_id)


async def _view(request: Request, scope: Scope, endpoint_id: str, delivery_id: str) -> schemas.WebhookDelivery:
    """The delivery as it stands after its attempt (read in a unit of its own: the send held none)."""
    async with transaction(request.app.state.container.read_sessionmaker) as session:
        return await service.delivery(session, scope, endpoint_id, delivery_id)
