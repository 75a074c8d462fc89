"""Sign-in timing: does `POST /api/auth/login` answer as fast for an unknown email as for a known one
with a wrong password? (If not, timing tells which emails have an account.) Also the cost of a
successful sign-in. Runs the app in process over ASGI on a fresh SQLite file, attempts interleaved;
prints medians and the unknown/known ratio (target: 0.9-1.1)."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from leadcall.app import create_app
from leadcall.core.db import transaction
from leadcall.core.migrate import upgrade_async
from leadcall.core.scoping import Scope
from leadcall.core.secrets import SecretBox
from leadcall.settings import Settings
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.models import Role

ROUNDS = 40
PASSWORD = "a password for the bench"


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="leadcall-bench-") as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'bench.db'}"
        await upgrade_async(url)
        settings = Settings(database_url=url, secret_keys=SecretBox.generate_key(), session_secret="bench",
                            login_attempts_per_minute=100_000, run_worker=False)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            now = datetime.now(UTC)
            async with transaction(app.state.container.sessionmaker) as session:
                tenant = await tenancy.create_tenant(session, name="Bench", now=now)
                org = await tenancy.create_organization(session, Scope(tenant.id), name="Sales", now=now)
                await tenancy.create_user(session, Scope(tenant.id), email="known@bench.test", name="Known",
                                          password=PASSWORD, role=Role.member, organization_id=org.id, now=now)
            cases = {"known email, wrong password": ("known@bench.test", "not the password", 401),
                     "unknown email": ("nobody@bench.test", "not the password", 401),
                     "known email, right password": ("known@bench.test", PASSWORD, 200)}
            times: dict[str, list[float]] = {name: [] for name in cases}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
                for round_ in range(ROUNDS + 3):
                    for name, (email, password, status) in cases.items():
                        client.cookies.clear()
                        start = time.perf_counter()
                        r = await client.post("/api/auth/login", json={"email": email, "password": password})
                        elapsed = time.perf_counter() - start
                        assert r.status_code == status, r.text
                        if round_ >= 3:  # the first rounds warm up (imports, the dummy hash)
                            times[name].append(elapsed * 1000)
    for name, values in times.items():
        print(f"{name:30} median {statistics.median(values):6.1f} ms   p90 "
              f"{sorted(values)[int(len(values) * 0.9)]:6.1f} ms")
    ratio = statistics.median(times["unknown email"]) / statistics.median(times["known email, wrong password"])
    print(f"unknown / known (wrong password): {ratio:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
