"""Memory of the streamed CSV export: peak RSS of a process exporting a big tenant's calls against one exporting
a small tenant's (1,000 calls), in one run, on one database. Each export runs in a fresh child process that
serves GET /api/calls/export in process (ASGI) and reads the whole answer; its peak RSS (ru_maxrss) is what it
needed. A flat export gives a ratio near 1.0 (a buffered one grows with the calls).

    .venv/bin/python bench/exports.py [--calls N] [--postgres]

The default (--calls 20000) is a short run; --calls 100000 is the size issue 16 names.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _harness import make_tenant  # noqa: E402
from volume import drop_database, open_database  # noqa: E402
from volume_data import fill  # noqa: E402

from leadcall.app import create_app  # noqa: E402
from leadcall.core.secrets import SecretBox  # noqa: E402
from leadcall.settings import Settings  # noqa: E402

SMALL = 1000


async def _child(url: str, token: str) -> None:
    settings = Settings(database_url=url, secret_keys=SecretBox.generate_key(), session_secret="bench",
                        public_base_url="http://bench", run_worker=False)
    app = create_app(settings)
    rows = 0
    started = time.perf_counter()
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=None) as client:
        async with client.stream("GET", "/api/calls/export", headers={"Authorization": f"Bearer {token}"}) as r:
            assert r.status_code == 200, r.status_code
            async for chunk in r.aiter_bytes():
                rows += chunk.count(b"\n")
    elapsed = time.perf_counter() - started
    print(rows - 1, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, f"{elapsed:.1f}")


def _export(url: str, token: str) -> tuple[int, int, str]:
    out = subprocess.run([sys.executable, __file__, "--child", url, token], check=True, capture_output=True,
                         text=True).stdout.split()
    return int(out[0]), int(out[1]), out[2]


async def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        await _child(*args.child)
        return
    db = await open_database(args.postgres)
    try:
        started = time.perf_counter()
        big, small = await make_tenant(db.sessionmaker), await make_tenant(db.sessionmaker)
        await fill(db.sessionmaker, big.tenant_id, leads=max(100, args.calls // 10), calls=args.calls)
        await fill(db.sessionmaker, small.tenant_id, leads=100, calls=SMALL, seed=7)
        print(f"filled in {time.perf_counter() - started:.0f} s ({'PostgreSQL' if args.postgres else 'SQLite'})")
        # The admin's token: the export covers the whole tenant.
        small_rows, small_rss, small_s = _export(db.url, small.admin_token)
        big_rows, big_rss, big_s = _export(db.url, big.admin_token)
        print(f"export of {small_rows:>7} calls: peak RSS {small_rss / 1024:7.1f} MB ({small_s} s)")
        print(f"export of {big_rows:>7} calls: peak RSS {big_rss / 1024:7.1f} MB ({big_s} s)")
        print(f"peak RSS ratio {big_rows // max(small_rows, 1)}x the calls: {big_rss / small_rss:.2f} (flat: ~1.0)")
    finally:
        await db.engine.dispose()
        if args.postgres:
            await drop_database()


if __name__ == "__main__":
    asyncio.run(_main())
