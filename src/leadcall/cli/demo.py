from __future__ import annotations

import asyncio
import os
from pathlib import Path

import typer
import uvicorn

from leadcall.app import create_app
from leadcall.cli._context import now, unit_of_work
from leadcall.core.migrate import upgrade
from leadcall.core.secrets import SecretBox
from leadcall.demo_data import DEMO_LEADS, DEMO_PASSWORD, DEMO_USERS, seed_demo, seed_demo_voice, set_up_demo_analysis
from leadcall.settings import Settings
from leadcall.simulator.scenarios import describe
from leadcall.voice.targets import ProviderTargets


def _persistent_secret(path: Path, make: str) -> str:
    """Demo keys live beside the demo database, readable by its owner only."""
    if path.exists():
        return path.read_text().strip()
    path.write_text(make)
    path.chmod(0o600)
    return make


def demo(port: int = typer.Option(8000), host: str = typer.Option("127.0.0.1"),
         data_dir: Path = typer.Option(Path(".leadcall-demo"), help="Where the SQLite file and keys live."),
         speed: float = typer.Option(4.0, help="Simulated call time: seconds per real second.")) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite+aiosqlite:///{(data_dir / 'leadcall.db').resolve()}"
    secret_key = _persistent_secret(data_dir / "secret.key", SecretBox.generate_key())
    session_secret = _persistent_secret(data_dir / "session.key", os.urandom(32).hex())
    base_url = f"http://{host}:{port}"
    # The built-in simulator is served by this very process: the one origin besides ElevenLabs' and Twilio's
    # that accounts may point at (private targets stay refused).
    settings = Settings(database_url=database_url, secret_keys=secret_key, session_secret=session_secret,
                        public_base_url=base_url, host=host, port=port, simulator_enabled=True,
                        simulator_speed=speed, provider_hosts=f"{host}:{port}")
    targets = ProviderTargets.from_settings(settings.provider_hosts, settings.allow_private_targets)
    upgrade(database_url)

    async def seed() -> tuple[bool, str]:
        async with unit_of_work(settings) as session:
            demo = await seed_demo(session, now())
            await seed_demo_voice(session, SecretBox.from_setting(secret_key), demo.tenant_id, f"{base_url}/sim",
                                  now(), targets)
            return demo.created, demo.tenant_id

    created, tenant_id = asyncio.run(seed())
    typer.secho(f"leadcall demo {'created' if created else 'reused'} at {data_dir.resolve()}", fg="green")
    typer.echo(f"Open {base_url}/ and sign in as:")
    for email, _name, role, _org in DEMO_USERS:
        typer.echo(f"  {email:32} ({role.value})  password: {DEMO_PASSWORD}")
    typer.echo("Leads, and what calling each one does (the simulator's test numbers):")
    for name, _company, phone, _notes in DEMO_LEADS:
        if phone:
            typer.echo(f"  {name:24} {phone}  {describe(phone)}")
    typer.echo(f"API: {base_url}/docs  (create a token: POST /api/tokens, or `leadcall token create`)")
    typer.echo("Forgotten password: an admin makes a reset link in Settings → Users (shown there, no mail is sent),"
               f" or: LEADCALL_DATABASE_URL={database_url} leadcall user reset-link --email …")
    app = create_app(settings)

    async def serve() -> None:
        server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="info"))
        serving = asyncio.create_task(server.serve())
        while not server.started and not serving.done():  # noqa: ASYNC110 - uvicorn sets a flag, no event
            await asyncio.sleep(0.05)
        if server.started:  # the simulator answers now: leadcall's analysis goes on the demo agents
            agents = await set_up_demo_analysis(app.state.container.sessionmaker, app.state.voice_manager,
                                                tenant_id, now())
            typer.echo(f"leadcall's analysis set up on {agents} demo agents")
        await serving

    asyncio.run(serve())
