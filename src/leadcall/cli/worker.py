from __future__ import annotations

import typer


def worker() -> None:
    """Run a background worker (PostgreSQL + Redis shape): webhooks, polling, reconciliation, retention."""
    from arq.worker import run_worker

    from leadcall.settings import Settings
    from leadcall.worker import worker_settings

    try:
        options = worker_settings(Settings())
    except RuntimeError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    run_worker(options)
