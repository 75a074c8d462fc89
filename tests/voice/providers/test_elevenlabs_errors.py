"""Error mapping into the provider taxonomy, the retry rules, and secrets staying secret."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadcall.voice.errors import (
    ProviderAtCapacity,
    ProviderError,
    ProviderMisconfigured,
    ProviderRejected,
    ProviderRetriable,
)
from leadcall.voice.types import CallRequest, PhoneKind, PhoneNumber
from tests.voice.providers.conftest import RigFactory
from tests.voice.providers.wire import API_KEY, TWILIO_TOKEN, WEBHOOK_SECRET, make_settings, reply

NUMBER = PhoneNumber("phnum_1", "+14155550100", "Sales", PhoneKind.TWILIO)
CALL = CallRequest(agent_id="agent_1", phone_number=NUMBER, to_number="+14155550123")
AGENTS_OK = {"agents": [], "has_more": False}


def _raise(exc_type: type[httpx.RequestError]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc_type("boom", request=request)

    return handler


@pytest.mark.parametrize(
    ("status", "body", "error_type", "code"),
    [
        (401, {"detail": {"type": "authentication_error", "code": "invalid_api_key", "status": "invalid_api_key",
                          "message": "Invalid API key"}}, ProviderMisconfigured, "invalid_api_key"),
        (401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}, ProviderMisconfigured,
         "invalid_api_key"),
        (401, {"detail": {"type": "authentication_error", "code": "missing_api_key", "message": "Missing key"}},
         ProviderMisconfigured, "missing_api_key"),
        (402, {"detail": {"type": "payment_required", "code": "insufficient_credits", "message": "No credits"}},
         ProviderMisconfigured, "insufficient_credits"),
        (404, {"detail": {"type": "not_found", "code": "agent_not_found", "message": "Agent not found"}},
         ProviderRejected, "agent_not_found"),
        (400, {"detail": {"type": "validation_error", "code": "invalid_parameters", "message": "bad", "param": "x"}},
         ProviderRejected, "invalid_parameters"),
        (422, {"detail": [{"type": "missing", "loc": ["body", "to_number"], "msg": "Field required", "input": {}}]},
         ProviderRejected, "validation_error"),
        (429, {"detail": {"type": "rate_limit_error", "code": "concurrent_limit_exceeded",
                          "status": "too_many_concurrent_requests", "message": "Too many"}},
         ProviderAtCapacity, "concurrent_limit_exceeded"),
        (429, {"detail": {"status": "too_many_concurrent_requests", "message": "Too many"}},
         ProviderAtCapacity, "too_many_concurrent_requests"),
        (429, {"detail": {"type": "rate_limit_error", "code": "system_busy", "message": "Busy"}},
         ProviderRetriable, "system_busy"),
        (429, {"detail": {"type": "rate_limit_error", "code": "rate_limit_exceeded", "message": "Slow down"}},
         ProviderRetriable, "rate_limit_exceeded"),
    ],
)
async def test_error_envelopes_map_onto_the_taxonomy(
    rig: RigFactory, status: int, body: dict[str, Any], error_type: type[ProviderError], code: str
) -> None:
    r = await rig(lambda req: reply(status, body))
    with pytest.raises(ProviderError) as caught:
        await r.provider.get_agent("agent_1")
    assert type(caught.value) is error_type
    assert caught.value.code == code
    assert caught.value.status_code == status
    assert caught.value.detail.endswith(".")
    assert len(r.recorder.requests) == 1, "4xx answers are never retried"


async def test_422_detail_names_the_field(rig: RigFactory) -> None:
    body = {"detail": [{"type": "missing", "loc": ["body", "to_number"], "msg": "Field required", "input": {}}]}
    r = await rig(lambda req: reply(422, body))
    with pytest.raises(ProviderRejected, match="to_number: Field required"):
        await r.provider.start_call(CALL)


async def test_missing_permission_is_named(rig: RigFactory) -> None:
    body = {"detail": {"status": "missing_permissions",
                       "message": "The API key you used is missing the permission convai_read to execute this "
                                  "operation."}}
    r = await rig(lambda req: reply(401, body))
    with pytest.raises(ProviderMisconfigured) as caught:
        await r.provider.list_voices()
    assert caught.value.missing_permission == "convai_read"
    assert "convai_read" in caught.value.detail


async def test_retry_after_is_passed_on(rig: RigFactory) -> None:
    body = {"detail": {"type": "rate_limit_error", "code": "rate_limit_exceeded", "message": "Slow down"}}
    r = await rig(lambda req: reply(429, body, headers={"retry-after": "7"}))
    with pytest.raises(ProviderRetriable) as caught:
        await r.provider.live_count()
    assert caught.value.retry_after == 7.0
    assert len(r.recorder.requests) == 1


# --- retry rules ------------------------------------------------------------------------------


async def test_a_read_is_retried_once_after_a_5xx(rig: RigFactory) -> None:
    answers = iter([reply(503, {"detail": {"type": "service_unavailable", "message": "down"}}),
                    reply(200, {"count": 4})])
    r = await rig(lambda req: next(answers))
    assert await r.provider.live_count() == 4
    assert len(r.recorder.requests) == 2
    assert len(r.sleeps) == 1 and 0 < r.sleeps[0] <= 1


async def test_a_read_gives_up_after_one_retry(rig: RigFactory) -> None:
    r = await rig(_raise(httpx.ConnectError))
    with pytest.raises(ProviderRetriable) as caught:
        await r.provider.list_phone_numbers()
    assert caught.value.code == "network_error"
    assert not caught.value.maybe_placed
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert len(r.recorder.requests) == 2


async def test_plain_text_5xx_is_retriable(rig: RigFactory) -> None:
    r = await rig(lambda req: httpx.Response(502, text="<html>Bad Gateway</html>"))
    with pytest.raises(ProviderRetriable, match="502"):
        await r.provider.get_conversation("conv_1")


@pytest.mark.parametrize(
    "handler",
    [
        lambda req: reply(500, {"detail": {"type": "internal_error", "message": "oops"}}),
        lambda req: httpx.Response(503, text="upstream down"),
        _raise(httpx.ReadTimeout),
        _raise(httpx.RemoteProtocolError),
        lambda req: httpx.Response(200, text="<html>not json</html>"),
    ],
    ids=["500", "503-text", "read-timeout", "connection-dropped", "200-not-json"],
)
async def test_placing_a_call_is_never_retried_and_may_have_happened(rig: RigFactory, handler: Any) -> None:
    r = await rig(handler)
    with pytest.raises(ProviderRetriable) as caught:
        await r.provider.start_call(CALL)
    assert caught.value.maybe_placed
    assert "may or may not have been placed" in caught.value.detail
    assert len(r.recorder.requests) == 1
    assert r.sleeps == []


async def test_a_call_that_never_left_is_not_marked_maybe_placed(rig: RigFactory) -> None:
    r = await rig(_raise(httpx.ConnectError))
    with pytest.raises(ProviderRetriable) as caught:
        await r.provider.start_call(CALL)
    assert not caught.value.maybe_placed
    assert len(r.recorder.requests) == 1


async def test_call_at_capacity_is_not_retried(rig: RigFactory) -> None:
    body = {"detail": {"type": "rate_limit_error", "code": "concurrent_limit_exceeded",
                       "status": "too_many_concurrent_requests", "message": "Too many concurrent requests"}}
    r = await rig(lambda req: reply(429, body))
    with pytest.raises(ProviderAtCapacity) as caught:
        await r.provider.start_call(CALL)
    assert not caught.value.maybe_placed
    assert len(r.recorder.requests) == 1


# --- test connection --------------------------------------------------------------------------


async def test_connection_ok_probes_one_agent(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, AGENTS_OK))
    check = await r.provider.test_connection()
    assert check.ok
    request = r.recorder.only()
    assert request.url.path == "/sim/v1/convai/agents"
    assert dict(request.url.params) == {"page_size": "1"}


async def test_connection_with_invalid_key(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(401, {"detail": {"status": "invalid_api_key", "message": "Invalid API key"}}))
    check = await r.provider.test_connection()
    assert not check.ok
    assert "invalid API key" in check.detail
    assert check.missing_permission is None


async def test_connection_with_missing_scope(rig: RigFactory) -> None:
    body = {"detail": {"status": "missing_permissions",
                       "message": "The API key you used is missing the permission convai_read to execute this "
                                  "operation."}}
    r = await rig(lambda req: reply(401, body))
    check = await r.provider.test_connection()
    assert not check.ok
    assert check.missing_permission == "convai_read"


@pytest.mark.parametrize("failure", [httpx.ConnectTimeout, httpx.ConnectError, httpx.ReadTimeout,
                                     httpx.RemoteProtocolError])
async def test_connection_failures_all_read_the_same(rig: RigFactory, failure: type[httpx.RequestError]) -> None:
    """Nothing listening, something that is not HTTP, a timeout: one sentence (a probe learns nothing)."""
    r = await rig(_raise(failure))
    check = await r.provider.test_connection()
    assert not check.ok
    assert check.detail == "Could not connect to an ElevenLabs API at this URL; check the URL and try again."


@pytest.mark.parametrize(("answer", "says"), [
    (httpx.Response(404, text="<h1>Jenkins</h1> internal build server"), "refused the check (HTTP 404)"),
    (httpx.Response(502, text="upstream db-7.internal:5432 refused"), "server error (HTTP 502)"),
    (reply(400, {"detail": {"code": "x", "message": "secret internal banner"}}), "refused the check (HTTP 400)"),
    (httpx.Response(200, text="SSH-2.0-OpenSSH_9.2"), "not as the ElevenLabs API does"),
    (reply(200, {"status": "ok", "service": "internal-admin"}), "not as the ElevenLabs API does"),
])
async def test_connection_check_summarises_and_never_echoes(rig: RigFactory, answer: httpx.Response,
                                                             says: str) -> None:
    r = await rig(lambda req: answer)
    check = await r.provider.test_connection()
    assert not check.ok and says in check.detail
    for echoed in ("Jenkins", "db-7", "banner", "OpenSSH", "internal"):
        assert echoed not in check.detail


# --- secrets ----------------------------------------------------------------------------------


def test_settings_repr_hides_every_secret() -> None:
    settings = make_settings(twilio_account_sid="AC42", twilio_auth_token=TWILIO_TOKEN)
    for text in (repr(settings), str(settings)):
        assert API_KEY not in text
        assert WEBHOOK_SECRET not in text
        assert TWILIO_TOKEN not in text
        assert "http://el.test/sim" in text


async def test_provider_repr_hides_the_key(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(200, {}))
    assert API_KEY not in repr(r.provider)


async def test_error_details_never_echo_the_key(rig: RigFactory) -> None:
    body = {"detail": {"type": "not_found", "code": "agent_not_found", "message": f"No agent for key {API_KEY}"}}
    r = await rig(lambda req: reply(404, body))
    with pytest.raises(ProviderRejected) as caught:
        await r.provider.get_agent("agent_1")
    for text in (caught.value.detail, str(caught.value), repr(caught.value)):
        assert API_KEY not in text
    assert "[redacted]" in caught.value.detail


@pytest.mark.parametrize("status", [401, 402, 429, 500])
async def test_no_taxonomy_branch_leaks_the_key(rig: RigFactory, status: int) -> None:
    body = {"detail": {"status": "x", "message": f"echo {API_KEY}"}}
    r = await rig(lambda req: reply(status, body))
    with pytest.raises(ProviderError) as caught:
        await r.provider.start_call(CALL)
    assert API_KEY not in str(caught.value)
    assert caught.value.__cause__ is None


async def test_twilio_auth_failure_is_misconfiguration(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(401, {"code": 20003, "message": "Authenticate"}),
                  twilio_account_sid="AC42", twilio_auth_token=TWILIO_TOKEN)
    with pytest.raises(ProviderMisconfigured) as caught:
        await r.provider.cancel_call("conv_1", "CA1", PhoneKind.TWILIO)
    assert TWILIO_TOKEN not in caught.value.detail
