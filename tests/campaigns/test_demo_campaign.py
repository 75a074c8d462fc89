"""The demo ships a draft campaign over the Madrid team's leads, with an agent of the built-in simulator; its
preview names who is skipped and why."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI
from sqlalchemy import select

from leadcall.campaigns.models import Campaign
from leadcall.campaigns.service import CampaignService
from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.demo_data import demo_agent_id, seed_demo
from leadcall.simulator import SimulatorState, seed_demo_accounts
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.models import User


async def test_the_demo_has_a_draft_campaign_whose_preview_explains_the_skipped_leads(app: FastAPI) -> None:
    now = datetime.now(UTC)
    async with transaction(app.state.container.sessionmaker) as session:
        demo = await seed_demo(session, now)
    async with transaction(app.state.container.sessionmaker) as session:
        [campaign] = (await session.execute(select(Campaign).where(Campaign.tenant_id == demo.tenant_id))).scalars()
        assert campaign.state == "draft" and campaign.organization_id == demo.organization_ids[0]
        state = SimulatorState(clock=app.state.container.clock)
        spanish = seed_demo_accounts(state)[0]
        assert campaign.agent_ids == [demo_agent_id()] and demo_agent_id() in spanish.agents
        manager = (await session.execute(select(User).where(User.id == campaign.created_by))).scalar_one()
        tenant = await tenancy.get_tenant(session, Scope(demo.tenant_id))
        principal = tenancy.principal_for(manager, tenant, "session")
        service: CampaignService = app.state.campaigns
        preview = await service.preview(session, principal, campaign.id, now, code=None, cursor=None, limit=100)
    skipped = {s.code: s.count for s in preview.skipped}
    assert preview.total == 25 and skipped["lead_has_no_phone"] == 1 and skipped["number_on_dnc"] == 1
