from __future__ import annotations

import asyncio

import typer

from leadcall.cli._context import fail, now, unit_of_work
from leadcall.core.errors import LeadcallError
from leadcall.core.scoping import Scope
from leadcall.settings import Settings
from leadcall.tenancy import passwords, service
from leadcall.tenancy.models import Role

app = typer.Typer(help="Users.", no_args_is_help=True)


@app.command("create")
def create(tenant_id: str = typer.Option(..., "--tenant"), org_id: str = typer.Option(..., "--org"),
           email: str = typer.Option(...), name: str = typer.Option(...),
           role: Role = typer.Option(Role.member),
           password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True,
                                        envvar="LEADCALL_NEW_USER_PASSWORD",
                                        help="At least 10 characters, not a common password.")) -> None:
    async def run() -> str:
        async with unit_of_work() as session:
            user = await service.create_user(session, Scope(tenant_id), email=email, name=name,
                                             password=password, role=role, organization_id=org_id, now=now())
            return user.id

    try:
        typer.echo(asyncio.run(run()))
    except LeadcallError as exc:
        raise fail(exc) from exc


@app.command("set-password", help="Set a user's password; every session of the user ends.")
def set_password(email: str = typer.Option(...),
                 password: str = typer.Option(..., prompt="New password", hide_input=True, confirmation_prompt=True,
                                              envvar="LEADCALL_NEW_USER_PASSWORD"),
                 revoke_tokens: bool = typer.Option(False, help="Also revoke the user's API tokens.")) -> None:
    async def run() -> passwords.PasswordChanged:
        async with unit_of_work() as session:
            return await passwords.set_password_by_email(session, email, password, now(),
                                                         revoke_tokens=revoke_tokens)

    try:
        changed = asyncio.run(run())
    except LeadcallError as exc:
        raise fail(exc) from exc
    typer.echo(f"Password set for {email}; sessions ended: {changed.ended_sessions}, "
               f"tokens revoked: {changed.revoked_tokens}.")


@app.command("reset-link", help="Print a password reset link for a user (it works once; hand it over yourself).")
def reset_link(email: str = typer.Option(...)) -> None:
    settings = Settings()

    async def run() -> tuple[str, str]:
        async with unit_of_work(settings) as session:
            row, secret = await passwords.issue_reset_by_email(session, email, now(),
                                                               settings.password_reset_valid_seconds)
            return passwords.reset_url(settings.public_base_url, secret), row.expires_at.isoformat()

    try:
        url, expires = asyncio.run(run())
    except LeadcallError as exc:
        raise fail(exc) from exc
    typer.echo(url)
    typer.secho(f"Valid once, until {expires}; earlier links of this user no longer work.", err=True,
                fg=typer.colors.YELLOW)
