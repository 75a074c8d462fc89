"""`leadcall doctor --account <id>`: read-only checks of an ElevenLabs account (voice/doctor.py)."""

from __future__ import annotations

import asyncio

import typer

from leadcall.cli._context import fail
from leadcall.core.db import transaction
from leadcall.core.errors import LeadcallError
from leadcall.runtime import runtime
from leadcall.settings import Settings
from leadcall.voice.doctor import check_account


def doctor(account: str = typer.Option(..., "--account", help="The leadcall id of the ElevenLabs account.")) -> None:
    async def run() -> list[str]:
        settings = Settings()
        async with runtime(settings) as rt, transaction(rt.container.sessionmaker) as session:
            report = await check_account(session, rt.voices, account, public_base_url=settings.public_base_url)
            return report.lines()

    try:
        for line in asyncio.run(run()):
            typer.echo(line)
    except LeadcallError as exc:
        raise fail(exc) from exc
