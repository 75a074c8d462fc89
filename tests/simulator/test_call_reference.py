"""Our id on every dial, end to end on the wire: the real ElevenLabs adapter sends it as the
official API takes it, the simulator keeps it and hands it back where the official OpenAPI
says the real service does (GET conversation, the post-call transcription webhook), and the
conversation list finds a call by it. Checked field by field against the OpenAPI document."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from leadcall.voice.providers.elevenlabs import ElevenLabsProvider, ElevenLabsSettings
from leadcall.voice.types import CallRequest, PhoneKind, PhoneNumber
from tests.simulator.harness import KEY, SECRET, Sim
from tests.simulator.openapi_check import assert_conforms, assert_response_conforms, schema, spec

REFERENCE = "5b0c7d6e-1f2a-4b3c-8d9e-0a1b2c3d4e5f"


def undeclared(value: dict[str, Any], name: str) -> set[str]:
    """Keys the schema `name` does not declare (the validator lets unknown keys through)."""
    return set(value) - set(schema(name)["properties"])


class Recording(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return await self.inner.handle_async_request(request)


@pytest.fixture
async def wired(sim: Sim) -> AsyncIterator[tuple[ElevenLabsProvider, Recording]]:
    transport = Recording(httpx.ASGITransport(app=sim.app))
    http = httpx.AsyncClient(transport=transport)
    provider = ElevenLabsProvider(ElevenLabsSettings(api_key=KEY, webhook_secret=SECRET, base_url="http://sim.test"),
                                  clock=sim.clock, http=http)
    yield provider, transport
    await http.aclose()


def _request(sim: Sim, to_number: str, reference: str | None = REFERENCE) -> CallRequest:
    phone = sim.account.phones[sim.phone_id("twilio")]
    number = PhoneNumber(phone.phone_number_id, phone.number, phone.label, PhoneKind.TWILIO, phone.agent_id)
    return CallRequest(agent_id=sim.agent_id, phone_number=number, to_number=to_number,
                       dynamic_variables={"lead_name": "Pat"}, reference=reference)


async def test_the_dial_carries_our_id_as_the_api_takes_it(sim: Sim, wired: tuple[ElevenLabsProvider, Recording]
                                                           ) -> None:
    provider, transport = wired
    placement = await provider.start_call(_request(sim, "+12025550100"))
    body = json.loads(transport.requests[-1].content)
    client_data = body["conversation_initiation_client_data"]
    assert client_data == {"user_id": REFERENCE, "dynamic_variables": {"lead_name": "Pat",
                                                                       "leadcall_call_id": REFERENCE}}
    assert_conforms(body, "Body_Handle_an_outbound_call_via_Twilio_v1_convai_twilio_outbound_call_post")
    assert not undeclared(client_data, "ConversationInitiationClientDataRequest-Input")
    # The simulator keeps what the call was placed with.
    assert sim.state.conversations[placement.conversation_id].client_data == client_data


async def test_the_conversation_and_its_webhook_hand_our_id_back(sim: Sim,
                                                                 wired: tuple[ElevenLabsProvider, Recording]) -> None:
    provider, _ = wired
    placement = await provider.start_call(_request(sim, "+12025550100"))
    raw = await sim.conversation(placement.conversation_id)
    assert_response_conforms(raw, "get", "/v1/convai/conversations/{conversation_id}")
    assert not undeclared(raw, "GetConversationResponseModel")
    assert raw["user_id"] == REFERENCE
    echoed = raw["conversation_initiation_client_data"]
    assert_conforms(echoed, "ConversationInitiationClientDataRequest-Output")
    assert not undeclared(echoed, "ConversationInitiationClientDataRequest-Output")
    assert echoed["user_id"] == REFERENCE and echoed["dynamic_variables"]["leadcall_call_id"] == REFERENCE
    assert (await provider.get_conversation(placement.conversation_id)).reference == REFERENCE

    await sim.state.advance(120)
    transcription = next(r for r in sim.receiver.received if r.type == "post_call_transcription")
    data = transcription.event["data"]
    assert_conforms(data, "GetConversationResponseModel")
    assert data["user_id"] == REFERENCE
    assert data["conversation_initiation_client_data"]["dynamic_variables"]["leadcall_call_id"] == REFERENCE
    event = provider.verify_webhook(transcription.body, transcription.signature)
    assert event.conversation is not None and event.conversation.reference == REFERENCE


async def test_a_call_is_found_by_our_id_and_only_by_it(sim: Sim, wired: tuple[ElevenLabsProvider, Recording]
                                                        ) -> None:
    provider, transport = wired
    started = int(sim.clock.now())
    other = await provider.start_call(_request(sim, "+12025550101", reference="another-call"))
    ours = await provider.start_call(_request(sim, "+12025550101"))
    await provider.start_call(_request(sim, "+12025550101", reference=None))
    transport.requests.clear()

    found = await provider.find_conversation(sim.agent_id, REFERENCE, started - 120)
    assert found is not None and found.conversation_id == ours.conversation_id
    listing = transport.requests[0]
    assert listing.url.path == "/v1/convai/conversations"
    declared = {p["name"]: p for p in spec()["paths"]["/v1/convai/conversations"]["get"]["parameters"]}
    assert set(listing.url.params) <= set(declared)
    assert listing.url.params["user_id"] == REFERENCE and listing.url.params["agent_id"] == sim.agent_id
    assert listing.url.params["sort_direction"] in schema("SortDirection")["enum"]

    answer = await sim.client.get("/v1/convai/conversations", params=dict(listing.url.params))
    page = answer.json()
    assert_response_conforms(page, "get", "/v1/convai/conversations")
    assert [c["conversation_id"] for c in page["conversations"]] == [ours.conversation_id]
    assert all(not undeclared(item, "ConversationSummaryResponseModel") for item in page["conversations"])

    assert await provider.find_conversation(sim.agent_id, "never-dialled", started - 120) is None
    assert await provider.find_conversation(sim.agent_id, REFERENCE, started + 3600) is None  # started before
    assert await provider.find_conversation(sim.agent_id, REFERENCE, started - 120, started - 60) is None
    within = await provider.find_conversation(sim.agent_id, REFERENCE, started - 120, started + 150)
    assert within is not None and within.conversation_id == ours.conversation_id
    assert other.conversation_id != ours.conversation_id


async def test_the_list_filters_by_start_time_and_sorts_both_ways(sim: Sim) -> None:
    first = (await sim.place("+12025550100")).json()["conversation_id"]
    sim.clock.advance(100)
    second = (await sim.place("+12025550100")).json()["conversation_id"]
    t0 = int(sim.clock.now()) - 100
    listed = (await sim.client.get("/v1/convai/conversations")).json()["conversations"]
    assert [c["conversation_id"] for c in listed] == [second, first]  # newest first by default
    ascending = (await sim.client.get("/v1/convai/conversations", params={"sort_direction": "asc"})).json()
    assert [c["conversation_id"] for c in ascending["conversations"]] == [first, second]
    after = (await sim.client.get("/v1/convai/conversations", params={"call_start_after_unix": t0 + 1})).json()
    assert [c["conversation_id"] for c in after["conversations"]] == [second]
    before = (await sim.client.get("/v1/convai/conversations", params={"call_start_before_unix": t0})).json()
    assert [c["conversation_id"] for c in before["conversations"]] == [first]


@pytest.mark.parametrize("fault", ["fail_after_placing_next", "drop_after_placing_next"])
async def test_after_placing_faults_spoil_only_the_answer(sim: Sim, fault: str) -> None:
    setattr(sim.state.faults, fault, 1)
    served = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app, raise_app_exceptions=False),
                               base_url="http://sim.test", headers={"xi-api-key": KEY})
    async with served:
        r = await served.post("/v1/convai/twilio/outbound-call", json={
            "agent_id": sim.agent_id, "agent_phone_number_id": sim.phone_id(), "to_number": "+12025550100"})
        if fault == "fail_after_placing_next":
            assert r.status_code == 503 and r.json()["detail"]["code"] == "internal_error"
        else:
            assert int(r.headers["content-length"]) > len(r.content)  # the answer stops half-way
        assert len(sim.state.conversations) == 1  # the call rings all the same
        assert getattr(sim.state.faults, fault) == 0
        again = await served.post("/v1/convai/twilio/outbound-call", json={
            "agent_id": sim.agent_id, "agent_phone_number_id": sim.phone_id(), "to_number": "+12025550101"})
        assert again.status_code == 200 and again.json()["success"] is True


async def test_the_hold_fault_answers_late_after_placing(sim: Sim) -> None:
    sim.state.faults.hold_after_placing_next, sim.state.faults.hold_seconds = 1, 0.05
    r = await sim.place("+12025550100")
    assert r.status_code == 200 and r.json()["conversation_id"] in sim.state.conversations
    assert sim.state.faults.hold_after_placing_next == 0

