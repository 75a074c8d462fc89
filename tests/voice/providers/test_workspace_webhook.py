"""Reading the workspace's post-call webhook: `GET /v1/convai/settings` names it, `GET /v1/workspace/webhooks`
says where it points and whether it is disabled. The example bodies are the official document's own."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadcall.voice.errors import ProviderMisconfigured
from leadcall.voice.types import PostCallWebhook, WorkspaceWebhook
from tests.simulator.openapi_check import assert_conforms
from tests.voice.providers.conftest import RigFactory
from tests.voice.providers.wire import reply

HOOK = {"auth_type": "hmac", "created_at_unix": 123456789, "is_auto_disabled": True, "is_disabled": False,
        "most_recent_failure_error_code": 404, "most_recent_failure_timestamp": 123456799, "name": "My Webhook",
        "usage": [{"usage_type": "ConvAI Settings"}], "webhook_id": "123",
        "webhook_url": "https://elevenlabs.io/example-callback-url"}


def answers(settings: dict[str, Any], hooks: list[dict[str, Any]]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/v1/convai/settings"):
            return reply(200, settings)
        assert request.url.path.endswith("/v1/workspace/webhooks")
        return reply(200, {"webhooks": hooks})
    return handler


async def test_the_named_webhook_is_read_with_its_state_and_last_failure(rig: RigFactory) -> None:
    settings = {"webhooks": {"post_call_webhook_id": "123", "events": ["transcript", "call_initiation_failure"]}}
    assert_conforms(settings, "GetConvAISettingsResponseModel")
    assert_conforms({"webhooks": [HOOK]}, "WorkspaceWebhookListResponseModel")
    other = {**HOOK, "webhook_id": "456", "webhook_url": "https://other.example/x", "is_auto_disabled": False}
    r = await rig(answers(settings, [other, HOOK]))
    found = await r.provider.get_post_call_webhook()
    assert found == PostCallWebhook(webhook_id="123", events=("transcript", "call_initiation_failure"),
                                    webhook=WorkspaceWebhook(
                                        webhook_id="123", name="My Webhook",
                                        url="https://elevenlabs.io/example-callback-url", disabled=False,
                                        auto_disabled=True, last_failure_code=404, last_failure_unix=123456799))
    assert [q.method for q in r.recorder.requests] == ["GET", "GET"]
    assert [q.url.path for q in r.recorder.requests] == ["/sim/v1/convai/settings", "/sim/v1/workspace/webhooks"]


async def test_no_post_call_webhook_needs_no_second_request(rig: RigFactory) -> None:
    r = await rig(answers({"webhooks": {"post_call_webhook_id": None, "events": []}}, []))
    assert await r.provider.get_post_call_webhook() == PostCallWebhook(webhook_id=None, webhook=None, events=())
    assert len(r.recorder.requests) == 1


async def test_an_id_the_list_does_not_hold_reads_as_no_webhook(rig: RigFactory) -> None:
    r = await rig(answers({"webhooks": {"post_call_webhook_id": "gone"}}, [HOOK]))
    found = await r.provider.get_post_call_webhook()
    assert (found.webhook_id, found.webhook) == ("gone", None)


async def test_a_key_without_the_permission_is_misconfigured(rig: RigFactory) -> None:
    r = await rig(lambda req: reply(401, {"detail": {
        "status": "missing_permissions",
        "message": "The API key you used is missing the permission workspace_read to execute this operation."}}))
    with pytest.raises(ProviderMisconfigured) as caught:
        await r.provider.get_post_call_webhook()
    assert caught.value.code == "missing_permissions"
