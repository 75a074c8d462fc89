from __future__ import annotations

import typer

from leadcall.core.secrets import SecretBox

app = typer.Typer(help="Encryption keys for stored provider secrets.", no_args_is_help=True)


@app.command("new-key", help="Print a new encryption key for LEADCALL_SECRET_KEYS (put it first to rotate).")
def new_key() -> None:
    typer.echo(SecretBox.generate_key())
