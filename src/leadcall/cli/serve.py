from __future__ import annotations

import typer
import uvicorn

from leadcall.app import create_app
from leadcall.settings import DEV_SESSION_SECRET, Settings


def serve(host: str | None = typer.Option(None, help="Defaults to LEADCALL_HOST (127.0.0.1)."),
          port: int | None = typer.Option(None, help="Defaults to LEADCALL_PORT (8000).")) -> None:
    settings = Settings()
    bind = host or settings.host
    if settings.session_secret.get_secret_value() == DEV_SESSION_SECRET and bind not in ("127.0.0.1", "localhost"):
        typer.secho("error: set LEADCALL_SESSION_SECRET before serving beyond this machine "
                    "(the built-in one is public)", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1)
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_level="info", proxy_headers=False)
