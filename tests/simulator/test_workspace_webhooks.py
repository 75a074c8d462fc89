"""The workspace's webhook settings as the simulator serves them: `GET /v1/convai/settings` names the
post-call webhook, `GET /v1/workspace/webhooks` says where it points, whether it is disabled and its last
failed delivery; post-call events go only where those say, and only the events the workspace sends."""

from __future__ import annotations

from typing import Any

from tests.simulator.harness import HOOK_URL, Sim
from tests.simulator.openapi_check import assert_response_conforms


async def settings_and_hooks(sim: Sim) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    settings = await sim.client.get("/v1/convai/settings")
    assert settings.status_code == 200, settings.text
    assert_response_conforms(settings.json(), "get", "/v1/convai/settings")
    hooks = await sim.client.get("/v1/workspace/webhooks", params={"include_usages": "true"})
    assert hooks.status_code == 200, hooks.text
    assert_response_conforms(hooks.json(), "get", "/v1/workspace/webhooks")
    return settings.json(), hooks.json()["webhooks"]


async def test_the_post_call_webhook_is_named_listed_and_used(sim: Sim) -> None:
    settings, hooks = await settings_and_hooks(sim)
    [hook] = hooks
    assert settings["webhooks"]["post_call_webhook_id"] == hook["webhook_id"]
    assert settings["webhooks"]["events"] == ["transcript", "audio", "call_initiation_failure"]
    assert (hook["webhook_url"], hook["is_disabled"], hook["is_auto_disabled"]) == (HOOK_URL, False, False)
    assert hook["usage"] == [{"usage_type": "ConvAI Settings"}]
    assert hook["most_recent_failure_error_code"] is None

    sim.account.post_call_events = ["transcript"]
    await sim.place("+12025550100")
    await sim.state.advance(60)
    assert sim.receiver.types() == ["post_call_transcription"]


async def test_a_disabled_or_replaced_webhook_gets_nothing(sim: Sim) -> None:
    sim.account.post_call_webhook.auto_disabled = True  # type: ignore[union-attr]
    await sim.place("+12025550100")
    await sim.state.advance(60)
    assert sim.receiver.types() == []
    _, [hook] = await settings_and_hooks(sim)
    assert hook["is_auto_disabled"] is True

    other = sim.account.add_webhook("Their CRM", "http://crm.example/hook")
    sim.account.post_call_webhook_id = other.webhook_id
    settings, hooks = await settings_and_hooks(sim)
    assert settings["webhooks"]["post_call_webhook_id"] == other.webhook_id and len(hooks) == 2


async def test_a_failed_delivery_is_the_webhooks_most_recent_failure(sim: Sim) -> None:
    sim.receiver.status_code = 503
    await sim.place("+12025550100")
    await sim.state.advance(60)
    _, [hook] = await settings_and_hooks(sim)
    assert hook["most_recent_failure_error_code"] == 503
    assert hook["most_recent_failure_timestamp"] == int(sim.clock.now())


async def test_a_key_without_workspace_permission_is_told_so(sim: Sim) -> None:
    sim.account.workspace_hidden = True
    for path in ("/v1/convai/settings", "/v1/workspace/webhooks"):
        r = await sim.client.get(path)
        assert r.status_code == 401 and r.json()["detail"]["status"] == "missing_permissions"
