"""Webhook signature verification, cross-checked against the official SDK, and event parsing.

Signatures are made here independently of the adapter (HMAC-SHA256 over `f"{t}.{body}"`),
and the official SDK's `construct_event` must accept the same deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from elevenlabs.client import ElevenLabs
from elevenlabs.core.api_error import ApiError

from leadcall.voice.errors import ProviderMisconfigured, ProviderRejected, WebhookSignatureError
from leadcall.voice.types import ConversationStatus, WebhookEventKind
from tests.voice.providers.conftest import RigFactory
from tests.voice.providers.wire import WEBHOOK_SECRET, Rig, reply

TRANSCRIPTION: dict[str, Any] = {
    "type": "post_call_transcription",
    "event_timestamp": 1739537297,
    "data": {
        "agent_id": "agent_1",
        "conversation_id": "conv_1",
        "status": "done",
        "user_id": "user123",
        "transcript": [{"role": "agent", "message": "Hey there, ¿qué tal?", "tool_calls": None,
                        "tool_results": None, "feedback": None, "time_in_call_secs": 0,
                        "conversation_turn_metrics": None}],
        "metadata": {"start_time_unix_secs": 1739537297, "call_duration_secs": 22, "cost": 296,
                     "deletion_settings": {}, "feedback": {}, "authorization_method": "authorization_header",
                     "charging": {"dev_discount": True}, "termination_reason": ""},
        "analysis": {"evaluation_criteria_results": {}, "data_collection_results": {},
                     "call_successful": "success", "transcript_summary": "Short call."},
        "conversation_initiation_client_data": {"dynamic_variables": {"user_name": "angelo"}},
        "has_audio": True, "has_user_audio": True, "has_response_audio": True,
    },
}


def sign(body: bytes, timestamp: int, secret: str = WEBHOOK_SECRET) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v0={digest}"


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False).encode("utf-8")


def sdk_accepts(body: bytes, header: str, secret: str = WEBHOOK_SECRET) -> bool:
    try:
        ElevenLabs(api_key="x").webhooks.construct_event(rawBody=body.decode("utf-8"), sig_header=header,
                                                         secret=secret)
    except ApiError:
        return False
    return True


@pytest.fixture
async def hook(rig: RigFactory) -> Rig:
    return await rig(lambda req: reply(500, {}))


def now(r: Rig) -> int:
    return int(r.clock.now())


async def test_good_transcription_webhook(hook: Rig) -> None:
    body = encode(TRANSCRIPTION)
    header = sign(body, now(hook))
    event = hook.provider.verify_webhook(body, header)
    assert sdk_accepts(body, header)
    assert event.kind is WebhookEventKind.TRANSCRIPTION
    assert (event.event_timestamp, event.conversation_id, event.agent_id) == (1739537297, "conv_1", "agent_1")
    assert event.conversation is not None
    assert event.conversation.status is ConversationStatus.DONE
    assert event.conversation.transcript[0].message == "Hey there, ¿qué tal?"
    assert event.conversation.cost_credits == 296
    assert event.dedup_key == "post_call_transcription:conv_1:1739537297"
    assert hook.recorder.requests == []


async def test_redelivery_has_the_same_dedup_key(hook: Rig) -> None:
    body = encode(TRANSCRIPTION)
    first = hook.provider.verify_webhook(body, sign(body, now(hook)))
    hook.clock.advance(120)
    again = hook.provider.verify_webhook(body, sign(body, now(hook)))
    assert first.dedup_key == again.dedup_key


async def test_audio_webhook_is_decoded(hook: Rig) -> None:
    mp3 = b"ID3\x04\x00" + bytes(range(256))
    event_json = {"type": "post_call_audio", "event_timestamp": 1739537300,
                  "data": {"agent_id": "agent_1", "conversation_id": "conv_1",
                           "full_audio": base64.b64encode(mp3).decode()}}
    body = encode(event_json)
    header = sign(body, now(hook))
    event = hook.provider.verify_webhook(body, header)
    assert sdk_accepts(body, header)
    assert event.kind is WebhookEventKind.AUDIO
    assert event.audio == mp3
    assert event.conversation is None
    assert event.dedup_key == "post_call_audio:conv_1:1739537300"
    assert "full_audio" not in repr(event) and repr(mp3) not in repr(event)


@pytest.mark.parametrize(("reason", "expected"), [("busy", "busy"), ("no-answer", "no-answer"),
                                                  ("unknown", "unknown"), ("weird", "unknown")])
async def test_initiation_failure_webhook(hook: Rig, reason: str, expected: str) -> None:
    event_json = {"type": "call_initiation_failure", "event_timestamp": 1739537301,
                  "data": {"agent_id": "agent_1", "conversation_id": "conv_9", "failure_reason": reason,
                           "metadata": {"type": "twilio", "body": {"CallSid": "CA9", "CallStatus": "busy"}}}}
    body = encode(event_json)
    event = hook.provider.verify_webhook(body, sign(body, now(hook)))
    assert event.kind is WebhookEventKind.INITIATION_FAILURE
    assert (event.conversation_id, event.failure_reason) == ("conv_9", expected)


async def test_tampered_body_is_refused(hook: Rig) -> None:
    body = encode(TRANSCRIPTION)
    header = sign(body, now(hook))
    tampered = body.replace(b"success", b"failure")
    with pytest.raises(WebhookSignatureError) as caught:
        hook.provider.verify_webhook(tampered, header)
    assert caught.value.code == "bad_signature"
    assert not sdk_accepts(tampered, header)


async def test_wrong_secret_is_refused(hook: Rig) -> None:
    body = encode(TRANSCRIPTION)
    with pytest.raises(WebhookSignatureError):
        hook.provider.verify_webhook(body, sign(body, now(hook), secret="other-secret"))


async def test_stale_signature_is_refused(hook: Rig) -> None:
    body = encode(TRANSCRIPTION)
    old = now(hook) - 31 * 60
    with pytest.raises(WebhookSignatureError) as caught:
        hook.provider.verify_webhook(body, sign(body, old))
    assert caught.value.code == "stale_signature"
    assert not sdk_accepts(body, sign(body, old))
    recent = now(hook) - 29 * 60
    assert hook.provider.verify_webhook(body, sign(body, recent)).conversation_id == "conv_1"
    assert sdk_accepts(body, sign(body, recent))


async def test_signature_goes_stale_as_the_clock_moves(hook: Rig) -> None:
    body = encode(TRANSCRIPTION)
    header = sign(body, now(hook))
    hook.provider.verify_webhook(body, header)
    hook.clock.advance(30 * 60 + 1)
    with pytest.raises(WebhookSignatureError):
        hook.provider.verify_webhook(body, header)


async def test_future_signature_is_refused(hook: Rig) -> None:
    body = encode(TRANSCRIPTION)
    with pytest.raises(WebhookSignatureError) as caught:
        hook.provider.verify_webhook(body, sign(body, now(hook) + 6 * 60))
    assert caught.value.code == "future_signature"
    assert hook.provider.verify_webhook(body, sign(body, now(hook) + 4 * 60)).conversation_id == "conv_1"


@pytest.mark.parametrize("header", [None, "", "   "])
async def test_missing_header_is_refused(hook: Rig, header: str | None) -> None:
    with pytest.raises(WebhookSignatureError) as caught:
        hook.provider.verify_webhook(encode(TRANSCRIPTION), header)
    assert caught.value.code == "missing_signature"


@pytest.mark.parametrize("header", ["v0=abc", "t=123", "t=abc,v0=abc", "garbage", "t=-5,v0=00"])
async def test_malformed_header_is_refused(hook: Rig, header: str) -> None:
    with pytest.raises(WebhookSignatureError):
        hook.provider.verify_webhook(encode(TRANSCRIPTION), header)


async def test_header_parts_may_come_in_any_order(hook: Rig) -> None:
    body = encode(TRANSCRIPTION)
    t_part, v_part = sign(body, now(hook)).split(",")
    header = f"{v_part}, {t_part}"
    assert hook.provider.verify_webhook(body, header).conversation_id == "conv_1"


async def test_missing_secret_fails_closed(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(500, {}), webhook_secret=None)
    body = encode(TRANSCRIPTION)
    with pytest.raises(ProviderMisconfigured) as caught:
        r.provider.verify_webhook(body, sign(body, now(r)))
    assert caught.value.code == "webhook_secret_missing"
    assert not sdk_accepts(body, sign(body, now(r)), secret="")


async def test_empty_secret_fails_closed(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(500, {}), webhook_secret="")
    body = encode(TRANSCRIPTION)
    with pytest.raises(ProviderMisconfigured):
        r.provider.verify_webhook(body, sign(body, now(r), secret=""))


async def test_signed_but_unknown_event_type_is_rejected(hook: Rig) -> None:
    body = encode({"type": "voice_removal_notice", "event_timestamp": 1, "data": {}})
    with pytest.raises(ProviderRejected) as caught:
        hook.provider.verify_webhook(body, sign(body, now(hook)))
    assert caught.value.code == "unsupported_event_type"


async def test_signed_but_broken_body_is_rejected(hook: Rig) -> None:
    body = b"{not json"
    with pytest.raises(ProviderRejected):
        hook.provider.verify_webhook(body, sign(body, now(hook)))


async def test_parse_webhook_reads_a_stored_verified_body(hook: Rig) -> None:
    body = encode(TRANSCRIPTION)
    verified = hook.provider.verify_webhook(body, sign(body, now(hook)))
    hook.clock.advance(24 * 3600)
    assert hook.provider.parse_webhook(body) == verified
