"""The demo tenant: organizations, users and leads a person can try the product with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.campaigns.models import Campaign, CampaignState
from leadcall.campaigns.schemas import DEFAULT_STOP_ON, RetryPolicy
from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.core.secrets import SecretBox
from leadcall.leads import schemas as lead_schemas
from leadcall.leads import service as leads
from leadcall.leads.models import Lead, LeadStatus
from leadcall.rules.hours import DAYS
from leadcall.rules.service import put_rules
from leadcall.tenancy import repository as tenancy_repo
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.models import Role, Tenant
from leadcall.voice import analysis_setup
from leadcall.voice import service as voice
from leadcall.voice.manager import VoiceManager
from leadcall.voice.schemas import AccountCreate
from leadcall.voice.targets import ProviderTargets

DEMO_SLUG = "demo"
DEMO_PASSWORD = "demo-leadcall"
DEMO_USERS = [
    ("admin@demo.leadcall.test", "Ana Admin", Role.admin, 0),
    ("manager@demo.leadcall.test", "Marta Manager", Role.manager, 0),
    ("seller@demo.leadcall.test", "Sergio Vendedor", Role.member, 0),
    ("seller2@demo.leadcall.test", "Beatriz Ventas", Role.member, 1),
]

# (name, company, phone, notes): the +1 202 555 01xx numbers are the simulator's test numbers.
DEMO_LEADS = [
    ("Lucía Fernández", "Inmobiliaria Sol", "+12025550100", "Interesada en el plan anual."),
    ("Carlos Ruiz", "Ruiz & Hijos", "+12025550101", "Pidió información por la web."),
    ("María López", "Clínica Dental Sonrisa", "+12025550102", "Prefiere que la llamen por la mañana."),
    ("Javier Moreno", "Talleres Moreno", "+12025550103", None),
    ("Elena Navarro", "Navarro Abogados", "+12025550104", "Línea suele estar ocupada."),
    ("Pablo Jiménez", "Jiménez Logística", "+12025550105", None),
    ("Laura Torres", "Torres Fitness", "+12025550106", "Número antiguo, verificar."),
    ("Diego Romero", "Romero Construcciones", "+12025550107", None),
    ("Sofía Álvarez", "Álvarez Consulting", "+12025550108", "Le gusta hablar largo."),
    ("Andrés Gil", "Gil Seguros", "+12025550109", None),
    ("Carmen Vázquez", "Vázquez Eventos", "+12025550110", None),
    ("Miguel Serrano", "Serrano Motor", "+12025550111", None),
    ("Isabel Ramos", "Ramos Moda", "+12025550112", None),
    ("Raúl Castillo", "Castillo Reformas", "+12025550113", None),
    ("Patricia Ortega", "Ortega Farmacia", "+12025550114", None),
    ("Alberto Delgado", "Delgado Tech", "+12025550115", "Demo pedida para el Q1."),
    ("Rosa Molina", "Molina Catering", "+12025550116", None),
    ("Fernando Marín", "Marín Viajes", "+12025550117", None),
    ("Nuria Santos", "Santos Estudio", "+12025550118", None),
    ("Hugo Castro", "Castro Energía", "+12025550119", None),
    ("Emily Johnson", "Brightside Realty", "+12025550120", "English speaker."),
    ("Michael Brown", "Brown Logistics", "+12025550121", "English speaker."),
    ("Teresa Iglesias", "Iglesias Panadería", "+34612345678", "Cliente en España."),
    ("Óscar Medina", "Medina Abogados", None, "Sin teléfono todavía."),
    ("Verónica Cano", "Cano Interiores", "+12025550122", "No quiere llamadas."),
]


async def seed_demo_voice(session: AsyncSession, box: SecretBox, tenant_id: str, simulator_url: str,
                          now: datetime, targets: ProviderTargets) -> None:
    """The demo tenant's ElevenLabs accounts, served by the built-in simulator (which `targets` must name)."""
    from leadcall.simulator import DEMO_ACCOUNTS

    scope = Scope(tenant_id)
    existing = {a.name for a in await voice.list_accounts(session, scope)}
    for spec in DEMO_ACCOUNTS:
        if spec["name"] in existing:
            continue
        await voice.create_account(session, scope, box, AccountCreate(
            name=spec["name"], api_key=spec["api_key"], webhook_secret=spec["webhook_secret"],
            base_url=simulator_url, concurrency_limit=10, usd_to_currency_rate=0.92,
            twilio_account_sid=spec["twilio_account_sid"], twilio_auth_token=spec["twilio_auth_token"],
            twilio_base_url=simulator_url), now, targets=targets)


