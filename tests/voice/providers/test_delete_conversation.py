"""Deleting a conversation at ElevenLabs: the request the official OpenAPI describes, sent once."""

from __future__ import annotations

import httpx
import pytest

from leadcall.voice.errors import ProviderMisconfigured, ProviderRetriable
from tests.simulator.openapi_check import spec
from tests.voice.providers.conftest import RigFactory
from tests.voice.providers.wire import API_KEY, reply

PATH = "/v1/convai/conversations/{conversation_id}"


async def test_delete_sends_one_delete_with_the_key(rig: RigFactory) -> None:
    r = await rig(lambda request: reply(200, {}))
    assert await r.provider.delete_conversation("conv/1 x") is True
    request = r.recorder.only()
    assert request.method == "DELETE"
    assert request.url.raw_path == b"/sim/v1/convai/conversations/conv%2F1%20x"
    assert request.headers["xi-api-key"] == API_KEY
    assert request.content == b""
    operation = spec()["paths"][PATH]["delete"]
    assert [p["name"] for p in operation["parameters"] if p["in"] == "path"] == ["conversation_id"]
    assert "200" in operation["responses"]


async def test_an_unknown_conversation_is_already_gone(rig: RigFactory) -> None:
    r = await rig(lambda request: reply(404, {"detail": {"status": "conversation_not_found", "message": "nope"}}))
    assert await r.provider.delete_conversation("conv_gone") is False


@pytest.mark.parametrize(("status", "error"), [(500, ProviderRetriable), (503, ProviderRetriable),
                                               (401, ProviderMisconfigured)])
async def test_failures_are_raised_and_never_retried(rig: RigFactory, status: int,
                                                     error: type[Exception]) -> None:
    r = await rig(lambda request: reply(status, {"detail": {"status": "boom", "message": "no"}}))
    with pytest.raises(error) as raised:
        await r.provider.delete_conversation("conv_1")
    assert len(r.recorder.requests) == 1 and r.sleeps == []
    assert API_KEY not in str(raised.value)


async def test_a_network_failure_is_retriable(rig: RigFactory) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    r = await rig(fail)
    with pytest.raises(ProviderRetriable):
        await r.provider.delete_conversation("conv_1")
    assert len(r.recorder.requests) == 1  # not retried
