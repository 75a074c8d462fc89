"""The demo's accounts get leadcall's analysis on their agents once the simulator serving them answers (the demo
seeds them before its server is up, so connecting them could not set it up)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx

from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.demo_data import DEMO_LEADS, set_up_demo_analysis
from leadcall.simulator.scenarios import describe
from leadcall.voice import analysis
from leadcall.voice import service as voice
from leadcall.voice.schemas import AccountCreate
from tests.factories import make_world
from tests.live import LiveServer


async def test_the_demo_agents_get_leadcalls_analysis_once_the_server_is_up(live: LiveServer,
                                                                             live_client: httpx.AsyncClient) -> None:
    world = await make_world(live.app, "Demo-like")
    key = f"sk_test_{uuid.uuid4().hex}"
    sim_account = live.simulator.add_account(name="demo", api_key=key, webhook_secret="wsec_demo_like")
    live.simulator.seed_account(sim_account, language="es")
    container = live.app.state.container
    now = datetime.fromtimestamp(live.clock.now(), UTC)
    async with transaction(container.sessionmaker) as session:  # as seed_demo_voice does: no set-up yet
        await voice.create_account(session, Scope(world.tenant_id), container.secret_box, AccountCreate(
            name="Demo", api_key=key, base_url=f"{live.url}/sim"), now, targets=live.app.state.voice_manager.targets)
    assert not any(k.startswith(analysis.PREFIX) for a in sim_account.agents.values()
                   for k in a.platform_settings.get("data_collection", {}))

    done = await set_up_demo_analysis(container.sessionmaker, live.app.state.voice_manager, world.tenant_id, now)
    assert done == len(sim_account.agents)
    for agent in sim_account.agents.values():
        items = agent.platform_settings["data_collection"]
        assert set(analysis.data_collection("es")) <= set(items) and agent.platform_settings["summary_language"] == "es"
    listed = (await live_client.get("/api/voice/agents", headers=world.admin.headers)).json()
    assert {a["analysis"]["state"] for a in listed} == {"ready"}

    updated = {a.agent_id: a.updated_at for a in sim_account.agents.values()}
    live.clock.advance(5)
    assert await set_up_demo_analysis(container.sessionmaker, live.app.state.voice_manager, world.tenant_id,
                                      now) == len(sim_account.agents)
    assert {a.agent_id: a.updated_at for a in sim_account.agents.values()} == updated, "a second start sends no PATCH"


def test_the_demo_can_say_what_calling_each_lead_does() -> None:
    plays = {phone: describe(phone) for _name, _company, phone, _notes in DEMO_LEADS if phone}
    assert plays["+12025550103"] == "no answer"
    assert plays["+12025550108"].startswith("a long call")
    assert "no webhook" in plays["+12025550109"]
    assert all(plays.values())
