"""Reads on a big tenant against the same reads on a nearly empty one, in one run, on one database.

Two tenants share the database: "full" (`--leads`, `--calls`, and `--hot-lead-calls` on one lead) and
"empty" (60 leads, 60 calls, 45 of them on one lead: enough for a first page and a second one). Each
figure is the median time of the same request on both, interleaved, served in process (ASGI) by
the real app; the ratio is empty / full (1.0: no slower at volume). The usage report is also set
beside the bare GROUP BY that answers it, over the raw calls and over the daily rollups it reads.

    .venv/bin/python bench/volume.py [--postgres] [--leads N] [--calls N] [--hot-lead-calls N]

SQLite uses a temporary file, `--postgres` the database volume_bench on 127.0.0.1 (created for the
run); either is removed at the end unless `--keep`.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import make_tenant  # noqa: E402
from volume_data import fill  # noqa: E402

from leadcall.app import create_app  # noqa: E402
from leadcall.calls import rollups  # noqa: E402
from leadcall.core.db import transaction  # noqa: E402
from leadcall.core.migrate import upgrade  # noqa: E402
from leadcall.core.secrets import SecretBox  # noqa: E402
from leadcall.kit.pagination import encode_cursor  # noqa: E402
from leadcall.settings import Settings  # noqa: E402

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
PG_NAME = "volume_bench"
ROUNDS = 15


@dataclass
class Database:
    url: str
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[Any]
    postgres: bool


async def open_database(postgres: bool, *, keep: bool = False) -> Database:
    if postgres:
        import asyncpg

        admin = await asyncpg.connect(PG_ADMIN)
        await admin.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{PG_NAME}"')
        await admin.close()
        url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{PG_NAME}"
    else:
        url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='leadcall-volume-')}/volume.db"
    await asyncio.to_thread(upgrade, url)
    engine = create_async_engine(url)
    return Database(url, engine, async_sessionmaker(engine, expire_on_commit=False), postgres)


async def drop_database() -> None:
    import asyncpg

    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
    await admin.close()


async def timed(job: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await job()
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--hot-lead-calls", type=int, default=10_000)
    args = parser.parse_args()
    db = await open_database(args.postgres)
    settings = Settings(database_url=db.url, secret_keys=SecretBox.generate_key(), session_secret="bench",
                        public_base_url="http://bench", run_worker=False)
    app = create_app(settings)
    started = time.perf_counter()
    async with app.router.lifespan_context(app):
        sm = app.state.container.sessionmaker
        full_t, empty_t = await make_tenant(sm), await make_tenant(sm)
        full = await fill(sm, full_t.tenant_id, leads=args.leads, calls=args.calls, hot_lead_calls=args.hot_lead_calls)
        empty = await fill(sm, empty_t.tenant_id, leads=60, calls=15, hot_lead_calls=45, seed=7)
        print(f"filled in {time.perf_counter() - started:.0f} s: {args.leads} leads, "
              f"{args.calls + args.hot_lead_calls} calls ({'PostgreSQL' if db.postgres else 'SQLite'})")
        # The bulk fill bypasses the ORM (and so the rollups' upkeep): its rollups are written from the calls,
        # as migration 0021 does for the calls there are.
        started = time.perf_counter()
        async with transaction(sm) as session:
            for tenant in (full_t, empty_t):
                await rollups.rebuild(session, tenant.tenant_id)
            rollup_rows = (await session.execute(text("SELECT count(*) FROM usage_rollups WHERE tenant_id = :t"),
                                                 {"t": full_t.tenant_id})).scalar_one()
        if db.postgres:
            async with sm() as session:
                raw = (await (await session.connection()).get_raw_connection()).driver_connection
                assert raw is not None
                await raw.execute("VACUUM ANALYZE usage_rollups")
        print(f"rollups written in {time.perf_counter() - started:.1f} s: {rollup_rows} rows for the full tenant")

        async with sm() as session:
            async def middle_cursor(tenant_id: str) -> str:
                n = (await session.execute(text("SELECT count(*) FROM leads WHERE tenant_id = :t AND archived_at IS NULL"),
                                           {"t": tenant_id})).scalar_one()
                row = (await session.execute(text(
                    "SELECT created_at, id FROM leads WHERE tenant_id = :t AND archived_at IS NULL "
                    "ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET :o"), {"t": tenant_id, "o": n // 2})).one()
                when = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0]).replace(tzinfo=UTC)
                return encode_cursor(when, row[1])

            async def history_cursor(lead_id: str) -> str:
                n = (await session.execute(text("SELECT count(*) FROM call_logs WHERE lead_id = :l"),
                                           {"l": lead_id})).scalar_one()
                row = (await session.execute(text(
                    "SELECT created_at, id FROM call_logs WHERE lead_id = :l ORDER BY created_at DESC, id DESC "
                    "LIMIT 1 OFFSET :o"), {"l": lead_id, "o": n // 2})).one()
                when = row[0] if isinstance(row[0], datetime) else datetime.fromisoformat(row[0]).replace(tzinfo=UTC)
                return encode_cursor(when, row[1])

            async def sample(tenant_id: str) -> tuple[str, str, str]:
                name, phone, company = (await session.execute(text(
                    "SELECT name, phone, company FROM leads WHERE tenant_id = :t ORDER BY id LIMIT 1"),
                    {"t": tenant_id})).one()
                return name.split()[1], phone[-7:], company

            cursors = {"full": await middle_cursor(full_t.tenant_id), "empty": await middle_cursor(empty_t.tenant_id)}
            hist = {"full": await history_cursor(full.hot_lead_id), "empty": await history_cursor(empty.hot_lead_id)}
            # The same search words on both tenants (the full tenant's words; the empty one may find fewer).
            last_name, phone_part, company = await sample(full_t.tenant_id)
        today = datetime.now(UTC).date()
        year_ago = today - timedelta(days=365)
        hot = {"full": full.hot_lead_id, "empty": empty.hot_lead_id}
        requests: list[tuple[str, Callable[[str], str]]] = [
            ("leads, first page", lambda k: "/api/leads?limit=50"),
            ("leads, deep page (cursor)", lambda k: f"/api/leads?limit=50&cursor={cursors[k]}"),
            ("search by name", lambda k: f"/api/leads?limit=50&q={last_name}"),
            ("search by phone", lambda k: f"/api/leads?limit=50&q={phone_part}"),
            ("search by company", lambda k: f"/api/leads?limit=50&q={company.replace(' ', '%20')}"),
            ("history, deep page", lambda k: f"/api/leads/{hot[k]}/calls?limit=20&cursor={hist[k]}"),
            ("calls list, first page", lambda k: "/api/calls?limit=50"),
            ("calls list, outcome filter", lambda k: "/api/calls?limit=50&outcome=interested"),
            ("usage report, a year by month", lambda k: f"/api/usage?period=month&from={year_ago}&to={today}"),
        ]
        tokens = {"full": full_t.admin_token, "empty": empty_t.admin_token}
        results: list[tuple[str, float, float]] = []
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench",
                                     timeout=600) as client:
            for label, path in requests:
                times: dict[str, list[float]] = {"full": [], "empty": []}
                for i in range(ROUNDS + 1):
                    for kind in ("empty", "full") if i % 2 else ("full", "empty"):
                        async def get(kind: str = kind, path: Callable[[str], str] = path) -> None:
                            r = await client.get(path(kind), headers={"Authorization": f"Bearer {tokens[kind]}"})
                            assert r.status_code == 200, r.text
                        t = await timed(get)
                        if i:  # the first round warms caches
                            times[kind].append(t)
                results.append((label, statistics.median(times["empty"]), statistics.median(times["full"])))
            bare_sql = ("SELECT organization_id, agent_ref_id, user_id, phone_result, sales_result, status, count(*), "
                        "sum(duration_seconds), sum(cost) FROM call_logs WHERE tenant_id = :t AND created_at >= :s "
                        "GROUP BY organization_id, agent_ref_id, user_id, phone_result, sales_result, status")
            # The same grouping over the rollups the report reads (a day's rows per organization and dimension).
            bare_rollup_sql = ("SELECT organization_id, dimension, key, label, sum(calls), sum(answered), sum(seconds), "
                               "sum(cost_units) FROM usage_rollups WHERE tenant_id = :t AND day >= :s AND calls <> 0 "
                               "GROUP BY organization_id, dimension, key, label")
            bare: list[float] = []
            bare_rollup: list[float] = []
            for _ in range(ROUNDS):
                async with sm() as session:
                    async def run_bare() -> None:
                        await session.execute(text(bare_sql), {"t": full_t.tenant_id,
                                                               "s": datetime.now(UTC) - timedelta(days=365)})

                    async def run_bare_rollup() -> None:
                        await session.execute(text(bare_rollup_sql), {"t": full_t.tenant_id, "s": year_ago})
                    bare.append(await timed(run_bare))
                    bare_rollup.append(await timed(run_bare_rollup))
    await db.engine.dispose()
    if db.postgres and not args.keep:
        await drop_database()
    elif not db.postgres and not args.keep:
        shutil.rmtree(Path(db.url.removeprefix("sqlite+aiosqlite:///")).parent)  # hundreds of MB at volume
    print(f"{'request':34} {'empty tenant':>13} {'full tenant':>12} {'ratio':>6}")
    for label, e, f in results:
        print(f"{label:34} {e * 1000:10.1f} ms {f * 1000:9.1f} ms {e / f:6.2f}")
    usage_full = next(f for label, _e, f in results if label.startswith("usage"))
    print(f"usage report {usage_full * 1000:.1f} ms vs bare GROUP BY over raw calls {statistics.median(bare) * 1000:.1f} ms"
          f" (×{usage_full / statistics.median(bare):.1f})")
    print(f"usage report {usage_full * 1000:.1f} ms vs bare GROUP BY over the rollups "
          f"{statistics.median(bare_rollup) * 1000:.1f} ms (×{usage_full / statistics.median(bare_rollup):.1f}; "
          f"{rollup_rows} rollup rows)")


if __name__ == "__main__":
    asyncio.run(main())
