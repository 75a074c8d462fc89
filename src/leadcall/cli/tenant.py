from __future__ import annotations

import asyncio

import typer

from leadcall.cli._context import fail, now, unit_of_work
from leadcall.core.errors import LeadcallError
from leadcall.tenancy import service

app = typer.Typer(help="Tenants.", no_args_is_help=True)


@app.command("create")
def create(name: str, slug: str | None = typer.Option(None, help="Defaults to a slug of the name."),
           language: str = typer.Option("es", help="es or en"), country: str = typer.Option("US"),
           currency: str = typer.Option("USD")) -> None:
    async def run() -> str:
        async with unit_of_work() as session:
            tenant = await service.create_tenant(session, name=name, slug=slug, language=language,
                                                 country=country, currency=currency, now=now())
            return tenant.id

    try:
        typer.echo(asyncio.run(run()))
    except LeadcallError as exc:
        raise fail(exc) from exc
