from __future__ import annotations

import typer
import uvicorn

from leadcall.app import create_app
from leadcall.settings import Settings


def serve(host: str | None = typer.Option(None, help="Defaults to LEADCALL_HOST (127.0.0.1)."),
          port: int | None = typer.Option(None, help="Defaults to LEADCALL_PORT (8000).")) -> None:
    settings = Settings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port,
                log_level="info", proxy_headers=False)
