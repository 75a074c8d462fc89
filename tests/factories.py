"""Small typed factories. Each test builds its own tenant world."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from fastapi import FastAPI

from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.kit.passwords import hash_password
from leadcall.leads import schemas as lead_schemas
from leadcall.leads import service as leads
from leadcall.rules.service import put_rules
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.models import Role

PASSWORD = "correct horse battery"


@functools.cache
def password_hash() -> str:
    """PASSWORD's hash, made once: a world's four users share it instead of paying Argon2 four times each test."""
    return hash_password(PASSWORD)


@dataclass
class Actor:
    user_id: str
    email: str
    token: str
    role: Role
    organization_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class TenantWorld:
    tenant_id: str
    org_id: str
    other_org_id: str
    admin: Actor
    manager: Actor
    member: Actor
    other_org_member: Actor
    lead_ids: list[str] = field(default_factory=list)


OPEN_HOURS = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]


async def make_world(app: FastAPI, name: str = "Acme", *, leads_count: int = 2,
                     country: str = "US", open_rules: bool = True) -> TenantWorld:
    """A tenant with an admin, a manager and two members. `open_rules` (the default) lets its leads be
    called at any hour and as often as a test needs; tests of the calling rules pass False to get the
    rules a new tenant gets."""
    now = datetime.now(UTC)
    suffix = uuid.uuid4().hex[:8]
    async with transaction(app.state.container.sessionmaker) as session:
        tenant = await tenancy.create_tenant(session, name=f"{name} {suffix}", country=country, now=now)
        scope = Scope(tenant.id)
        if open_rules:
            await put_rules(session, tenant.id, None, windows=OPEN_HOURS, max_attempts_per_24h=None,
                            max_attempts_total=None, require_consent=False, region_rules=False, now=now,
                            actor_id=None)
        org = await tenancy.create_organization(session, scope, name="Sales", now=now)
        other = await tenancy.create_organization(session, scope, name="Support", now=now)
        actors: dict[str, Actor] = {}
        for key, role, org_id in (("admin", Role.admin, org.id), ("manager", Role.manager, org.id),
                                  ("member", Role.member, org.id), ("other", Role.member, other.id)):
            email = f"{key}-{suffix}@example.com"
            user = await tenancy.create_user(session, scope, email=email, name=f"{key.title()} {suffix}",
                                             password=None, role=role, organization_id=org_id, now=now)
            user.password_hash = password_hash()
            _row, token = await tenancy.create_token(session, scope, user_id=user.id, name="tests", now=now)
            actors[key] = Actor(user.id, email, token, role, org_id)
        world = TenantWorld(tenant.id, org.id, other.id, actors["admin"], actors["manager"], actors["member"],
                            actors["other"])
        member = tenancy.principal_for(await tenancy.get_user(session, scope, actors["member"].user_id),
                                       tenant, "token")
        for i in range(leads_count):
            lead = await leads.create_lead(session, member, lead_schemas.LeadCreate(
                name=f"Lead {i} {suffix}", company="Widgets", phone=f"+1202555{100 + i:04d}"), now)
            world.lead_ids.append(lead.id)
    return world