async def set_up_demo_analysis(sessionmaker: async_sessionmaker[AsyncSession], voices: VoiceManager, tenant_id: str,
                               now: datetime) -> int:
    """leadcall's analysis on the demo accounts' agents, as connecting an account sets it up (the demo's accounts
    are seeded before the simulator that serves them answers, so this runs once the server is up); agents set up
    already are left as they are. Returns the agents set up or checked."""
    scope = Scope(tenant_id)
    done = 0
    async with transaction(sessionmaker) as session:
        accounts = await voice.list_accounts(session, scope)
        language = await analysis_setup.tenant_language(session, tenant_id)
    for account in accounts:
        async with transaction(sessionmaker) as session:
            done += len(await analysis_setup.set_up_account(session, voices, account, language=language, now=now))
    return done


def demo_agent_ids() -> list[str]:
    """The first agent of each demo account (Spanish, then English; the simulator derives them from the keys)."""
    from leadcall.kit.clock import SystemClock
    from leadcall.simulator import SimulatorState, seed_demo_accounts

    return [next(iter(account.agents)) for account in seed_demo_accounts(SimulatorState(clock=SystemClock()))]


def demo_agent_id() -> str:
    """The Spanish demo account's first agent (its Twilio line)."""
    return demo_agent_ids()[0]


BIG_CAMPAIGN_LEADS = 2000
# Where the big campaign's leads live: spread around the world, so at any hour some of them are in their calling
# hours and the campaign shows leads being called in their own local day.
BIG_CAMPAIGN_ZONES = ("Europe/Madrid", "Europe/London", "America/New_York", "America/Chicago", "America/Denver",
                      "America/Los_Angeles", "America/Mexico_City", "America/Bogota", "Asia/Tokyo",
                      "Australia/Sydney")
# The simulator's test numbers (DESIGN.md §6) and how often each comes up, so the results vary: answered with
# each outcome, no answer and busy (retried), voicemail, dropped calls, opt-outs; the rest of +1 202 555 01xx
# is answered with an outcome fixed by the number. Left out: refused at initiation, long calls and the
# webhook faults, which are for trying one call at a time.
BIG_CAMPAIGN_NUMBERS: tuple[tuple[str, int], ...] = (
    ("+12025550100", 3), ("+12025550101", 3), ("+12025550102", 1), ("+12025550103", 3), ("+12025550104", 2),
    ("+12025550105", 2), ("+12025550107", 1), ("+12025550111", 1),
    *((f"+120255501{n}", 1) for n in range(12, 100)))
_FIRST = ("Lucía", "Carlos", "María", "Javier", "Elena", "Pablo", "Laura", "Diego", "Sofía", "Andrés", "Emily",
          "Michael", "Olivia", "James", "Yuki", "Haruto", "Charlotte", "Jack", "Valentina", "Mateo")
_LAST = ("García", "Smith", "Martínez", "Johnson", "López", "Brown", "Sánchez", "Taylor", "Tanaka", "Wilson",
         "Rodríguez", "Davies", "Pérez", "Miller", "Suzuki", "Thompson", "Gómez", "Evans", "Díaz", "Walker")
_COMPANY = ("Logística", "Seguros", "Consulting", "Realty", "Dental", "Motor", "Energía", "Tech", "Catering",
            "Viajes", "Studio", "Foods", "Legal", "Fitness", "Retail")


