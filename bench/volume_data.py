"""A tenant the size of a CRM's after years of use, written with bulk inserts.

`fill(sessionmaker, tenant_id, leads=N, calls=M, hot_lead_calls=K)` gives an existing tenant
organizations, users, an ElevenLabs account with agents, N leads, M calls spread over the last
twelve months (every status, phone result and sales result; answered calls carry transcripts of
a real call's length), K more calls on one lead (its history is the deep-page case), call
events (the audit trail), lead events and stored webhook deliveries. PostgreSQL rows go in with
COPY, SQLite rows with executemany in chunks; run as a script, it fills a new database and leaves it
(a temporary SQLite file, or volume_bench on PostgreSQL) for a person to look at:

    .venv/bin/python bench/volume_data.py --leads 10000 --calls 100000 [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from leadcall.calls.models import CallEvent, CallLog, WebhookDelivery  # noqa: E402
from leadcall.core.db import transaction  # noqa: E402
from leadcall.core.scoping import Scope  # noqa: E402
from leadcall.leads.models import Lead, LeadEvent  # noqa: E402
from leadcall.tenancy import service as tenancy  # noqa: E402
from leadcall.tenancy.models import Role  # noqa: E402
from leadcall.voice.models import ElevenLabsAccount, VoiceAgent  # noqa: E402

FIRST = ["Lucía", "Carlos", "María", "Javier", "Elena", "Pablo", "Laura", "Diego", "Sofía", "Andrés", "Carmen",
         "Miguel", "Isabel", "Raúl", "Emily", "Michael", "Sarah", "David", "Olivia", "James", "Nuria", "Hugo"]
LAST = ["Fernández", "Ruiz", "López", "Moreno", "Navarro", "Jiménez", "Torres", "Romero", "Álvarez", "Gil",
        "Johnson", "Brown", "Smith", "Miller", "Davis", "Wilson", "Serrano", "Castillo", "Ortega", "Delgado"]
TRADE = ["Inmobiliaria", "Clínica", "Talleres", "Abogados", "Logística", "Fitness", "Construcciones", "Seguros",
         "Realty", "Consulting", "Catering", "Energía", "Tech", "Motors", "Dental", "Studio", "Travel"]
SENTENCES = [
    "Hola, le llamo de parte del equipo comercial para contarle nuestro nuevo plan.",
    "Sí, dígame, tengo un par de minutos ahora mismo.",
    "Le explico: el plan anual incluye soporte y formación para todo su equipo.",
    "¿Y cuánto cuesta al mes si somos unas veinte personas?",
    "Depende del volumen, pero para veinte usuarios suele quedar en torno a cuatrocientos euros.",
    "Me interesa, pero tendría que hablarlo con mi socio esta semana.",
    "Perfecto, ¿le parece bien que le llamemos el jueves a las diez de la mañana?",
    "Could you send me the details by email first, please?",
    "Of course, I will send the brochure and a short summary right after this call.",
    "We are already working with another provider, so I am not sure it makes sense now.",
]
# (status, phone result, sales result, weight): every status and outcome the product knows.
MIX = [("completed", "answered", "interested", 8), ("completed", "answered", "not_interested", 14),
       ("completed", "answered", "callback_requested", 6), ("completed", "answered", None, 7),
       ("completed", "voicemail", None, 15), ("failed", "no_answer", None, 22), ("failed", "busy", None, 10),
       ("failed", "failed", None, 8), ("canceled", None, None, 4), ("in_progress", "answered", None, 2),
       ("ringing", None, None, 2), ("initiating", None, None, 2)]
CHUNK = 5000


@dataclass
class Filled:
    lead_ids: list[str]
    hot_lead_id: str
    account_id: str
    agent_refs: list[tuple[str, str, str]]  # (reference id, agent id, name)
    user_ids: list[str]
    organization_ids: list[str]


def _transcript(rng: random.Random) -> list[dict[str, Any]]:
    turns = rng.randint(12, 30)  # a 2-5 minute call
    return [{"role": "agent" if i % 2 == 0 else "user", "message": rng.choice(SENTENCES),
             "time_in_call_secs": i * 9} for i in range(turns)]


async def _insert(conn: AsyncConnection, table: Table, rows: Iterator[dict[str, Any]]) -> int:
    """COPY on PostgreSQL (asyncpg), executemany on SQLite; in chunks so memory stays flat."""
    count = 0
    chunk: list[dict[str, Any]] = []
    columns: list[str] = []
    defaults: dict[str, Any] = {}

    async def flush() -> None:
        if not chunk:
            return
        if conn.dialect.name == "postgresql":
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            records = [tuple(json.dumps(r[c]) if isinstance(r[c], list | dict) else r[c] for c in columns)
                       for r in chunk]
            await raw.copy_records_to_table(table.name, records=records, columns=columns)
        else:
            await conn.execute(table.insert(), chunk)
        chunk.clear()

    for row in rows:
        if not columns:
            # COPY sees no Python-side defaults: the columns the rows leave out get them here.
            for column in table.columns:
                if column.name not in row and column.default is not None and column.default.is_scalar:
                    defaults[column.name] = column.default.arg  # type: ignore[attr-defined]
            columns = [*row, *defaults]
        row.update(defaults)
        chunk.append(row)
        count += 1
        if len(chunk) >= CHUNK:
            await flush()
    await flush()
    return count


async def fill(sessionmaker: async_sessionmaker[Any], tenant_id: str, *, leads: int, calls: int,
               hot_lead_calls: int = 0, organizations: int = 3, seed: int = 19,
               now: datetime | None = None) -> Filled:
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    suffix = uuid.uuid4().hex[:6]
    scope = Scope(tenant_id)
    async with transaction(sessionmaker) as session:
        orgs = [await tenancy.create_organization(session, scope, name=f"Team {i + 1} {suffix}", now=now)
                for i in range(organizations)]
        users = [await tenancy.create_user(session, scope, email=f"seller{i}-{suffix}@volume.test", name=f"Seller {i}",
                                           password=None, role=Role.member, organization_id=orgs[i % len(orgs)].id,
                                           now=now) for i in range(organizations * 4)]
        account = ElevenLabsAccount(tenant_id=tenant_id, name="Volume", api_key_encrypted="-", api_key_last4="0000",
                                    base_url="http://127.0.0.1:9/sim", is_active=False, created_at=now, updated_at=now)
        session.add(account)
        await session.flush()
        agents = [VoiceAgent(tenant_id=tenant_id, account_id=account.id, agent_id=f"agent_volume_{i}_{suffix}",
                             created_at=now, updated_at=now) for i in range(5)]
        session.add_all(agents)
        await session.flush()
        filled = Filled([], "", account.id, [(a.id, a.agent_id, f"Agent {i}") for i, a in enumerate(agents)],
                        [u.id for u in users], [o.id for o in orgs])
    year = timedelta(days=365)
    lead_rows: list[tuple[str, str, str, datetime]] = []  # id, organization, phone, created

    def lead_iter() -> Iterator[dict[str, Any]]:
        for i in range(leads + 1):
            created = now - year * rng.random() - timedelta(days=30)
            org = rng.randrange(len(orgs))
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)} {i}"
            phone = f"+1202{rng.randrange(2_000_000, 9_999_999):07d}"
            lead_id = str(uuid.UUID(int=rng.getrandbits(128)))
            lead_rows.append((lead_id, orgs[org].id, phone, created))
            yield {"id": lead_id, "tenant_id": tenant_id, "organization_id": orgs[org].id, "name": name,
                   "company": f"{rng.choice(TRADE)} {rng.choice(LAST)}", "phone": phone,
                   "email": f"lead{i}.{suffix}@example.com", "notes": rng.choice(SENTENCES), "timezone": None,
                   "status": rng.choice(["new", "contacted", "qualified", "unqualified", "won", "lost"]),
                   "owner_id": users[org].id, "do_not_call": False, "created_at": created, "updated_at": created,
                   "archived_at": now if rng.random() < 0.02 else None}

    weights = [m[3] for m in MIX]

    def call_iter(n: int, hot: bool) -> Iterator[dict[str, Any]]:
        for _ in range(n):
            lead_id, org_id, phone, lead_created = lead_rows[0] if hot else rng.choice(lead_rows[1:])
            status, phone_result, sales_result, _w = rng.choices(MIX, weights)[0]
            created = now - year * rng.random()
            ref, agent_id, agent_name = rng.choice(filled.agent_refs)
            answered = phone_result == "answered" and status == "completed"
            duration = rng.randint(90, 330) if answered else (rng.randint(15, 40) if phone_result == "voicemail" else 0)
            cost = round(duration / 60 * 0.12, 4) if status in ("completed", "failed") else None
            yield {"id": str(uuid.UUID(int=rng.getrandbits(128))), "tenant_id": tenant_id, "organization_id": org_id,
                   "lead_id": lead_id, "user_id": rng.choice(filled.user_ids), "account_id": account.id,
                   "agent_ref_id": ref, "agent_id": agent_id, "agent_name": agent_name,
                   "conversation_id": "conv_" + uuid.UUID(int=rng.getrandbits(128)).hex,
                   "phone_number_id": "phnum_volume", "phone_kind": "twilio", "to_number": phone, "status": status,
                   "call_type": rng.choice(["prospecting", "qualification", "follow_up", "closing"]),
                   "phone_result": phone_result, "sales_result": sales_result, "created_at": created,
                   "updated_at": created + timedelta(seconds=duration + 30),
                   "start_time": created + timedelta(seconds=8) if phone_result == "answered" else None,
                   "end_time": created + timedelta(seconds=duration + 10) if status in ("completed", "failed") else None,
                   "duration_seconds": duration or None, "transcript": _transcript(rng) if answered else None,
                   "transcription_status": "completed" if answered else "pending",
                   "summary": rng.choice(SENTENCES) if answered else None,
                   "failure_reason": phone_result if status == "failed" else None,
                   "cost_credits": int(duration * 10) if cost is not None else None, "cost": cost,
                   "cost_usd": cost, "cost_currency": "USD" if cost is not None else None}

    call_ids: list[tuple[str, datetime, str]] = []

    def remember(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for r in rows:
            if len(call_ids) < 200_000:
                call_ids.append((r["id"], r["created_at"], r["conversation_id"]))
            yield r

    def event_iter() -> Iterator[dict[str, Any]]:
        for call_id, at, _conv in call_ids:
            for step, (kind, frm, to) in enumerate((("created", None, "initiating"), ("status", "initiating", "ringing"),
                                                    ("status", "ringing", "completed"))):
                yield {"id": str(uuid.UUID(int=rng.getrandbits(128))), "tenant_id": tenant_id, "call_id": call_id,
                       "at": at + timedelta(seconds=step * 20), "seq": int(at.timestamp() * 1e9) + step,
                       "source": "api" if step == 0 else "poll", "kind": kind, "from_status": frm, "to_status": to}

    def lead_event_iter() -> Iterator[dict[str, Any]]:
        for lead_id, _org, _phone, created in lead_rows[:: max(1, len(lead_rows) // max(1, leads // 5))]:
            yield {"id": str(uuid.UUID(int=rng.getrandbits(128))), "tenant_id": tenant_id, "lead_id": lead_id,
                   "at": created, "seq": int(created.timestamp() * 1e9), "kind": "consent_given",
                   "actor": "seller@volume.test", "code": "form"}

    def delivery_iter() -> Iterator[dict[str, Any]]:
        for call_id, at, conv in call_ids:
            body = json.dumps({"type": "post_call_transcription", "data": {"conversation_id": conv, "call": call_id}})
            yield {"id": str(uuid.UUID(int=rng.getrandbits(128))), "account_id": account.id, "tenant_id": tenant_id,
                   "dedup_key": f"post_call_transcription:{conv}", "kind": "transcription", "conversation_id": conv,
                   "received_at": at + timedelta(minutes=5), "processed_at": at + timedelta(minutes=5),
                   "attempts": 1, "body": body}

    async with sessionmaker() as session:
        conn = await session.connection()
        await _insert(conn, Lead.__table__, lead_iter())  # type: ignore[arg-type]
        await _insert(conn, CallLog.__table__, remember(call_iter(hot_lead_calls, True)))  # type: ignore[arg-type]
        await _insert(conn, CallLog.__table__, remember(call_iter(calls, False)))  # type: ignore[arg-type]
        await _insert(conn, CallEvent.__table__, event_iter())  # type: ignore[arg-type]
        await _insert(conn, LeadEvent.__table__, lead_event_iter())  # type: ignore[arg-type]
        await _insert(conn, WebhookDelivery.__table__, delivery_iter())  # type: ignore[arg-type]
        await session.commit()
        if conn.dialect.name == "postgresql":
            # What autovacuum does to a table that has grown: statistics and the visibility map.
            async with sessionmaker() as s2:
                raw = (await (await s2.connection()).get_raw_connection()).driver_connection
                assert raw is not None
                await raw.execute("VACUUM ANALYZE")
    filled.lead_ids = [r[0] for r in lead_rows[1:]]
    filled.hot_lead_id = lead_rows[0][0]
    return filled


async def _main() -> None:
    from volume import open_database  # noqa: PLC0415 - the bench's database set-up serves the script

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--hot-lead-calls", type=int, default=10_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    db = await open_database(args.postgres, keep=True)
    started = time.perf_counter()
    async with transaction(db.sessionmaker) as session:
        t = await tenancy.create_tenant(session, name="Volume", now=datetime.now(UTC))
    await fill(db.sessionmaker, t.id, leads=args.leads, calls=args.calls, hot_lead_calls=args.hot_lead_calls)
    print(f"{db.url}: tenant {t.id}, {args.leads} leads, {args.calls + args.hot_lead_calls} calls "
          f"in {time.perf_counter() - started:.0f} s")
    await db.engine.dispose()


if __name__ == "__main__":
    asyncio.run(_main())
