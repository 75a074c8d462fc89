"""leadcall sets its analysis up on the agents a tenant enables, through the real agent PATCH, merged with
the tenant's own items; ElevenLabs' refusal leaves the agent usable with the keyword fallback."""

from __future__ import annotations

from typing import Any

import httpx
from elevenlabs.types import AgentPlatformSettingsRequestModel, AnalysisProperty, PromptEvaluationCriteria

from leadcall.voice import analysis
from leadcall.voice.providers.elevenlabs.adapter import analysis_patch_body
from leadcall.voice.types import AnalysisSetup
from tests.live import CallWorld, LiveServer, make_call_world, play
from tests.simulator.openapi_check import assert_conforms

TENANT_ITEMS = {"sales_outcome", "callback_time"}  # the simulator's seeded agents carry these of their own


def sim_settings(cw: CallWorld) -> list[dict[str, Any]]:
    return [a.platform_settings for a in cw.sim_account.agents.values()]


async def agents(client: httpx.AsyncClient, cw: CallWorld) -> list[dict[str, Any]]:
    r = await client.get("/api/voice/agents", headers=cw.world.admin.headers)
    assert r.status_code == 200, r.text
    return list(r.json())


async def test_connecting_an_account_sets_the_analysis_up_on_every_agent(live_client: httpx.AsyncClient,
                                                                         cw: CallWorld) -> None:
    listed = await agents(live_client, cw)
    assert listed and all(a["analysis"]["state"] == "ready" for a in listed), listed
    available = (await live_client.get("/api/voice/agents/available", headers=cw.world.member.headers)).json()
    assert all(a["analysis"]["state"] == "ready" for a in available)
    for settings in sim_settings(cw):
        items = settings["data_collection"]
        assert TENANT_ITEMS <= set(items), "the tenant's own items are kept"
        assert items["sales_outcome"] == {"type": "string",
                                          "description": "interested, not_interested or callback_requested"}
        assert items[analysis.SALES_OUTCOME]["enum"] == ["interested", "not_interested", "callback_requested"]
        assert {analysis.CALLBACK_TIME, analysis.OPTED_OUT, analysis.NEXT_STEP, analysis.OBJECTIONS} <= set(items)
        assert items[analysis.OPTED_OUT]["type"] == "boolean"
        assert "{{lead_local_time}}" in items[analysis.CALLBACK_TIME]["description"]
        ids = [c["id"] for c in settings["evaluation"]["criteria"]]
        assert ids == [analysis.goal_id(t) for t in analysis.CALL_TYPES]
        assert settings["summary_language"] == "es"  # the tenant's language


async def test_setting_up_again_is_idempotent_and_keeps_tenant_items(live: LiveServer, live_client: httpx.AsyncClient,
                                                                     cw: CallWorld) -> None:
    agent = next(iter(cw.sim_account.agents.values()))
    agent.platform_settings["data_collection"]["budget"] = {"type": "number", "description": "their budget"}
    agent.platform_settings["evaluation"]["criteria"].insert(0, {
        "id": "polite", "name": "Polite", "type": "prompt", "conversation_goal_prompt": "The agent was polite."})
    ref = next(a for a in await agents(live_client, cw) if a["agentId"] == agent.agent_id)
    r = await live_client.post(f"/api/voice/agents/{ref['id']}/analysis", headers=cw.world.admin.headers)
    assert r.status_code == 200 and r.json()["state"] == "ready", r.text
    before = agent.updated_at
    live.clock.advance(120)
    r = await live_client.post(f"/api/voice/agents/{ref['id']}/analysis", headers=cw.world.admin.headers)
    assert r.json()["state"] == "ready"
    assert agent.updated_at == before, "nothing to change: no PATCH"
    settings = agent.platform_settings
    assert settings["data_collection"]["budget"] == {"type": "number", "description": "their budget"}
    assert [c["id"] for c in settings["evaluation"]["criteria"]][0] == "polite"
    assert sum(1 for k in settings["data_collection"] if k.startswith("leadcall_")) == 5


