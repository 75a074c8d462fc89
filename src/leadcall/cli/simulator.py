from __future__ import annotations

import typer
import uvicorn

from leadcall.kit.clock import SystemClock


def simulator(host: str = typer.Option("127.0.0.1"), port: int = typer.Option(8010),
              speed: float = typer.Option(1.0, help="Simulated seconds per real second."),
              webhook_url: str | None = typer.Option(None, help="Where the demo accounts send post-call webhooks.")
              ) -> None:
    """Run the built-in ElevenLabs simulator alone (same paths and payloads as api.elevenlabs.io)."""
    from leadcall.simulator import SimulatorState, create_simulator_app, seed_demo_accounts

    state = SimulatorState(clock=SystemClock(), speed=speed)
    accounts = seed_demo_accounts(state, webhook_url=webhook_url)
    typer.echo(f"ElevenLabs simulator on http://{host}:{port} (speed ×{speed})")
    typer.echo(f"  leadcall reaches it as an account's base URL once named: LEADCALL_PROVIDER_HOSTS={host}:{port}")
    for account in accounts:
        typer.echo(f"  account {account.name} (its xi-api-key is in leadcall.simulator.DEMO_ACCOUNTS)")
    uvicorn.run(create_simulator_app(state), host=host, port=port, log_level="info")
