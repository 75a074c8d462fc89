"""The daily usage rollups say what the same GROUP BY over the raw calls says, whatever happens to the calls."""

from __future__ import annotations

import asyncio
import importlib.util
import random
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select, text

from leadcall import migrations
from leadcall.billing.usage import usage_report
from leadcall.calls import rollups
from leadcall.calls.models import CallLog, CallStatus, UsageRollup
from leadcall.calls.service import CallService
from leadcall.core.db import transaction
from leadcall.core.scoping import Scope
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent
from leadcall.voice.types import CallPlacement, Conversation, ConversationStatus
from tests.factories import TenantWorld, make_world

START = datetime(2026, 5, 4, tzinfo=UTC)
RESULTS = [("completed", "answered", "interested"), ("completed", "answered", None), ("completed", "voicemail", None),
           ("failed", "no_answer", None), ("failed", "busy", None), ("canceled", None, None), ("ringing", None, None),
           ("in_progress", "answered", None), ("initiating", None, None)]


async def _agents(app: FastAPI, world: TenantWorld) -> tuple[str, list[VoiceAgent]]:
    now = datetime.now(UTC)
    async with transaction(app.state.container.sessionmaker) as session:
        key = app.state.container.secret_box.encrypt("sk_rollups_0000")
        account = ElevenLabsAccount(tenant_id=world.tenant_id, name=f"Rollups {uuid.uuid4().hex[:6]}",
                                    api_key_encrypted=key, api_key_last4="0000", is_active=False,
                                    usd_to_currency_rate=0.9, created_at=now, updated_at=now)
        session.add(account)
        await session.flush()
        agents = [VoiceAgent(tenant_id=world.tenant_id, account_id=account.id, agent_id=f"agent_rollups_{i}",
                             created_at=now, updated_at=now) for i in range(2)]
        session.add_all(agents)
    return account.id, agents


def _new_call(rng: random.Random, world: TenantWorld, account_id: str, agents: list[VoiceAgent]) -> CallLog:
    status, phone_result, sales_result = rng.choice(RESULTS)
    org, user = rng.choice([(world.org_id, world.member.user_id), (world.org_id, world.manager.user_id),
                            (world.other_org_id, world.other_org_member.user_id), (world.org_id, None)])
    # three UTC days, with calls on their first and last instants
    created = START + timedelta(days=rng.randint(0, 2)) + rng.choice(
        [timedelta(0), timedelta(hours=23, minutes=59, seconds=59, microseconds=999000),
         timedelta(minutes=rng.randint(0, 24 * 60 - 1))])
    agent = rng.choice(agents)
    lead_ids = world.lead_ids if org == world.org_id else world.lead_ids[:1]
    return CallLog(tenant_id=world.tenant_id, organization_id=org, lead_id=rng.choice(lead_ids), user_id=user,
                   account_id=account_id, agent_ref_id=agent.id, agent_id=agent.agent_id,
                   agent_name=rng.choice([f"Agent {agent.agent_id[-1]}", None]), phone_number_id="phnum",
                   phone_kind="twilio", to_number="+12025550100", status=status, phone_result=phone_result,
                   sales_result=sales_result, created_at=created, updated_at=created,
                   conversation_id=f"conv_{uuid.uuid4().hex}",
                   duration_seconds=rng.randint(5, 400) if phone_result in ("answered", "voicemail") else None,
                   cost=round(rng.random() * 3, 4) if status not in ("ringing", "initiating") else None)


async def _assert_exact(app: FastAPI, tenant_id: str, step: str) -> None:
    async with transaction(app.state.container.sessionmaker) as session:
        assert await rollups.differences(session, tenant_id) == [], step