def test_the_patch_body_matches_the_openapi_document_and_the_official_sdk() -> None:
    current = AnalysisSetup(data_collection={"budget": {"type": "number", "description": "their budget",
                                                        "dynamic_variable": "", "constant_value": ""}},
                            criteria=({"id": "polite", "name": "Polite", "type": "prompt",
                                       "conversation_goal_prompt": "Polite?", "use_knowledge_base": False},))
    plan = analysis.plan(current, language="en", call_types=["prospecting", "closing"], opted_out=False)
    body = analysis_patch_body(plan.target)
    assert set(body) == {"platform_settings"}
    assert_conforms(body, "Body_Patches_an_Agent_settings_v1_convai_agents__agent_id__patch")
    assert_conforms(body["platform_settings"], "AgentPlatformSettingsRequestModel")
    sdk = AgentPlatformSettingsRequestModel.model_validate(body["platform_settings"])
    assert sdk.summary_language == "en" and sdk.evaluation is not None and sdk.evaluation.criteria
    assert [c.id for c in sdk.evaluation.criteria] == ["polite", "leadcall_goal_prospecting", "leadcall_goal_closing"]
    for item in body["platform_settings"]["data_collection"].values():
        assert set(item) <= set(AnalysisProperty.model_fields), item
        AnalysisProperty.model_validate(item)
    for criterion in body["platform_settings"]["evaluation"]["criteria"]:
        assert set(criterion) <= set(PromptEvaluationCriteria.model_fields), criterion
        assert len(criterion["conversation_goal_prompt"]) <= 2000
    assert body["platform_settings"]["data_collection"]["budget"] == dict(current.data_collection["budget"])
    assert plan.kept == ("budget", "polite") and not plan.up_to_date
    again = analysis.plan(plan.target, language="en", call_types=["closing", "prospecting"], opted_out=False)
    assert again.up_to_date and again.target == plan.target


