"""What the ElevenLabs provider sends on the wire and how it reads the answers."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest

from leadcall.voice.errors import ProviderRejected
from leadcall.voice.types import (
    AgentUpdate,
    CallRequest,
    ConversationStatus,
    PhoneKind,
    PhoneNumber,
)
from tests.simulator.openapi_check import spec
from tests.voice.providers.conftest import RigFactory
from tests.voice.providers.wire import API_KEY, TWILIO_TOKEN, reply

TWILIO_NUMBER = PhoneNumber("phnum_X3Pbu5gP6NNKBscdCdwB", "+14155550100", "Sales", PhoneKind.TWILIO, "agent_1")
SIP_NUMBER = PhoneNumber("phnum_sip_1", "+4930123456", "Berlin SIP", PhoneKind.SIP_TRUNK, None)

AGENT_PAYLOAD: dict[str, Any] = {
    "agent_id": "agent_1",
    "name": "Closer",
    "conversation_config": {
        "agent": {"first_message": "Hi {{name}}", "language": "es", "prompt": {"prompt": "Sell.", "llm": "x"}},
        "tts": {"voice_id": "voice_9", "model_id": "eleven_flash_v2"},
        "asr": {},
    },
    "metadata": {"created_at_unix_secs": 1},
    "platform_settings": {"call_limits": {"agent_concurrency_limit": 3, "daily_limit": 100000}},
    "phone_numbers": [
        {"phone_number": "+14155550100", "label": "Sales", "phone_number_id": "phnum_X3Pbu5gP6NNKBscdCdwB",
         "provider": "twilio", "assigned_agent": {"agent_id": "agent_1", "agent_name": "Closer"}},
        {"phone_number": "+100", "label": "wa", "phone_number_id": "wa_1", "provider": "whatsapp"},
    ],
    "tags": ["sales", "es"],
}

CONVERSATION_PAYLOAD: dict[str, Any] = {
    "agent_id": "agent_1",
    "conversation_id": "conv_1",
    "status": "done",
    "has_audio": True,
    "has_user_audio": True,
    "has_response_audio": True,
    "has_auxiliary_audio": False,
    "transcript": [
        {"role": "agent", "message": "Hey there", "time_in_call_secs": 0, "tool_calls": None},
        {"role": "user", "message": None, "time_in_call_secs": 4},
    ],
    "metadata": {
        "start_time_unix_secs": 1739537297,
        "accepted_time_unix_secs": 1739537301,
        "call_duration_secs": 22,
        "cost": 296,
        "cost_fiat": 0.0412,
        "termination_reason": "Call ended by remote party",
        "error": None,
        "charging": {"dev_discount": True},
        "phone_call": {"direction": "outbound", "phone_number_id": "phnum_X3Pbu5gP6NNKBscdCdwB",
                       "agent_number": "+14155550100", "external_number": "+14155550123",
                       "type": "twilio", "stream_sid": "MZ1", "call_sid": "CA123"},
    },
    "analysis": {
        "call_successful": "success",
        "transcript_summary": "Interested in a demo.",
        "call_summary_title": "Demo request",
        "data_collection_results": {
            "wants_demo": {"data_collection_id": "wants_demo", "value": True, "rationale": "said yes"},
        },
        "evaluation_criteria_results": {},
    },
}


def _call(number: PhoneNumber = TWILIO_NUMBER, **kwargs: Any) -> CallRequest:
    return CallRequest(agent_id="agent_1", phone_number=number, to_number="+14155550123", **kwargs)


def _check_against_schema(body: dict[str, Any], schema: dict[str, Any]) -> None:
    assert set(schema["required"]) <= set(body)
    assert set(body) <= set(schema["properties"])


async def test_every_request_carries_the_key_and_honours_a_path_prefix(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, {"count": 2}))
    assert await r.provider.live_count("agent_1") == 2
    request = r.recorder.only()
    assert request.method == "GET"
    assert str(request.url) == "http://el.test/sim/v1/convai/analytics/live-count?agent_id=agent_1"
    assert request.headers["xi-api-key"] == API_KEY


async def test_list_agents_follows_cursors(rig: RigFactory) -> None:
    pages = {
        None: {"agents": [{"agent_id": "a1", "name": "One", "tags": ["x"], "created_at_unix_secs": 1,
                           "access_info": {}}], "next_cursor": "c2", "has_more": True},
        "c2": {"agents": [{"agent_id": "a2", "name": "Two", "tags": []}], "next_cursor": None, "has_more": False},
    }
    r = await rig(lambda req: reply(200, pages[req.url.params.get("cursor")]))
    agents = await r.provider.list_agents()
    assert [(a.agent_id, a.name, a.tags) for a in agents] == [("a1", "One", ("x",)), ("a2", "Two", ())]
    assert [req.url.path for req in r.recorder.requests] == ["/sim/v1/convai/agents"] * 2
    assert r.recorder.requests[0].url.params["page_size"] == "100"
    assert r.recorder.requests[1].url.params["cursor"] == "c2"


async def test_get_agent_maps_config_limits_and_numbers(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, AGENT_PAYLOAD))
    agent = await r.provider.get_agent("agent_1")
    assert r.recorder.only().url.path == "/sim/v1/convai/agents/agent_1"
    assert (agent.name, agent.language, agent.first_message, agent.prompt, agent.voice_id) == (
        "Closer", "es", "Hi {{name}}", "Sell.", "voice_9")
    assert agent.tags == ("sales", "es")
    assert agent.concurrency_limit == 3
    assert agent.phone_numbers == (TWILIO_NUMBER,)


async def test_unlimited_agent_concurrency_is_none(rig: RigFactory) -> None:
    payload = {**AGENT_PAYLOAD, "platform_settings": {"call_limits": {"agent_concurrency_limit": -1}}}
    r = await rig(lambda req: reply(200, payload))
    assert (await r.provider.get_agent("agent_1")).concurrency_limit is None


async def test_update_agent_patches_only_set_fields(rig: RigFactory, openapi_schemas: dict[str, Any]) -> None:
    r = await rig(lambda req: reply(200, AGENT_PAYLOAD))
    await r.provider.update_agent("agent_1", AgentUpdate(first_message="Hola", voice_id="v2", tags=("a",)))
    request = r.recorder.only()
    assert request.method == "PATCH"
    assert request.url.path == "/sim/v1/convai/agents/agent_1"
    body = r.recorder.json_body()
    assert body == {"tags": ["a"], "conversation_config": {"agent": {"first_message": "Hola"},
                                                           "tts": {"voice_id": "v2"}}}
    schema = openapi_schemas["Body_Patches_an_Agent_settings_v1_convai_agents__agent_id__patch"]
    assert set(body) <= set(schema["properties"])
    assert set(body["conversation_config"]) <= set(openapi_schemas["ConversationalConfigAPIModel-Input"]["properties"])
    assert set(body["conversation_config"]["agent"]) <= set(openapi_schemas["AgentConfigAPIModel-Input"]["properties"])


async def test_update_agent_prompt_nests_under_prompt(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, AGENT_PAYLOAD))
    await r.provider.update_agent("agent_1", AgentUpdate(name="New", prompt="Be brief.", language="de"))
    assert r.recorder.json_body() == {
        "name": "New",
        "conversation_config": {"agent": {"language": "de", "prompt": {"prompt": "Be brief."}}},
    }


async def test_empty_update_sends_no_write(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, AGENT_PAYLOAD))
    await r.provider.update_agent("agent_1", AgentUpdate())
    assert r.recorder.only().method == "GET"


async def test_list_voices(rig: RigFactory) -> None:
    body = {"voices": [{"voice_id": "v1", "name": "Rachel", "category": "premade",
                        "labels": {"accent": "American", "gender": "female"}, "preview_url": "https://x/p.mp3",
                        "available_for_tiers": [], "high_quality_base_model_ids": []},
                       {"voice_id": "v2", "name": "Mine", "category": "cloned", "labels": None}]}
    r = await rig(lambda req: reply(200, body))
    voices = await r.provider.list_voices()
    assert r.recorder.only().url.path == "/sim/v1/voices"
    assert voices[0].labels == {"accent": "American", "gender": "female"}
    assert voices[0].preview_url == "https://x/p.mp3"
    assert (voices[1].labels, voices[1].preview_url, voices[1].description) == ({}, None, None)


async def test_list_phone_numbers_reads_the_bare_array(rig: RigFactory) -> None:
    body = [
        {"phone_number": "+14155550100", "label": "Sales", "phone_number_id": "phnum_X3Pbu5gP6NNKBscdCdwB",
         "provider": "twilio", "assigned_agent": {"agent_id": "agent_1", "agent_name": "Closer"}},
        {"phone_number": "+4930123456", "label": "Berlin SIP", "phone_number_id": "phnum_sip_1",
         "provider": "sip_trunk", "assigned_agent": None, "livekit_stack": "standard"},
    ]
    r = await rig(lambda req: reply(200, body))
    assert await r.provider.list_phone_numbers() == (TWILIO_NUMBER, SIP_NUMBER)
    assert r.recorder.only().url.path == "/sim/v1/convai/phone-numbers"


async def test_twilio_call_body_matches_the_openapi_schema(rig: RigFactory, openapi_schemas: dict[str, Any]) -> None:
    answer = {"success": True, "message": "Success", "conversation_id": "conv_1", "callSid": "CA123"}
    r = await rig(lambda req: reply(200, answer))
    placement = await r.provider.start_call(_call(dynamic_variables={"name": "Ana", "total": 42.5, "vip": True},
                                                  ringing_timeout_secs=30))
    request = r.recorder.only()
    assert (request.method, request.url.path) == ("POST", "/sim/v1/convai/twilio/outbound-call")
    assert request.headers["content-type"] == "application/json"
    body = r.recorder.json_body()
    assert body == {
        "agent_id": "agent_1",
        "agent_phone_number_id": "phnum_X3Pbu5gP6NNKBscdCdwB",
        "to_number": "+14155550123",
        "conversation_initiation_client_data": {"dynamic_variables": {"name": "Ana", "total": 42.5, "vip": True}},
        "telephony_call_config": {"ringing_timeout_secs": 30},
    }
    _check_against_schema(
        body, openapi_schemas["Body_Handle_an_outbound_call_via_Twilio_v1_convai_twilio_outbound_call_post"])
    assert set(body["conversation_initiation_client_data"]) <= set(
        openapi_schemas["ConversationInitiationClientDataRequest-Input"]["properties"])
    assert set(body["telephony_call_config"]) <= set(openapi_schemas["TelephonyCallConfig"]["properties"])
    assert placement.conversation_id == "conv_1"
    assert placement.call_sid == "CA123"
    assert placement.sip_call_id is None


async def test_sip_call_uses_the_sip_endpoint(rig: RigFactory, openapi_schemas: dict[str, Any]) -> None:
    answer = {"success": True, "message": "ok", "conversation_id": "conv_2", "sip_call_id": "SIP-9"}
    r = await rig(lambda req: reply(200, answer))
    placement = await r.provider.start_call(_call(SIP_NUMBER))
    request = r.recorder.only()
    assert request.url.path == "/sim/v1/convai/sip-trunk/outbound-call"
    body = r.recorder.json_body()
    assert body == {"agent_id": "agent_1", "agent_phone_number_id": "phnum_sip_1", "to_number": "+14155550123"}
    _check_against_schema(
        body, openapi_schemas["Body_Handle_an_outbound_call_via_SIP_trunk_v1_convai_sip_trunk_outbound_call_post"])
    assert (placement.conversation_id, placement.sip_call_id, placement.call_sid) == ("conv_2", "SIP-9", None)


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (CallRequest(agent_id="a", phone_number=TWILIO_NUMBER, to_number="4155550123"), "invalid_to_number"),
        (_call(dynamic_variables={"system__caller_id": "x"}), "reserved_dynamic_variable"),
        (_call(ringing_timeout_secs=0), "invalid_ringing_timeout"),
    ],
)
async def test_bad_call_requests_are_refused_before_dialling(
    rig: RigFactory, request_: CallRequest, code: str
) -> None:
    r = await rig(lambda req: reply(200, {}))
    with pytest.raises(ProviderRejected) as caught:
        await r.provider.start_call(request_)
    assert caught.value.code == code
    assert r.recorder.requests == []


async def test_call_not_placed_is_rejected(rig: RigFactory) -> None:
    answer = {"success": False, "message": "Number not verified", "conversation_id": None, "callSid": None}
    r = await rig(lambda req: reply(200, answer))
    with pytest.raises(ProviderRejected, match="Number not verified"):
        await r.provider.start_call(_call())


async def test_get_conversation_maps_everything(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, CONVERSATION_PAYLOAD))
    conv = await r.provider.get_conversation("conv_1")
    assert r.recorder.only().url.path == "/sim/v1/convai/conversations/conv_1"
    assert conv.status is ConversationStatus.DONE
    assert (conv.start_time_unix, conv.accepted_time_unix, conv.duration_secs) == (1739537297, 1739537301, 22)
    assert (conv.cost_credits, conv.cost_usd) == (296, 0.0412)
    assert conv.termination_reason == "Call ended by remote party"
    assert conv.error_reason is None
    assert [(t.role, t.message, t.time_in_call_secs) for t in conv.transcript] == [
        ("agent", "Hey there", 0), ("user", "", 4)]
    assert conv.analysis is not None
    assert (conv.analysis.call_successful, conv.analysis.summary, conv.analysis.title) == (
        "success", "Interested in a demo.", "Demo request")
    assert dict(conv.analysis.data) == {"wants_demo": True}
    assert (conv.has_audio, conv.call_sid, conv.phone_kind) == (True, "CA123", PhoneKind.TWILIO)


async def test_in_progress_conversation_uses_the_hyphenated_status(rig: RigFactory) -> None:
    payload: dict[str, Any] = {
        "agent_id": "agent_1", "conversation_id": "conv_1", "status": "in-progress", "transcript": [],
        "metadata": {"start_time_unix_secs": 1, "call_duration_secs": 0, "cost_fiat": None,
                     "phone_call": {"type": "sip_trunking", "call_sid": "s1"},
                     "error": {"code": 486, "reason": None}},
        "analysis": None, "has_audio": False,
    }
    r = await rig(lambda req: reply(200, payload))
    conv = await r.provider.get_conversation("conv_1")
    assert conv.status is ConversationStatus.IN_PROGRESS
    assert not conv.status.is_terminal
    assert conv.phone_kind is PhoneKind.SIP_TRUNK
    assert conv.error_reason == "error code 486"
    assert conv.analysis is None


async def test_stream_audio_yields_the_recording(rig: RigFactory) -> None:
    mp3 = b"ID3" + bytes(range(256)) * 40
    r = await rig(lambda req: httpx.Response(200, content=mp3, headers={"content-type": "audio/mpeg"}))
    chunks = [chunk async for chunk in r.provider.stream_audio("conv_1")]
    assert b"".join(chunks) == mp3
    sent = r.recorder.only()
    assert sent.url.path == "/sim/v1/convai/conversations/conv_1/audio"
    # It asks for what the API serves there (the document's 200 answer), not JSON.
    served = spec()["paths"]["/v1/convai/conversations/{conversation_id}/audio"]["get"]["responses"]["200"]
    assert sent.headers["accept"] == "audio/mpeg" and list(served["content"]) == ["audio/mpeg"]


async def test_stream_audio_of_unknown_conversation_is_rejected(rig: RigFactory) -> None:
    body = {"detail": {"type": "not_found", "code": "conversation_not_found", "message": "Conversation not found"}}
    r = await rig(lambda req: reply(404, body))
    with pytest.raises(ProviderRejected) as caught:
        async for _ in r.provider.stream_audio("nope"):
            pass
    assert caught.value.code == "conversation_not_found"


async def test_live_count_for_the_whole_account_sends_no_filter(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, {"count": 0}))
    assert await r.provider.live_count() == 0
    assert str(r.recorder.only().url) == "http://el.test/sim/v1/convai/analytics/live-count"


async def test_ids_are_escaped_in_paths(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, AGENT_PAYLOAD))
    await r.provider.get_agent("../v1/user")
    assert r.recorder.only().url.raw_path == b"/sim/v1/convai/agents/..%2Fv1%2Fuser"


# --- cancel -----------------------------------------------------------------------------------


async def test_twilio_call_is_hung_up_through_twilio(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, {"sid": "CA123", "status": "completed"}),
                  twilio_account_sid="AC42", twilio_auth_token=TWILIO_TOKEN, twilio_base_url="http://twilio.test")
    result = await r.provider.cancel_call("conv_1", "CA123", PhoneKind.TWILIO)
    assert result.ended
    request = r.recorder.only()
    assert request.method == "POST"
    assert str(request.url) == "http://twilio.test/2010-04-01/Accounts/AC42/Calls/CA123.json"
    assert request.content == b"Status=completed"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(f"AC42:{TWILIO_TOKEN}".encode()).decode()
    assert "xi-api-key" not in request.headers


async def test_twilio_call_without_twilio_credentials_says_it_cannot(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, {}))
    result = await r.provider.cancel_call("conv_1", "CA123", PhoneKind.TWILIO)
    assert not result.ended
    assert "no API to hang up" in result.detail
    assert r.recorder.requests == []


async def test_sip_call_cannot_be_hung_up(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, {}), twilio_account_sid="AC42", twilio_auth_token=TWILIO_TOKEN)
    result = await r.provider.cancel_call("conv_1", None, PhoneKind.SIP_TRUNK)
    assert not result.ended
    assert "SIP provider" in result.detail
    assert r.recorder.requests == []


async def test_unknown_twilio_call_is_not_reported_as_ended(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(404, {"code": 20404, "message": "The requested resource was not found"}),
                  twilio_account_sid="AC42", twilio_auth_token=TWILIO_TOKEN)
    result = await r.provider.cancel_call("conv_1", "CA404", PhoneKind.TWILIO)
    assert not result.ended
