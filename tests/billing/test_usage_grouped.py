"""The usage report, grouped in the database, says what adding up its calls one by one says."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from fastapi import FastAPI

from leadcall.billing.usage import period_key, usage_report
from leadcall.calls.models import CallLog
from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent
from tests.factories import TenantWorld

RESULTS = [("completed", "answered", "interested"), ("completed", "answered", None), ("completed", "voicemail", None),
           ("failed", "no_answer", None), ("failed", "busy", None), ("canceled", None, None), ("ringing", None, None)]


async def _calls(app: FastAPI, world: TenantWorld, start: datetime) -> list[CallLog]:
    rng = random.Random(19)
    now = datetime.now(UTC)
    async with transaction(app.state.container.sessionmaker) as session:
        # A real encrypted key: the suite's database is shared, and what reads accounts (the worker's checks of
        # live calls, `leadcall secrets rotate`) decrypts every one.
        key = app.state.container.secret_box.encrypt("sk_usage_report_0000")
        account = ElevenLabsAccount(tenant_id=world.tenant_id, name="Usage", api_key_encrypted=key,
                                    api_key_last4="0000", is_active=False, created_at=now, updated_at=now)
        session.add(account)
        await session.flush()
        agents = [VoiceAgent(tenant_id=world.tenant_id, account_id=account.id, agent_id=f"agent_usage_{i}",
                             created_at=now, updated_at=now) for i in range(2)]
        session.add_all(agents)
        await session.flush()
        calls = []
        for i in range(120):
            status, phone_result, sales_result = rng.choice(RESULTS)
            org, user = rng.choice([(world.org_id, world.member.user_id), (world.org_id, world.manager.user_id),
                                    (world.other_org_id, world.other_org_member.user_id), (world.org_id, None)])
            duration = rng.randint(5, 400) if phone_result in ("answered", "voicemail") else None
            created = start + timedelta(days=rng.randint(0, 70), hours=rng.randint(0, 23), minutes=rng.randint(0, 59))
            if i == 0:  # the last instant of a UTC day stays on that day
                created = start.replace(hour=23, minute=59, second=59, microsecond=999000)
            agent = rng.choice(agents)
            calls.append(CallLog(
                tenant_id=world.tenant_id, organization_id=org, lead_id=world.lead_ids[i % len(world.lead_ids)],
                user_id=user, account_id=account.id, agent_ref_id=agent.id, agent_id=agent.agent_id,
                agent_name=f"Agent {agent.agent_id[-1]}", phone_number_id="phnum", phone_kind="twilio",
                to_number="+12025550100", status=status, phone_result=phone_result, sales_result=sales_result,
                created_at=created, updated_at=created, duration_seconds=duration,
                cost=round(rng.random() * 3, 4) if status != "ringing" else None))
        session.add_all(calls)
    return calls


Lines = dict[str, dict[str, tuple[int, int, float, float]]]


def _by_hand(calls: list[CallLog], period: str, organization_id: str | None) -> Lines:
    """Call by call, as the report was computed before it was grouped in the database."""
    groups: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0.0, 0.0]))
    for c in calls:
        if organization_id and c.organization_id != organization_id:
            continue
        keys = {"period": period_key(c.created_at, period), "organization": c.organization_id,
                "agent": c.agent_ref_id, "user": c.user_id or "-",
                "outcome": c.sales_result or c.phone_result or c.status, "total": "total"}
        for group, key in keys.items():
            line = groups[group][key]
            line[0] += 1
            line[1] += 1 if c.phone_result == "answered" else 0
            line[2] += (c.duration_seconds or 0) / 60
            line[3] += c.cost or 0
    return {g: {k: (int(v[0]), int(v[1]), round(v[2], 2), round(v[3], 4)) for k, v in lines.items()}
            for g, lines in groups.items()}


async def test_grouped_report_equals_the_sum_of_its_calls(app: FastAPI, world: TenantWorld) -> None:
    start = datetime(2026, 3, 2, tzinfo=UTC)
    calls = await _calls(app, world, start)
    for period in ("day", "week", "month"):
        for organization_id in (None, world.org_id):
            async with transaction(app.state.container.sessionmaker) as session:
                report = await usage_report(session, Scope(world.tenant_id, organization_id), period=period,
                                            start=date(2026, 3, 1), end=date(2026, 6, 30), currency="USD")
            expected = _by_hand(calls, period, organization_id)
            got = {"period": report.by_period, "organization": report.by_organization, "agent": report.by_agent,
                   "user": report.by_user, "outcome": report.by_outcome, "total": [report.total]}
            for group, lines in got.items():
                assert {line.key: (line.calls, line.answered, line.minutes, line.cost) for line in lines} == \
                    expected[group], (period, organization_id, group)
    assert [line.key for line in report.by_period][:1] == ["2026-03"]


async def test_a_late_cost_shows_in_the_report(app: FastAPI, world: TenantWorld) -> None:
    calls = await _calls(app, world, datetime(2026, 8, 3, tzinfo=UTC))
    call = calls[5]
    async with transaction(app.state.container.sessionmaker) as session:
        before = await usage_report(session, Scope(world.tenant_id), period="month", start=date(2026, 8, 1),
                                    end=date(2026, 10, 31), currency="USD")
        row = await session.get(CallLog, call.id)
        assert row is not None
        row.cost = (row.cost or 0) + 10
    async with transaction(app.state.container.sessionmaker) as session:
        after = await usage_report(session, Scope(world.tenant_id), period="month", start=date(2026, 8, 1),
                                   end=date(2026, 10, 31), currency="USD")
    assert round(after.total.cost - before.total.cost, 4) == 10
    assert after.total.calls == before.total.calls
