from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI

from leadcall.app import create_app
from leadcall.core.deps import DbSession
from leadcall.leads.models import Lead
from leadcall.settings import Settings
from leadcall.tenancy.deps import CurrentPrincipal
from tests.cross_tenant import Case, list_leaks, walk
from tests.factories import TenantWorld


async def victim_ids(client: httpx.AsyncClient, victim: TenantWorld) -> dict[str, str]:
    tokens = (await client.get("/api/tokens", headers=victim.member.headers)).json()
    return {"lead_id": victim.lead_ids[0], "user_id": victim.member.user_id, "token_id": tokens[0]["id"],
            "tenant_id": victim.tenant_id, "organization_id": victim.org_id}


def body_cases(victim: TenantWorld) -> list[Case]:
    return [
        Case("POST", "/api/users", json={"email": "x-walker@example.com", "name": "X", "password": "long-enough",
                                         "organizationId": victim.org_id}),
        Case("POST", "/api/leads", json={"name": "X", "organizationId": victim.org_id}),
    ]


async def test_every_route_answers_404_to_another_tenants_ids(app: FastAPI, client: httpx.AsyncClient,
                                                              world: TenantWorld,
                                                              other_world: TenantWorld) -> None:
    ids = await victim_ids(client, other_world)
    # An admin holds every permission, so no role check answers before the scope does.
    for attacker in (world.admin,):
        problems, checked = await walk(app, client, victim_ids=ids, attacker=attacker.headers,
                                       body_cases=body_cases(other_world))
        assert problems == []
        assert checked >= 6
        leaks, listed = await list_leaks(app, client, victim_ids=ids, attacker=attacker.headers)
        assert leaks == []
        assert listed >= 4
    # Nothing of the victim changed.
    lead = await client.get(f"/api/leads/{other_world.lead_ids[0]}", headers=other_world.member.headers)
    assert lead.status_code == 200 and lead.json()["name"] != "Hijacked"


async def test_walker_catches_a_route_that_forgets_the_scope(settings: Settings, world: TenantWorld,
                                                             other_world: TenantWorld) -> None:
    leaky_app = create_app(settings)
    leaky = APIRouter()

    @leaky.get("/api/leaky/leads/{lead_id}")
    async def leaky_lead(lead_id: str, principal: CurrentPrincipal, session: DbSession) -> dict[str, str]:
        lead = await session.get(Lead, lead_id)  # deliberately unscoped
        return {"name": lead.name if lead else ""}

    leaky_app.include_router(leaky)
    async with leaky_app.router.lifespan_context(leaky_app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=leaky_app), base_url="http://testserver") as client:
        ids = await victim_ids(client, other_world)
        problems, _ = await walk(leaky_app, client, victim_ids=ids, attacker=world.admin.headers,
                                 body_cases=[])
    assert problems == ["GET /api/leaky/leads/{lead_id} answered 200 to another tenant's id"]


async def test_walker_reports_routes_with_unknown_id_kinds(settings: Settings, world: TenantWorld,
                                                           other_world: TenantWorld) -> None:
    new_app = create_app(settings)
    extra = APIRouter()

    @extra.get("/api/widgets/{widget_id}")
    async def widget(widget_id: str, principal: CurrentPrincipal) -> dict[str, str]:
        return {}

    new_app.include_router(extra)
    async with new_app.router.lifespan_context(new_app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=new_app), base_url="http://testserver") as client:
        ids = await victim_ids(client, other_world)
        problems, _ = await walk(new_app, client, victim_ids=ids, attacker=world.admin.headers, body_cases=[])
    assert problems == ["GET /api/widgets/{widget_id}: the walker has no other-tenant id for ['widget_id']"]
