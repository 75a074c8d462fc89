"""CREATE/DROP DATABASE for the test run, through asyncpg (no extra driver)."""

from __future__ import annotations

import asyncio

import asyncpg


def execute(url: str, statement: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(statement)
        finally:
            await conn.close()

    asyncio.run(run())
