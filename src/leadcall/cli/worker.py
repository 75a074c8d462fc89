from __future__ import annotations

import typer


def worker() -> None:
    """Run a background worker (PostgreSQL + Redis shape): webhooks, polling, reconciliation, retention."""
    import logging

    from leadcall.settings import Settings
    from leadcall.worker import Worker, worker_options

    try:
        options = worker_options(Settings())
    except RuntimeError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=1) from exc
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    Worker(**options).run()
