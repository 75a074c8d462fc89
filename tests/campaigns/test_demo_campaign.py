"""The demo ships two draft campaigns with the built-in simulator's agents: a small one over the Madrid team's
hand-made leads, whose preview names who is skipped and why, and a 2,000-lead one in ten timezones on the
simulator's test numbers, ready to start."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import select

from leadcall.campaigns.models import Campaign
from leadcall.campaigns.service import CampaignService
from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.demo_data import BIG_CAMPAIGN_LEADS, BIG_CAMPAIGN_NAME, demo_agent_id, demo_agent_ids, seed_demo
from leadcall.leads.models import Lead
from leadcall.simulator import SimulatorState, seed_demo_accounts
from leadcall.simulator.scenarios import TEST_NUMBERS, Kind, scenario_for
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.models import User


async def test_the_demo_has_a_small_and_a_2000_lead_draft_campaign(app: FastAPI) -> None:
    now = datetime.now(UTC)
    async with transaction(app.state.container.sessionmaker) as session:
        demo = await seed_demo(session, now)
    async with transaction(app.state.container.sessionmaker) as session:
        campaigns = {c.name: c for c in (await session.execute(select(Campaign).where(
            Campaign.tenant_id == demo.tenant_id))).scalars()}
        small, big = campaigns["Campaña de demostración"], campaigns[BIG_CAMPAIGN_NAME]
        assert {small.state, big.state} == {"draft"}
        assert {small.organization_id, big.organization_id} == {demo.organization_ids[0]}
        state = SimulatorState(clock=app.state.container.clock)
        spanish, english = seed_demo_accounts(state)
        assert small.agent_ids == [demo_agent_id()] and demo_agent_id() in spanish.agents
        assert big.agent_ids == demo_agent_ids() and big.agent_ids[1] in english.agents
        manager = (await session.execute(select(User).where(User.id == small.created_by))).scalar_one()
        tenant = await tenancy.get_tenant(session, Scope(demo.tenant_id))
        principal = tenancy.principal_for(manager, tenant, "session")
        service: CampaignService = app.state.campaigns
        preview = await service.preview(session, principal, small.id, now, code=None, cursor=None, limit=100)
        skipped = {s.code: s.count for s in preview.skipped}
        assert preview.total == 25 and skipped["lead_has_no_phone"] == 1 and skipped["number_on_dnc"] == 1
        big_preview = await service.preview(session, principal, big.id, now, code=None, cursor=None, limit=100)
        assert big_preview.total == BIG_CAMPAIGN_LEADS == 2000
        leads = list((await session.execute(select(Lead).where(Lead.id.in_(big.lead_ids)))).scalars())
    assert len(leads) == 2000 and all(lead.owner_id for lead in leads)
    # The demo calls every day, each lead in its own hours: only the number a hand-made lead put on the
    # do-not-call list is skipped.
    listed = sum(lead.phone == "+12025550122" for lead in leads)
    assert listed and [(s.code, s.count) for s in big_preview.skipped] == [("number_on_dnc", listed)]
    assert big_preview.will_call == 2000 - listed
    zones = Counter(lead.timezone for lead in leads)
    assert len(zones) == 10 and min(zones.values()) == 200
    kinds = Counter(scenario_for(lead.phone or "").kind for lead in leads)
    for kind in (Kind.INTERESTED, Kind.NOT_INTERESTED, Kind.CALLBACK, Kind.NO_ANSWER, Kind.BUSY, Kind.VOICEMAIL):
        assert kinds[kind] >= 20, kinds
    assert all(lead.phone and lead.phone.startswith("+120255501") for lead in leads)
    assert kinds[Kind.LONG] == kinds[Kind.REFUSED] == 0
    assert {lead.phone for lead in leads} >= set(TEST_NUMBERS) - {"+12025550106", "+12025550108", "+12025550109",
                                                                  "+12025550110"}