async def test_random_changes_keep_the_rollups_equal_to_the_raw_group_by(
        app: FastAPI, client: httpx.AsyncClient) -> None:
    world = await make_world(app, leads_count=6)
    account_id, agents = await _agents(app, world)
    calls: CallService = app.state.call_service
    sm = app.state.container.sessionmaker
    rng = random.Random(19)
    ids: list[str] = []
    archived: set[str] = set()
    kinds = ["create", "create", "move", "late_cost", "conversation", "failure", "correct", "ringing",
             "fields", "expired", "savepoint", "rollback", "archive", "erase"]
    for step in range(90):
        kind = "create" if len(ids) < 8 else rng.choice(kinds)
        label = f"step {step}: {kind}"
        if kind == "create":
            async with transaction(sm) as session:
                new = [_new_call(rng, world, account_id, agents) for _ in range(rng.randint(1, 3))]
                session.add_all(new)
                await session.flush()
                ids.extend(c.id for c in new)
                if rng.random() < 0.3:  # created and changed again before the commit
                    new[0].cost = round((new[0].cost or 0) + 1.5, 4)
            await _assert_exact(app, world.tenant_id, label)
            continue
        call_id = rng.choice(ids)
        if kind == "move":
            async with transaction(sm) as session:
                call = await session.get(CallLog, call_id)
                assert call is not None
                calls._move(session, call, rng.choice(list(CallStatus)), source="poll")
        elif kind in ("late_cost", "conversation"):  # a webhook's or the reconciler's conversation
            async with transaction(sm) as session:
                call = await session.get(CallLog, call_id)
                assert call is not None
                conv = Conversation(conversation_id=call.conversation_id or "", agent_id=call.agent_id,
                                    status=rng.choice([ConversationStatus.DONE, ConversationStatus.IN_PROGRESS,
                                                       ConversationStatus.FAILED]),
                                    duration_secs=rng.randint(1, 500), cost_usd=round(rng.random() * 2, 6),
                                    cost_credits=rng.randint(1, 5000))
                await calls.apply_conversation(session, call, conv, source="webhook" if kind == "late_cost" else
                                               "reconcile")
        elif kind == "failure":
            async with transaction(sm) as session:
                call = await session.get(CallLog, call_id)
                assert call is not None
                await calls.apply_failure(session, call, rng.choice(["busy", "no-answer"]), source="webhook")
        elif kind == "correct":  # a seller's correction, through the API
            outcome = rng.choice(["interested", "not_interested", "voicemail", "no_answer", "answered"])
            r = await client.patch(f"/api/calls/{call_id}", json={"outcome": outcome}, headers=world.manager.headers)
            assert r.status_code in (200, 404, 409), r.text  # 404: another organization's; 409: still live
        elif kind == "ringing":  # a reservation, then the placement's conditional UPDATE (no ORM flush)
            async with transaction(sm) as session:
                reserved = _new_call(rng, world, account_id, agents)
                reserved.status, reserved.phone_result, reserved.sales_result = "initiating", None, None
                session.add(reserved)
            ids.append(reserved.id)
            async with transaction(sm) as session:
                await calls._record_ringing(session, reserved, CallPlacement(f"conv_{uuid.uuid4().hex}", "CA1",
                                                                             None, "ok"), calls.now())
        elif kind == "fields":  # any other ORM write of the fields the report sums
            async with transaction(sm) as session:
                call = await session.get(CallLog, call_id)
                assert call is not None
                call.duration_seconds = rng.choice([None, rng.randint(0, 900)])
                call.cost = rng.choice([None, 0.0, round(rng.random() * 5, 4)])
                call.phone_result = rng.choice([None, "answered", "busy"])
                call.user_id = rng.choice([None, world.member.user_id])
        elif kind == "expired":  # written without its old values loaded
            async with transaction(sm) as session:
                call = await session.get(CallLog, call_id)
                assert call is not None
                session.expire(call)
                call.cost = round(rng.random() * 7, 4)
                call.status = CallStatus.completed.value
        elif kind == "savepoint":
            async with transaction(sm) as session:
                call = await session.get(CallLog, call_id)
                assert call is not None
                keep = rng.random() < 0.5
                nested = await session.begin_nested()
                call.cost = round((call.cost or 0) + 2.25, 4)
                await session.flush()
                await (nested.commit() if keep else nested.rollback())
                if rng.random() < 0.5:
                    other = await session.get(CallLog, rng.choice(ids))
                    assert other is not None
                    other.duration_seconds = (other.duration_seconds or 0) + 60
        elif kind == "rollback":
            with pytest.raises(RuntimeError):
                async with transaction(sm) as session:
                    call = await session.get(CallLog, call_id)
                    assert call is not None
                    call.cost = 99.0
                    call.status = CallStatus.failed.value
                    await session.flush()
                    raise RuntimeError("the unit of work fails")
        elif kind in ("archive", "erase"):  # a lead leaves; its calls' spend stays
            lead_id = rng.choice([lead for lead in world.lead_ids if lead not in archived])
            async with transaction(sm) as session:
                before = await usage_report(session, Scope(world.tenant_id), period="day", start=START.date(),
                                            end=START.date() + timedelta(days=2), currency="USD")
            if kind == "archive":
                r = await client.delete(f"/api/leads/{lead_id}", headers=world.manager.headers)
            else:
                r = await client.post(f"/api/leads/{lead_id}/erase", headers=world.admin.headers)
            assert r.status_code in (200, 204, 409), r.text  # 409: the lead is on a live call
            if r.status_code != 409:
                archived.add(lead_id)
            async with transaction(sm) as session:
                after = await usage_report(session, Scope(world.tenant_id), period="day", start=START.date(),
                                           end=START.date() + timedelta(days=2), currency="USD")
            assert after == before, label
            if len(archived) == len(world.lead_ids) - 1:
                kinds = [k for k in kinds if k not in ("archive", "erase")]
        await _assert_exact(app, world.tenant_id, label)
    async with transaction(sm) as session:
        assert await rollups.raw_groups(session, world.tenant_id), "the calls left no figures to compare"


