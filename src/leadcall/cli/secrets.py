from __future__ import annotations

import asyncio

import typer

from leadcall.cli._context import unit_of_work
from leadcall.core.secrets import SecretBox
from leadcall.integrations import service as webhooks
from leadcall.settings import Settings
from leadcall.voice.service import unscoped_rotate_secrets

app = typer.Typer(help="Encryption keys for stored provider secrets.", no_args_is_help=True)


@app.command("new-key", help="Print a new encryption key for LEADCALL_SECRET_KEYS (put it first to rotate).")
def new_key() -> None:
    typer.echo(SecretBox.generate_key())


@app.command("rotate", help="Re-encrypt every stored provider secret under the first key of LEADCALL_SECRET_KEYS.")
def rotate() -> None:
    async def run() -> tuple[int, int]:
        settings = Settings()
        keys = settings.secret_keys.get_secret_value()
        if not keys:
            raise typer.BadParameter("LEADCALL_SECRET_KEYS is not set")
        box = SecretBox.from_setting(keys)
        async with unit_of_work(settings) as session:
            return (await unscoped_rotate_secrets(session, box), await webhooks.unscoped_rotate_secrets(session, box))

    count, endpoints = asyncio.run(run())
    typer.echo(f"re-encrypted the secrets of {count} account(s) and {endpoints} webhook endpoint(s) under the newest key; "
               "the old key can be removed from LEADCALL_SECRET_KEYS now")
