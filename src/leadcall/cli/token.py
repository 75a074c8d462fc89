from __future__ import annotations

import asyncio

import typer

from leadcall.cli._context import fail, now, unit_of_work
from leadcall.core.errors import LeadcallError, NotFound
from leadcall.core.scoping import Scope
from leadcall.tenancy import repository, service

app = typer.Typer(help="Personal API tokens.", no_args_is_help=True)


@app.command("create", help="Create an API token for a user and print it once.")
def create(email: str = typer.Option(...), name: str = typer.Option("cli")) -> None:
    async def run() -> str:
        async with unit_of_work() as session:
            user = await repository.unscoped_find_user_by_email(session, email)
            if user is None:
                raise NotFound(f"no user with the email {email}")
            _row, token = await service.create_token(session, Scope(user.tenant_id), user_id=user.id, name=name,
                                                     now=now())
            return token

    try:
        token = asyncio.run(run())
    except LeadcallError as exc:
        raise fail(exc) from exc
    typer.echo(token)
    typer.secho("This token is shown only once; store it now.", err=True, fg=typer.colors.YELLOW)