async def test_the_report_reads_the_rollups_of_whole_days(app: FastAPI, world: TenantWorld) -> None:
    """The report's figures come from the rollups: a row added there (and nowhere else) shows in it."""
    sm = app.state.container.sessionmaker
    async with transaction(sm) as session:
        session.add(UsageRollup(tenant_id=world.tenant_id, day=date(2026, 2, 2), organization_id=world.org_id,
                                dimension="outcome", key="interested", label="", calls=3, answered=3, seconds=600,
                                cost_units=12_345))
    async with transaction(sm) as session:
        report = await usage_report(session, Scope(world.tenant_id), period="day", start=date(2026, 2, 1),
                                    end=date(2026, 2, 2), currency="USD")
        assert (report.total.calls, report.total.minutes, report.total.cost) == (3, 10.0, 1.2345)
        assert [(line.key, line.calls) for line in report.by_period] == [("2026-02-02", 3)]
        assert await rollups.differences(session, world.tenant_id) != []  # and verify finds what is not a call's
        await rollups.rebuild(session, world.tenant_id)
        assert await rollups.differences(session, world.tenant_id) == []
        assert (await session.execute(select(UsageRollup).where(UsageRollup.tenant_id == world.tenant_id))).first() \
            is None


async def test_concurrent_cost_updates_of_one_day_both_count(app: FastAPI, world: TenantWorld) -> None:
    """Eight transactions change the costs of eight calls of one day, agent, user and outcome (the same rollup
    rows) and commit at once: each one's increment counts (PostgreSQL; SQLite has a single writer)."""
    if app.state.container.engine.dialect.name != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")
    account_id, agents = await _agents(app, world)
    sm = app.state.container.sessionmaker
    created = START + timedelta(hours=10)
    async with transaction(sm) as session:
        new = [CallLog(tenant_id=world.tenant_id, organization_id=world.org_id, lead_id=world.lead_ids[0],
                       user_id=world.member.user_id, account_id=account_id, agent_ref_id=agents[0].id,
                       agent_id=agents[0].agent_id, agent_name="Agent 0", phone_number_id="phnum",
                       phone_kind="twilio", to_number="+12025550100", status="completed", phone_result="answered",
                       sales_result="interested", created_at=created, updated_at=created, duration_seconds=60,
                       cost=0.5) for _ in range(8)]
        session.add_all(new)
    flushed = asyncio.Barrier(len(new))

    async def late_cost(call_id: str, cost: float) -> None:
        async with transaction(sm) as session:
            call = await session.get(CallLog, call_id, with_for_update=True)
            assert call is not None
            call.cost = cost
            await session.flush()
            await flushed.wait()  # every transaction has written its call; the commits race on the rollup rows

    await asyncio.gather(*(late_cost(c.id, 1.25 + i) for i, c in enumerate(new)))
    async with transaction(sm) as session:
        assert await rollups.differences(session, world.tenant_id) == []
        report = await usage_report(session, Scope(world.tenant_id), period="day", start=created.date(),
                                    end=created.date(), currency="USD")
    assert report.total.cost == round(sum(1.25 + i for i in range(8)), 4)
    assert report.total.calls == 8


async def test_the_migration_fills_the_rollups_from_the_calls_there_are(app: FastAPI, world: TenantWorld) -> None:
    """Migration 0021's backfill, run again over the calls of the test database (in a transaction that is
    rolled back), writes exactly what the raw GROUP BY says."""
    account_id, agents = await _agents(app, world)
    rng = random.Random(7)
    sm = app.state.container.sessionmaker
    async with transaction(sm) as session:
        session.add_all([_new_call(rng, world, account_id, agents) for _ in range(40)])
    path = Path(migrations.__file__).parent / "versions" / "0021_usage_rollups.py"
    spec = importlib.util.spec_from_file_location("migration_0021", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    async with sm() as session:
        await session.execute(delete(UsageRollup))
        assert await rollups.differences(session, world.tenant_id) != []
        for statement in migration._backfill_sql(session.get_bind().dialect.name):
            await session.execute(text(statement))
        assert await rollups.differences(session, world.tenant_id) == []
        assert len(await rollups.rollup_groups(session, world.tenant_id)) > 6
        await session.rollback()
