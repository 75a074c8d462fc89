from __future__ import annotations

import asyncio

import typer

from leadcall.cli._context import fail, now, unit_of_work
from leadcall.core.errors import LeadcallError
from leadcall.core.scoping import Scope
from leadcall.tenancy import service
from leadcall.tenancy.models import Role

app = typer.Typer(help="Users.", no_args_is_help=True)


@app.command("create")
def create(tenant_id: str = typer.Option(..., "--tenant"), org_id: str = typer.Option(..., "--org"),
           email: str = typer.Option(...), name: str = typer.Option(...),
           role: Role = typer.Option(Role.member),
           password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                        envvar="LEADCALL_NEW_USER_PASSWORD")) -> None:
    async def run() -> str:
        async with unit_of_work() as session:
            user = await service.create_user(session, Scope(tenant_id), email=email, name=name,
                                             password=password, role=role, organization_id=org_id, now=now())
            return user.id

    try:
        typer.echo(asyncio.run(run()))
    except LeadcallError as exc:
        raise fail(exc) from exc
