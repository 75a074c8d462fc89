"""The `leadcall` command. One module per command group."""

from __future__ import annotations

import typer

from leadcall.cli import (
    db,
    demo,
    doctor,
    messages,
    org,
    retention,
    secrets,
    serve,
    simulator,
    tenant,
    token,
    usage,
    user,
    worker,
)

app = typer.Typer(help="leadcall: call your CRM leads with ElevenLabs AI voice agents.", no_args_is_help=True,
                  add_completion=False)
app.command("serve", help="Run the web app and API.")(serve.serve)
app.command("demo", help="Run the product with demo data, SQLite and the built-in ElevenLabs simulator.")(demo.demo)
app.command("simulator", help="Run the built-in ElevenLabs simulator alone.")(simulator.simulator)
app.command("worker", help="Run a background worker (needs LEADCALL_REDIS_URL).")(worker.worker)
app.command("doctor", help="Check an ElevenLabs account read-only: agents, numbers, analysis (dry run).")(
    doctor.doctor)
app.add_typer(db.app, name="db")
app.add_typer(tenant.app, name="tenant")
app.add_typer(org.app, name="org")
app.add_typer(user.app, name="user")
app.add_typer(token.app, name="token")
app.add_typer(secrets.app, name="secrets")
app.add_typer(retention.app, name="retention")
app.add_typer(messages.app, name="messages")
app.add_typer(usage.app, name="usage")
