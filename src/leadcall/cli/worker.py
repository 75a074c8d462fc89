from __future__ import annotations

import typer


def worker() -> None:
    """Run a background worker (PostgreSQL + Redis shape): webhooks, polling, reconciliation, retention."""
    from leadcall.settings import Settings
    from leadcall.worker import Worker, worker_options

    try:
        options = worker_options(Settings())
    except RuntimeError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    # Its lines are printed as the web process prints them (LEADCALL_LOG_FORMAT), set up in its startup.
    Worker(**options).run()
