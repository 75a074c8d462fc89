from __future__ import annotations

import asyncio

import typer

from leadcall.cli._context import fail, now, unit_of_work
from leadcall.core.errors import LeadcallError
from leadcall.core.scoping import Scope
from leadcall.tenancy import service

app = typer.Typer(help="Organizations (teams) inside a tenant.", no_args_is_help=True)


@app.command("create")
def create(tenant_id: str = typer.Option(..., "--tenant"), name: str = typer.Option(...)) -> None:
    async def run() -> str:
        async with unit_of_work() as session:
            org = await service.create_organization(session, Scope(tenant_id), name=name, now=now())
            return org.id

    try:
        typer.echo(asyncio.run(run()))
    except LeadcallError as exc:
        raise fail(exc) from exc
