"""The eligibility check at chosen instants: calling hours in the lead's local time across DST
changes, numbers that span zones, regional rules, caps across leads, consent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from leadcall.calls.models import CallLog
from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.leads import schemas as lead_schemas
from leadcall.leads import service as leads
from leadcall.leads.models import Lead
from leadcall.rules.service import Verdict
from leadcall.tenancy import service as tenancy
from leadcall.voice.models import VoiceAgent
from tests.factories import TenantWorld
from tests.live import CallWorld, LiveServer

WEEKDAYS_9_TO_20 = [{"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "20:00"}]
EVERY_DAY_9_TO_20 = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "09:00", "end": "20:00"}]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


async def put_rules(client: httpx.AsyncClient, world: TenantWorld, **body: Any) -> httpx.Response:
    r = await client.put("/api/calling-rules", json={"windows": WEEKDAYS_9_TO_20, **body}, headers=world.admin.headers)
    assert r.status_code == 200, r.text
    return r


async def new_lead(app: FastAPI, world: TenantWorld, phone: str, timezone: str | None = None) -> str:
    async with transaction(app.state.container.sessionmaker) as session:
        user = await tenancy.get_user(session, Scope(world.tenant_id), world.member.user_id)
        tenant = await tenancy.get_tenant(session, Scope(world.tenant_id))
        member = tenancy.principal_for(user, tenant, "token")
        lead = await leads.create_lead(
            session,
            member,
            lead_schemas.LeadCreate(name="Ana Prueba", phone=phone, timezone=timezone),
            datetime.now(UTC),
        )
        return lead.id


async def verdict_at(app: FastAPI, lead_id: str, at: datetime) -> Verdict:
    async with transaction(app.state.container.sessionmaker) as session:
        lead = await session.get(Lead, lead_id)
        assert lead is not None
        verdict: Verdict = await app.state.rules.may_dial(session, lead, at)
        return verdict


async def dialled(
    cw: CallWorld,
    app: FastAPI,
    lead_id: str,
    phone: str,
    at: datetime,
    status: str = "completed",
    conversation_id: str | None = "conv",
) -> None:
    """A call row as placement leaves it (the attempt counter reads these)."""
    world = cw.world
    async with transaction(app.state.container.sessionmaker) as session:
        agent = (
            (await session.execute(select(VoiceAgent).where(VoiceAgent.account_id == cw.account_id))).scalars().first()
        )
        assert agent is not None
        session.add(
            CallLog(
                tenant_id=world.tenant_id,
                organization_id=world.org_id,
                lead_id=lead_id,
                user_id=world.member.user_id,
                account_id=cw.account_id,
                agent_ref_id=agent.id,
                agent_id=agent.agent_id, phone_number_id="phnum_test",
                phone_kind="twilio",
                to_number=phone,
                status=status,
                call_type="prospecting",
                transcription_status="completed",
                cost_currency="USD",
                conversation_id=f"{conversation_id}-{at.timestamp()}" if conversation_id else None,
                created_at=at,
                updated_at=at,
                deadline_at=at + timedelta(hours=1),
            )
        )


async def test_late_evening_in_madrid_waits_for_monday_across_the_dst_change(
    live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld
) -> None:
    app, client, world = live.app, live_client, cw.world
    await put_rules(client, world, regionRules=False)
    lead = await new_lead(app, world, "+34612345678", timezone="Europe/Madrid")
    # Friday 23 October 2026, 23:41 in Madrid (CEST, UTC+2); clocks go back on Sunday the 25th.
    verdict = await verdict_at(app, lead, utc("2026-10-23T21:41:00"))
    assert [r.code for r in verdict.refusals] == ["outside_calling_hours"]
    params = verdict.refusals[0].params
    assert params["timezone"] == "Europe/Madrid" and params["localTime"].startswith("2026-10-23T23:41")
    # Monday 09:00 in Madrid is 08:00 UTC after the change (it would be 07:00 before it).
    assert params["nextAllowedAt"] == "2026-10-26T08:00:00Z"
    assert verdict.next_allowed_at == utc("2026-10-26T08:00:00")
    assert (await verdict_at(app, lead, utc("2026-10-26T08:00:00"))).allowed
    assert not (await verdict_at(app, lead, utc("2026-10-26T07:59:00"))).allowed


async def test_late_evening_in_new_york_waits_for_the_morning_after_the_dst_change(
    live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld
) -> None:
    app, client, world = live.app, live_client, cw.world
    await put_rules(client, world, windows=EVERY_DAY_9_TO_20)
    # No timezone on the lead: its number says New York. Saturday 31 October 2026, 23:41 EDT.
    lead = await new_lead(app, world, "+12025550111")
    verdict = await verdict_at(app, lead, utc("2026-11-01T03:41:00"))
    assert verdict.timezone == "America/New_York" and verdict.timezone_source == "phone"
    assert verdict.refusals[0].code == "outside_calling_hours"
    # Sunday 1 November 09:00 EST (UTC-5, the clocks went back at 02:00) is 14:00 UTC.
    assert verdict.next_allowed_at == utc("2026-11-01T14:00:00")


async def test_us_federal_hours_narrow_the_tenants_windows(
    live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld
) -> None:
    app, client, world = live.app, live_client, cw.world
    all_day = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]
    await put_rules(client, world, windows=all_day, regionRules=True)
    lead = await new_lead(app, world, "+12025550111")
    # 07:30 in New York (Tuesday 1 December 2026, EST): federal rules allow 8:00 to 21:00.
    verdict = await verdict_at(app, lead, utc("2026-12-01T12:30:00"))
    assert verdict.refusals[0].code == "outside_calling_hours"
    assert verdict.refusals[0].params["regions"] == ["us_federal"]
    assert verdict.next_allowed_at == utc("2026-12-01T13:00:00")
    # Florida (area code 305): 8:00 to 20:00, and at most 3 calls in 24 hours.
    florida = await new_lead(app, world, "+13055550123")
    late = await verdict_at(app, florida, utc("2026-12-02T01:30:00"))  # 20:30 in Miami
    assert late.refusals[0].code == "outside_calling_hours"
    assert late.refusals[0].params["regions"] == ["us_federal", "us_florida"]
    assert (await verdict_at(app, lead, utc("2026-12-02T01:30:00"))).allowed  # 20:30 in DC is fine
    noon = utc("2026-12-01T17:00:00")
    for hours in (3, 2, 1):
        await dialled(cw, app, florida, "+13055550123", noon - timedelta(hours=hours))
    capped = await verdict_at(app, florida, noon)
    assert capped.refusals[0].code == "attempts_exhausted"
    assert capped.refusals[0].params == {
        "window": "24h",
        "limit": 3,
        "attempts": 3,
        "nextAllowedAt": "2026-12-02T14:00:00Z",
    }
    assert capped.next_allowed_at == utc("2026-12-02T14:00:00")


async def test_a_number_spanning_two_zones_is_called_only_when_both_are_in_hours(
    live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld
) -> None:
    app, client, world = live.app, live_client, cw.world
    await put_rules(client, world, regionRules=False)
    # A Spanish mobile number may be in Madrid or in the Canary Islands (one hour behind).
    lead = await new_lead(app, world, "+34612345678")
    at = utc("2026-12-01T08:30:00")  # 09:30 in Madrid, 08:30 in the Canaries
    verdict = await verdict_at(app, lead, at)
    assert verdict.timezones == ["Atlantic/Canary", "Europe/Madrid"]
    assert verdict.refusals[0].code == "outside_calling_hours"
    assert verdict.next_allowed_at == utc("2026-12-01T09:00:00")  # 09:00 in the Canaries, 10:00 in Madrid
    evening = await verdict_at(app, lead, utc("2026-12-01T19:30:00"))  # 20:30 Madrid, 19:30 Canaries
    assert evening.refusals[0].code == "outside_calling_hours"


async def test_attempts_are_counted_per_number_across_leads(
    live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld
) -> None:
    app, client, world = live.app, live_client, cw.world
    all_day = [{"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "00:00", "end": "24:00"}]
    await put_rules(client, world, windows=all_day, regionRules=False, maxAttemptsPer24h=2, maxAttemptsTotal=4)
    first = await new_lead(app, world, "+12025550133")
    second = await new_lead(app, world, "+12025550133")
    now = utc("2026-12-01T15:00:00")
    await dialled(cw, app, first, "+12025550133", now - timedelta(hours=30))
    # A refusal before dialling (failed, no conversation) is not an attempt.
    await dialled(cw, app, first, "+12025550133", now - timedelta(hours=5), status="failed", conversation_id=None)
    await dialled(cw, app, first, "+12025550133", now - timedelta(hours=4))
    assert (await verdict_at(app, second, now)).allowed
    # Busy and no answer are attempts (failed, but the provider dialled).
    await dialled(cw, app, second, "+12025550133", now - timedelta(hours=1), status="failed")
    verdict = await verdict_at(app, first, now)
    assert verdict.refusals[0].params["window"] == "24h"
    assert verdict.next_allowed_at == now + timedelta(hours=20)
    await dialled(cw, app, second, "+12025550133", now + timedelta(hours=21))
    total = await verdict_at(app, second, now + timedelta(hours=22))
    assert total.refusals[0].code == "attempts_exhausted" and total.refusals[0].params["window"] == "total"
    assert total.next_allowed_at is None  # waiting does not help


async def test_refusals_come_in_a_fixed_order_and_only_time_limits_have_a_next_time(
    live: LiveServer, live_client: httpx.AsyncClient, cw: CallWorld
) -> None:
    app, client, world = live.app, live_client, cw.world
    await put_rules(client, world, regionRules=False, requireConsent=True)
    lead = await new_lead(app, world, "+12025550144", timezone="America/New_York")
    night = utc("2026-12-02T04:00:00")
    verdict = await verdict_at(app, lead, night)
    assert [r.code for r in verdict.refusals] == ["no_consent", "outside_calling_hours"]
    assert verdict.next_allowed_at is None
    r = await client.post(
        f"/api/leads/{lead}/consent", json={"source": "form", "text": "Sí, llamadme"}, headers=world.member.headers
    )
    assert r.status_code == 201, r.text
    verdict = await verdict_at(app, lead, night)
    assert [r.code for r in verdict.refusals] == ["outside_calling_hours"]
    assert verdict.next_allowed_at == utc("2026-12-02T14:00:00")
    # An opt-out revokes the consent and lists the number.
    r = await client.delete(f"/api/leads/{lead}/consent", headers=world.member.headers)
    assert r.status_code == 204
    verdict = await verdict_at(app, lead, utc("2026-12-02T15:00:00"))
    assert [r.code for r in verdict.refusals] == ["number_on_dnc", "no_consent"]
    assert verdict.refusals[0].params["source"] == "opt_out"