def big_campaign_leads(tenant_id: str, organization_id: str, owner_id: str, now: datetime) -> list[dict[str, Any]]:
    """The rows of the big demo campaign's leads (inserted at once; created before the hand-made demo leads, so
    those stay first in the newest-first list)."""
    numbers = [phone for phone, weight in BIG_CAMPAIGN_NUMBERS for _ in range(weight)]
    rows = []
    for i in range(BIG_CAMPAIGN_LEADS):
        first, last = _FIRST[i % len(_FIRST)], _LAST[(i // len(_FIRST)) % len(_LAST)]
        created = now - timedelta(days=1, seconds=i)
        rows.append({"id": str(uuid.uuid4()), "tenant_id": tenant_id, "organization_id": organization_id,
                     "external_id": f"demo-list-{i + 1:04d}", "name": f"{first} {last} {i + 1:04d}",
                     "company": f"{last} {_COMPANY[i % len(_COMPANY)]}", "phone": numbers[(i * 7) % len(numbers)],
                     "timezone": BIG_CAMPAIGN_ZONES[i % len(BIG_CAMPAIGN_ZONES)],
                     "status": LeadStatus.new.value, "owner_id": owner_id, "do_not_call": False,
                     "created_at": created, "updated_at": created})
    return rows


def demo_campaign(tenant_id: str, organization_id: str, manager_id: str, lead_ids: list[str],
                  now: datetime) -> Campaign:
    """A draft over the Madrid team's hand-made leads: its preview shows who is skipped and why (no phone, on the
    do-not-call list) before a manager starts it."""
    return Campaign(tenant_id=tenant_id, organization_id=organization_id, name="Campaña de demostración",
                    state=CampaignState.draft.value, agent_ids=[demo_agent_id()], call_type="prospecting",
                    lead_ids=lead_ids, max_live_calls=3, calls_per_second=1.0,
                    retry=RetryPolicy().model_dump(by_alias=True), stop_on=list(DEFAULT_STOP_ON),
                    created_by=manager_id, created_at=now, updated_at=now, agent_turn=0)


BIG_CAMPAIGN_NAME = "Lista internacional (2.000 leads)"


def big_demo_campaign(tenant_id: str, organization_id: str, manager_id: str, lead_ids: list[str],
                      now: datetime) -> Campaign:
    """A draft of 2,000 leads in ten timezones, ready to start: both demo accounts' agents in turn, each lead
    called in its own hours, retries minutes apart so they show within a demo, the simulator at demo speed."""
    retry = RetryPolicy.model_validate({
        "no_answer": {"afterSeconds": 900, "maxAttempts": 3}, "busy": {"afterSeconds": 300, "maxAttempts": 3},
        "voicemail": {"afterSeconds": 3600, "maxAttempts": 2}, "failed": {"afterSeconds": 600, "maxAttempts": 2}})
    return Campaign(tenant_id=tenant_id, organization_id=organization_id, name=BIG_CAMPAIGN_NAME,
                    state=CampaignState.draft.value, agent_ids=demo_agent_ids(), call_type="prospecting",
                    lead_ids=lead_ids, max_live_calls=12, calls_per_second=1.0,
                    retry=retry.model_dump(by_alias=True), stop_on=list(DEFAULT_STOP_ON),
                    created_by=manager_id, created_at=now - timedelta(seconds=1), updated_at=now, agent_turn=0)


@dataclass(frozen=True)
class DemoTenant:
    tenant_id: str
    organization_ids: list[str]
    created: bool


async def seed_demo(session: AsyncSession, now: datetime) -> DemoTenant:
    """Creates the demo tenant once; running it again changes nothing."""
    existing: Tenant | None = await tenancy_repo.unscoped_find_tenant_by_slug(session, DEMO_SLUG)
    if existing is not None:
        orgs = await tenancy.list_organizations(session, Scope(existing.id))
        return DemoTenant(existing.id, [o.id for o in orgs], created=False)
    tenant = await tenancy.create_tenant(session, name="Demo Ventas", slug=DEMO_SLUG, language="es",
                                         country="ES", currency="EUR", now=now)
    scope = Scope(tenant.id)
    orgs = [await tenancy.create_organization(session, scope, name=name, now=now)
            for name in ("Ventas Madrid", "Ventas Barcelona")]
    users = []
    for email, name, role, org_index in DEMO_USERS:
        users.append(await tenancy.create_user(session, scope, email=email, name=name, password=DEMO_PASSWORD,
                                               role=role, organization_id=orgs[org_index].id, now=now))
    seller = tenancy.principal_for(users[2], tenant, "session")
    # The demo calls every day (not only on weekdays), so it can be tried on any day; leads' own hours still hold.
    await put_rules(session, tenant.id, None, windows=[{"days": list(DAYS), "start": "09:00", "end": "20:00"}],
                    max_attempts_per_24h=None, max_attempts_total=None, require_consent=False, region_rules=True,
                    now=now, actor_id=None)
    hand_made = []
    for index, (name, company, phone, notes) in enumerate(DEMO_LEADS):
        data = lead_schemas.LeadCreate(name=name, company=company, phone=phone, notes=notes,
                                       owner_id=users[2].id, timezone="Europe/Madrid",
                                       do_not_call=name == "Verónica Cano",
                                       do_not_call_reason="Pidió no ser llamada" if name == "Verónica Cano" else None)
        # Spread creation times so the newest-first list has a stable, meaningful order.
        hand_made.append((await leads.create_lead(session, seller, data, now - timedelta(minutes=index))).id)
    session.add(demo_campaign(tenant.id, orgs[0].id, users[1].id, hand_made, now))
    listed = big_campaign_leads(tenant.id, orgs[0].id, users[2].id, now)
    for start in range(0, len(listed), 500):
        await session.execute(insert(Lead), listed[start:start + 500])
    session.add(big_demo_campaign(tenant.id, orgs[0].id, users[1].id, [r["id"] for r in listed], now))
    return DemoTenant(tenant.id, [o.id for o in orgs], created=True)