async def test_a_call_on_a_set_up_agent_takes_its_outcome_from_data_collection(
        live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    lead = await live_client.post("/api/leads", json={"name": "Opt Out", "phone": "+12025550111",
                                                      "timezone": "America/New_York"},
                                  headers=cw.world.member.headers)
    placed = await live_client.post(f"/api/leads/{lead.json()['id']}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    assert placed.status_code == 200, placed.text
    conversation = live.simulator.conversations[placed.json()["jobId"]]
    variables = conversation.dynamic_variables
    assert variables["lead_timezone"] == "America/New_York"
    assert variables["lead_local_time"][-6:] in ("-05:00", "-04:00")
    await play(live, 120)
    call = (await live_client.get(f"/api/calls/{placed.json()['callLog']['id']}",
                                  headers=cw.world.member.headers)).json()
    assert call["outcome"] == "not_interested" and call["optedOut"] is True
    assert call["outcomeSource"] == "data_collection"
    rationales = {i["id"]: i["rationale"] for i in call["outcomeEvidence"]["items"]}
    assert rationales["leadcall_opted_out"]
    assert call["summary"] == "El lead pidió que no le vuelvan a llamar."  # summary_language: the tenant's
    assert "No volver a llamar" in call["next_action"]


async def test_a_read_only_key_leaves_the_agent_usable_with_the_keyword_fallback(
        live: LiveServer, live_client: httpx.AsyncClient) -> None:
    cw = await make_call_world(live, live_client)
    cw.sim_account.read_only = True
    ref = (await agents(live_client, cw))[0]
    r = await live_client.post(f"/api/voice/agents/{ref['id']}/analysis", headers=cw.world.admin.headers)
    assert r.status_code == 200
    # it was set up when connected; the read-only key now cannot change it (opting out needs a PATCH)
    r = await live_client.put(f"/api/voice/agents/{ref['id']}/analysis", json={"optedOut": True},
                              headers=cw.world.admin.headers)
    assert r.json()["state"] == "opted_out" and "convai_write" in r.json()["detail"]
    fresh = await make_call_world_read_only(live, live_client)
    listed = await agents(live_client, fresh)
    assert all(a["analysis"]["state"] == "not_set_up" for a in listed)
    assert all(a["analysis"]["detail"].startswith("analysis not set up: ") and "convai_write" in a["analysis"]["detail"]
               for a in listed)
    lead = await live_client.post("/api/leads", json={"name": "Pat", "phone": "+12025550101"},
                                  headers=fresh.world.member.headers)
    placed = await live_client.post(f"/api/leads/{lead.json()['id']}/call", json={"agentId": fresh.agent_ids[0]},
                                    headers=fresh.world.member.headers)
    assert placed.status_code == 200, placed.text
    await play(live, 120)
    call = (await live_client.get(f"/api/calls/{placed.json()['callLog']['id']}",
                                  headers=fresh.world.member.headers)).json()
    assert call["outcome"] == "not_interested" and call["outcomeSource"] == "rules"
    assert "fallback" in call["outcomeEvidence"]["detail"]


async def make_call_world_read_only(live: LiveServer, client: httpx.AsyncClient) -> CallWorld:
    """A tenant whose key may read but not write agents, from the moment it is connected."""
    original = live.simulator.add_account

    def read_only_account(**kwargs: Any) -> Any:
        account = original(**kwargs)
        account.read_only = True
        return account

    live.simulator.add_account = read_only_account  # type: ignore[method-assign]
    try:
        return await make_call_world(live, client)
    finally:
        live.simulator.add_account = original  # type: ignore[method-assign]


async def test_a_refused_patch_422_says_why(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    agent = next(iter(cw.sim_account.agents.values()))
    agent.platform_settings["data_collection"]["broken"] = {"type": "object", "description": "not a literal"}
    del agent.platform_settings["data_collection"][analysis.NEXT_STEP]  # so leadcall has something to PATCH
    ref = next(a for a in await agents(live_client, cw) if a["agentId"] == agent.agent_id)
    r = await live_client.post(f"/api/voice/agents/{ref['id']}/analysis", headers=cw.world.admin.headers)
    assert r.status_code == 200
    assert r.json()["state"] == "not_set_up" and r.json()["detail"].startswith("analysis not set up: ")
    listed = next(a for a in await agents(live_client, cw) if a["id"] == ref["id"])
    assert listed["analysis"] == r.json()


async def test_opting_an_agent_out_takes_leadcalls_items_off_and_back(live_client: httpx.AsyncClient,
                                                                      cw: CallWorld) -> None:
    ref = (await agents(live_client, cw))[0]
    agent = cw.sim_account.agents[ref["agentId"]]
    r = await live_client.put(f"/api/voice/agents/{ref['id']}/analysis", json={"optedOut": True},
                              headers=cw.world.admin.headers)
    assert r.status_code == 200 and r.json() == {"state": "opted_out", "detail": None}
    assert set(agent.platform_settings["data_collection"]) == TENANT_ITEMS
    assert agent.platform_settings["evaluation"]["criteria"] == []
    assert next(a for a in await agents(live_client, cw) if a["id"] == ref["id"])["analysis"]["state"] == "opted_out"
    r = await live_client.put(f"/api/voice/agents/{ref['id']}/analysis", json={"optedOut": False},
                              headers=cw.world.admin.headers)
    assert r.json()["state"] == "ready" and analysis.SALES_OUTCOME in agent.platform_settings["data_collection"]


async def test_an_agent_used_for_other_call_types_gets_their_criteria(live_client: httpx.AsyncClient,
                                                                     cw: CallWorld) -> None:
    ref = (await agents(live_client, cw))[0]
    r = await live_client.put(f"/api/voice/agents/{ref['id']}", json={"allowedCallTypes": ["closing"]},
                              headers=cw.world.admin.headers)
    assert r.status_code == 200 and r.json()["analysis"]["state"] == "ready", r.text
    criteria = cw.sim_account.agents[ref["agentId"]].platform_settings["evaluation"]["criteria"]
    assert [c["id"] for c in criteria] == ["leadcall_goal_closing"]


async def test_roles_and_bad_input(live_client: httpx.AsyncClient, cw: CallWorld) -> None:
    ref = (await agents(live_client, cw))[0]
    for method, body in (("POST", None), ("PUT", {"optedOut": True})):
        r = await live_client.request(method, f"/api/voice/agents/{ref['id']}/analysis", json=body,
                                      headers=cw.world.member.headers)
        assert r.status_code == 403, r.text
    r = await live_client.put(f"/api/voice/agents/{ref['id']}/analysis", json={"optedOut": "perhaps"},
                              headers=cw.world.admin.headers)
    assert r.status_code == 422 and r.json()["fields"][0]["field"] == "optedOut"
    r = await live_client.post("/api/voice/agents/no-such-agent/analysis", headers=cw.world.admin.headers)
    assert r.status_code == 404


async def test_a_refused_call_has_no_outcome_and_says_why(live: LiveServer, live_client: httpx.AsyncClient,
                                                         cw: CallWorld) -> None:
    lead = await live_client.post("/api/leads", json={"name": "Refused", "phone": "+12025550106"},
                                  headers=cw.world.member.headers)
    placed = await live_client.post(f"/api/leads/{lead.json()['id']}/call", json={"agentId": cw.agent_ids[0]},
                                    headers=cw.world.member.headers)
    call = placed.json()["callLog"]
    assert call["status"] == "failed" and call["outcome"] is None
    assert call["phoneResult"] == "failed" and "ElevenLabs refused" in call["failureReason"]
    assert call["outcomeSource"] is None and call["optedOut"] is False
    assert call["next_action"] == "Revisar el número y reintentar"  # the tenant's language
