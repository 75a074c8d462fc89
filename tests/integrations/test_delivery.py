"""Outgoing webhooks end to end: signed as Standard Webhooks, written with the change they report, sent once
per endpoint after a worker dies, retried on the documented schedule, disabled after a day of failures."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.integrations.delivery import LEASE_SECONDS, RETRY_DELAYS
from leadcall.integrations.repository import DeliveryRepository
from leadcall.kit.clock import ManualClock
from leadcall.leads import schemas as lead_schemas
from leadcall.leads import service as leads
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.principal import Principal
from leadcall.tenancy.repository import unscoped_get_tenant
from tests.factories import TenantWorld
from tests.integrations.receiver import Receiver
from tests.integrations.support import add_endpoint, deliveries_at, deliveries_of
from tests.live import LiveServer


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def test_a_test_send_verifies_with_the_secret_and_a_rotation_signs_with_both_for_a_day(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_world: TenantWorld,
        receiver: Receiver) -> None:
    admin = hooks_world.admin
    endpoint = await add_endpoint(hooks_client, admin, f"{receiver.url}/ok", description="CRM")
    secret = endpoint["secret"]
    assert secret.startswith("whsec_") and endpoint["secretHint"] == "…" + secret[-4:]
    listed = (await hooks_client.get("/api/webhook-endpoints", headers=admin.headers)).json()
    assert secret not in str(listed)  # shown once, never again

    clock = ManualClock(start=time.time())  # the verifier checks the timestamp against the real time
    scope = Scope(hooks_world.tenant_id)
    async with deliveries_at(hooks_live.app, clock) as sender:
        sent = await sender.test(scope, endpoint["id"])
        (first,) = receiver.received
        assert first.headers["webhook-signature"].startswith("v1,") and " " not in first.headers["webhook-signature"]
        body = Webhook(secret).verify(first.body, first.headers)
        assert body["type"] == "webhook.test" and body["data"]["endpointId"] == endpoint["id"]
        assert first.headers["webhook-id"] == (await deliveries_of(hooks_client, admin, endpoint["id"]))[0]["eventId"]
        assert sent.state == "succeeded"
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(first.body.replace(b"test", b"tost"), first.headers)

        rotated = await hooks_client.post(f"/api/webhook-endpoints/{endpoint['id']}/rotate-secret",
                                          headers=admin.headers)
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        assert new_secret != secret and rotated.json()["previousSecretUntil"]
        await sender.test(scope, endpoint["id"])
        second = receiver.received[-1]
        assert len(second.headers["webhook-signature"].split(" ")) == 2
        Webhook(secret).verify(second.body, second.headers)  # a consumer still on the old secret
        Webhook(new_secret).verify(second.body, second.headers)

        clock.advance(24 * 3600 + 1)  # the overlap is over: the new secret alone signs
        await sender.test(scope, endpoint["id"])
        third = receiver.received[-1]
        stamp = datetime.fromtimestamp(int(third.headers["webhook-timestamp"]), UTC)
        body_text = third.body.decode()
        assert third.headers["webhook-signature"] == Webhook(new_secret).sign(third.headers["webhook-id"], stamp,
                                                                             body_text)
        assert Webhook(secret).sign(third.headers["webhook-id"], stamp, body_text) not in third.headers[
            "webhook-signature"]


async def _member(app: FastAPI, world: TenantWorld) -> Principal:
    async with transaction(app.state.container.sessionmaker) as session:
        tenant = await unscoped_get_tenant(session, world.tenant_id)
        assert tenant is not None
        user = await tenancy.get_user(session, Scope(world.tenant_id), world.member.user_id)
        return tenancy.principal_for(user, tenant, "token")


async def test_a_rolled_back_change_sends_nothing_and_a_committed_one_is_sent(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_world: TenantWorld,
        receiver: Receiver) -> None:
    admin = hooks_world.admin
    endpoint = await add_endpoint(hooks_client, admin, f"{receiver.url}/ok", eventTypes=["lead.updated"])
    principal = await _member(hooks_live.app, hooks_world)
    lead_id = hooks_world.lead_ids[0]
    now = datetime.now(UTC)
    with pytest.raises(RuntimeError):
        async with transaction(hooks_live.app.state.container.sessionmaker) as session:
            await leads.update_lead(session, principal, lead_id, lead_schemas.LeadUpdate(name="Never Saved"), now)
            raise RuntimeError("the request failed after the change")
    clock = ManualClock(start=hooks_live.clock.now())
    async with deliveries_at(hooks_live.app, clock) as sender:
        await sender.enqueue_due()
        assert receiver.received == []
        assert await deliveries_of(hooks_client, admin, endpoint["id"]) == []
        r = await hooks_client.patch(f"/api/leads/{lead_id}", json={"name": "Saved"}, headers=hooks_world.member.headers)
        assert r.status_code == 200, r.text
        await sender.enqueue_due()
    (got,) = receiver.received
    payload = Webhook(endpoint["secret"]).verify(got.body, got.headers)
    assert payload["type"] == "lead.updated" and payload["data"]["id"] == lead_id
    assert payload["data"]["name"] == "Saved" and payload["sequence"] >= 1 and payload["timestamp"].endswith("Z")


async def test_deliveries_pending_when_a_worker_dies_are_sent_after_restart_once_per_endpoint(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_world: TenantWorld,
        receiver: Receiver) -> None:
    admin = hooks_world.admin
    first = await add_endpoint(hooks_client, admin, f"{receiver.url}/ok/a")
    second = await add_endpoint(hooks_client, admin, f"{receiver.url}/ok/b")
    r = await hooks_client.patch(f"/api/leads/{hooks_world.lead_ids[1]}", json={"company": "Gadgets"},
                                 headers=hooks_world.member.headers)
    assert r.status_code == 200, r.text
    clock = ManualClock(start=hooks_live.clock.now())
    # A worker claims the first endpoint's delivery and is killed before it sends anything.
    async with transaction(hooks_live.app.state.container.sessionmaker) as session:
        claimed = await DeliveryRepository.unscoped_claim(session, first["id"], "dead-worker",
                                                          datetime.fromtimestamp(clock.now(), UTC),
                                                          lease_seconds=LEASE_SECONDS, limit=10)
    assert len(claimed) == 1
    # A new worker process starts: the other endpoint's delivery goes at once; the claimed one once its lease lapses.
    async with deliveries_at(hooks_live.app, clock) as restarted:
        await restarted.enqueue_due()
        assert [r.path for r in receiver.received] == ["/ok/b"]
        clock.advance(LEASE_SECONDS + 1)
        await restarted.enqueue_due()
        await restarted.enqueue_due()
    assert sorted(r.path for r in receiver.received) == ["/ok/a", "/ok/b"]
    assert receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
    for endpoint in (first, second):
        (delivery,) = await deliveries_of(hooks_client, admin, endpoint["id"])
        assert delivery["state"] == "succeeded" and delivery["attemptCount"] == 1


async def test_failures_follow_the_backoff_schedule_then_disable_the_endpoint_and_tell_the_admins(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_world: TenantWorld,
        receiver: Receiver) -> None:
    admin = hooks_world.admin
    endpoint = await add_endpoint(hooks_client, admin, f"{receiver.url}/flaky", eventTypes=["lead.updated"])
    r = await hooks_client.patch(f"/api/leads/{hooks_world.lead_ids[0]}", json={"notes": "try me"},
                                 headers=hooks_world.member.headers)
    assert r.status_code == 200, r.text
    clock = ManualClock(start=hooks_live.clock.now())
    events = hooks_live.app.state.events
    disabled: asyncio.Future[dict[str, object]] = asyncio.get_running_loop().create_future()

    async def listen() -> None:
        async for event in events.subscribe(hooks_world.tenant_id, None, idle_seconds=5):
            if event is not None and event.name == "webhook.disabled":
                disabled.set_result(event.data)
                return

    listener = asyncio.get_running_loop().create_task(listen())
    await asyncio.sleep(0)
    async with deliveries_at(hooks_live.app, clock) as sender:
        for _ in range(len(RETRY_DELAYS) + 1):
            await sender.enqueue_due()
            (delivery,) = await deliveries_of(hooks_client, admin, endpoint["id"])
            if delivery["nextAttemptAt"] is None:
                break
            due = _at(delivery["nextAttemptAt"]).timestamp()
            clock.set(due - 1)
            await sender.enqueue_due()  # not yet due: nothing is sent
            clock.set(due)
    (delivery,) = await deliveries_of(hooks_client, admin, endpoint["id"])
    attempts = sorted(delivery["attempts"], key=lambda a: a["attempt"])
    gaps = [(_at(b["at"]) - _at(a["at"])).total_seconds() for a, b in zip(attempts, attempts[1:], strict=False)]
    assert gaps == list(RETRY_DELAYS)
    assert sum(gaps) >= 24 * 3600
    assert len(receiver.at("/flaky")) == len(RETRY_DELAYS) + 1
    assert delivery["state"] == "failed" and delivery["attemptCount"] == 8
    assert {(a["statusCode"], a["errorCode"], a["error"]) for a in attempts} == {
        (503, "http_status", "the endpoint answered 503")}
    assert "internal details" not in str(delivery)

    shown = (await hooks_client.get(f"/api/webhook-endpoints/{endpoint['id']}", headers=admin.headers)).json()
    assert shown["enabled"] is False and shown["disabledAt"] and "failed for 27 h" in shown["disabledReason"]
    told = await asyncio.wait_for(disabled, 10)
    listener.cancel()
    assert told["endpointId"] == endpoint["id"]

    # Disabled: new changes are not queued for it, and retrying waits for an admin to switch it on again.
    await hooks_client.patch(f"/api/leads/{hooks_world.lead_ids[0]}", json={"notes": "again"},
                             headers=hooks_world.member.headers)
    assert len(await deliveries_of(hooks_client, admin, endpoint["id"])) == 1
    retry_path = f"/api/webhook-endpoints/{endpoint['id']}/deliveries/{delivery['id']}/retry"
    refused = await hooks_client.post(retry_path, headers=admin.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "webhook_endpoint_disabled"
    receiver.flaky_ok = True
    on = await hooks_client.patch(f"/api/webhook-endpoints/{endpoint['id']}", json={"enabled": True},
                                  headers=admin.headers)
    assert on.json()["enabled"] is True and on.json()["disabledAt"] is None and on.json()["consecutiveFailures"] == 0
    retried = await hooks_client.post(retry_path, headers=admin.headers)
    assert retried.status_code == 200, retried.text
    assert retried.json()["state"] == "succeeded" and retried.json()["attempts"][0]["manual"] is True
    assert retried.json()["attemptCount"] == 9


async def test_a_redirect_is_not_followed_and_fails_with_its_reason(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_world: TenantWorld,
        receiver: Receiver) -> None:
    endpoint = await add_endpoint(hooks_client, hooks_world.admin, f"{receiver.url}/redirect")
    r = await hooks_client.post(f"/api/webhook-endpoints/{endpoint['id']}/test", headers=hooks_world.admin.headers)
    assert r.status_code == 200, r.text
    sent = r.json()
    assert sent["state"] == "failed" and sent["test"] is True and sent["nextAttemptAt"] is None
    assert sent["lastStatusCode"] == 302 and sent["attempts"][0]["errorCode"] == "redirect"
    assert "redirects are not followed" in sent["lastError"]
    assert [x.path for x in receiver.received] == ["/redirect"]  # never /ok, where it pointed
    shown = (await hooks_client.get(f"/api/webhook-endpoints/{endpoint['id']}", headers=hooks_world.admin.headers))
    assert shown.json()["consecutiveFailures"] == 0  # a test send does not count towards disabling


async def test_a_target_no_longer_allowed_is_not_contacted(hooks_live: LiveServer, hooks_client: httpx.AsyncClient,
                                                           hooks_world: TenantWorld, receiver: Receiver) -> None:
    endpoint = await add_endpoint(hooks_client, hooks_world.admin, f"{receiver.url}/ok")
    # The operator turns private targets off: the loopback URL saved before is refused before any connection.
    async with deliveries_at(hooks_live.app, ManualClock(start=time.time()), allow_private=False) as strict:
        sent = await strict.test(Scope(hooks_world.tenant_id), endpoint["id"])
    assert sent.state == "failed" and receiver.received == []
    (delivery,) = await deliveries_of(hooks_client, hooks_world.admin, endpoint["id"])
    assert delivery["attempts"][0]["errorCode"] == "target_refused"
    assert delivery["lastStatusCode"] is None


def test_the_schedule_retries_for_more_than_a_day() -> None:
    assert sum(RETRY_DELAYS) >= 24 * 3600
    assert list(RETRY_DELAYS) == sorted(RETRY_DELAYS)
    assert timedelta(seconds=sum(RETRY_DELAYS)) == timedelta(hours=27, minutes=35, seconds=5)


async def test_the_log_keeps_a_month_of_ended_deliveries_and_an_erasure_takes_the_leads_events(
        hooks_live: LiveServer, hooks_client: httpx.AsyncClient, hooks_world: TenantWorld,
        receiver: Receiver) -> None:
    admin, member = hooks_world.admin, hooks_world.member.headers
    ok = await add_endpoint(hooks_client, admin, f"{receiver.url}/ok", eventTypes=["lead.updated"])
    lead_id = hooks_world.lead_ids[0]
    clock = ManualClock(start=hooks_live.clock.now())
    async with deliveries_at(hooks_live.app, clock) as sender:
        assert (await hooks_client.patch(f"/api/leads/{lead_id}", json={"notes": "one"}, headers=member)).is_success
        await sender.enqueue_due()
        failing = await add_endpoint(hooks_client, admin, f"{receiver.url}/fail", eventTypes=["lead.updated"])
        assert (await hooks_client.patch(f"/api/leads/{lead_id}", json={"notes": "two"}, headers=member)).is_success
        await sender.enqueue_due()
        assert [d["state"] for d in await deliveries_of(hooks_client, admin, failing["id"])] == ["pending"]
        clock.advance(31 * 24 * 3600)
        assert await sender.prune() >= 1
    # The first event had ended everywhere and went; the second still waits on the failing endpoint and stays.
    kept = await deliveries_of(hooks_client, admin, ok["id"])
    assert [d["sequence"] for d in kept] == [2]
    assert len(await deliveries_of(hooks_client, admin, failing["id"])) == 1

    # An erased lead's events go with its data, sent or not.
    other = hooks_world.lead_ids[1]
    assert (await hooks_client.patch(f"/api/leads/{other}", json={"notes": "soon erased"}, headers=member)).is_success
    before = len(receiver.received)
    erased = await hooks_client.post(f"/api/leads/{other}/erase", headers=admin.headers)
    assert erased.status_code == 200, erased.text
    async with deliveries_at(hooks_live.app, ManualClock(start=hooks_live.clock.now())) as sender:
        await sender.enqueue_due()
    assert len(receiver.received) == before
    assert other not in str(await deliveries_of(hooks_client, admin, ok["id"]))
