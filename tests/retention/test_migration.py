"""The migration that stops calls from cascading away with a lead keeps every existing row."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from leadcall.core.db import make_engine
from leadcall.core.migrate import upgrade_async
from tests.conftest import PG_ADMIN_URL


@pytest.fixture
async def empty_database(database_url: str) -> AsyncIterator[str]:
    """A database of its own (the session's one is already at the head), same kind as the run's."""
    if database_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix="leadcall-migration-") as folder:
            yield f"sqlite+aiosqlite:///{Path(folder) / 'old.db'}"
        return
    name = f"leadcall_migration_{uuid.uuid4().hex[:10]}"
    admin_url = PG_ADMIN_URL
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    try:
        yield database_url.rsplit("/", 1)[0] + "/" + name
    finally:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


ROWS = [
    ("tenants", {"id": "t1", "name": "Old Co", "slug": "old-co", "default_language": "es", "default_country": "ES",
                 "currency": "EUR", "retention_days": 30}),
    ("organizations", {"id": "o1", "tenant_id": "t1", "name": "Ventas"}),
    ("leads", {"id": "l1", "tenant_id": "t1", "organization_id": "o1", "name": "Ana", "phone": "+34612345678",
               "status": "contacted", "do_not_call": False, "updated_at": None}),
    ("elevenlabs_accounts", {"id": "a1", "tenant_id": "t1", "name": "Main", "api_key_encrypted": "x",
                             "api_key_last4": "abcd", "base_url": "http://el.test", "is_active": True,
                             "concurrency_limit": 4, "usd_to_currency_rate": 1, "price_per_1000_credits": 0.1,
                             "twilio_base_url": "http://tw.test", "updated_at": None}),
    ("voice_agents", {"id": "v1", "tenant_id": "t1", "account_id": "a1", "agent_id": "agent_1", "is_enabled": True,
                      "tags": "[]", "allowed_organization_ids": "[]", "allowed_call_types": "[]", "calls_placed": 1,
                      "updated_at": None}),
    ("call_logs", {"id": "c1", "tenant_id": "t1", "organization_id": "o1", "lead_id": "l1", "account_id": "a1",
                   "agent_ref_id": "v1", "agent_id": "agent_1", "phone_number_id": "ph1", "phone_kind": "twilio",
                   "to_number": "+34612345678", "status": "completed", "call_type": "prospecting",
                   "outcome_corrected": False, "transcription_status": "completed", "has_audio": True,
                   "checks_made": 3, "cost": 0.42, "cost_currency": "EUR", "updated_at": None}),
    ("call_events", {"id": "e1", "tenant_id": "t1", "call_id": "c1", "at": None, "seq": 1, "source": "api",
                     "kind": "created"}),
]


async def test_upgrading_keeps_calls_and_their_audit_trail(empty_database: str) -> None:
    await upgrade_async(empty_database, "0002")
    engine = make_engine(empty_database)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            for table, row in ROWS:
                values = {**row, "created_at": now, **{k: now for k, v in row.items() if v is None}}
                if table == "call_events":
                    values.pop("created_at")
                    values["at"] = now
                columns = ", ".join(values)
                await conn.execute(text(f"INSERT INTO {table} ({columns}) VALUES "
                                        f"({', '.join(':' + c for c in values)})"), values)
        await upgrade_async(empty_database)
        async with engine.connect() as conn:
            counts = {t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t, _ in ROWS}
            cost = (await conn.execute(text("SELECT cost FROM call_logs WHERE id = 'c1'"))).scalar_one()
            retention = (await conn.execute(text(
                "SELECT retention_days, retention_delete_at_provider FROM tenants"))).one()
        assert counts == {t: 1 for t, _ in ROWS}
        assert float(cost) == 0.42
        assert (retention[0], bool(retention[1])) == (30, False)
        with pytest.raises(IntegrityError):
            async with engine.begin() as conn:
                await conn.execute(text("DELETE FROM leads WHERE id = 'l1'"))
    finally:
        await engine.dispose()
