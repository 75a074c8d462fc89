from __future__ import annotations

import asyncio

import typer

from leadcall.cli._context import fail, unit_of_work
from leadcall.core.errors import LeadcallError
from leadcall.core.scoping import Scope
from leadcall.retention import schemas, service
from leadcall.tenancy.service import get_tenant

app = typer.Typer(help="How long call transcripts, summaries and recordings are kept.", no_args_is_help=True)


def _say(policy: schemas.RetentionPolicy) -> str:
    kept = f"{policy.days} days" if policy.days is not None else "forever"
    where = "deleted at ElevenLabs too" if policy.delete_at_provider else "kept at ElevenLabs"
    return (f"content kept {kept}; conversations {where}; "
            f"{policy.pending_deletions} deletion(s) pending, {policy.failed_deletions} failed")


@app.command("show", help="Print a tenant's retention.")
def show(tenant_id: str = typer.Option(..., "--tenant")) -> None:
    async def run() -> schemas.RetentionPolicy:
        async with unit_of_work() as session:
            await get_tenant(session, Scope(tenant_id))  # an unknown id: 'tenant not found'
            return await service.get_policy(session, tenant_id)

    try:
        typer.echo(_say(asyncio.run(run())))
    except LeadcallError as exc:
        raise fail(exc) from exc


@app.command("set", help="Set a tenant's retention: --days N (or --forever), and whether ElevenLabs deletes too.")
def set_policy(tenant_id: str = typer.Option(..., "--tenant"),
               days: int | None = typer.Option(None, min=1, max=schemas.MAX_RETENTION_DAYS,
                                               help="Remove content this many days after the call."),
               forever: bool = typer.Option(False, "--forever", help="Keep content forever."),
               delete_at_provider: bool = typer.Option(False, "--delete-at-provider/--keep-at-provider",
                                                       help="Also delete the conversations at ElevenLabs.")) -> None:
    if (days is None) == (not forever):
        typer.secho("error: give either --days N or --forever", fg=typer.colors.RED, err=True)
        raise typer.Exit(code=2)

    async def run() -> schemas.RetentionPolicy:
        async with unit_of_work() as session:
            await get_tenant(session, Scope(tenant_id))  # an unknown id: 'tenant not found'
            return await service.put_policy(session, tenant_id, schemas.RetentionPolicyUpdate(
                days=days, delete_at_provider=delete_at_provider))

    try:
        typer.echo(_say(asyncio.run(run())))
    except LeadcallError as exc:
        raise fail(exc) from exc


@app.command("run", help="Apply retention now (the worker does it every hour) and send pending deletions.")
def run_now(tenant_id: str | None = typer.Option(None, "--tenant", help="Only this tenant.")) -> None:
    from leadcall.runtime import runtime
    from leadcall.settings import Settings

    async def run() -> schemas.RetentionRun:
        async with runtime(Settings()) as rt:
            return await rt.retention.sweep(tenant_id)

    done = asyncio.run(run())
    typer.echo(f"{done.calls} call(s) lost their content, {done.webhooks} webhook(s) emptied, "
               f"{done.deletions_requested} conversation(s) queued for deletion at ElevenLabs, "
               f"{done.deleted_at_provider} deleted there, {done.deletion_failures} failed (tried again later)")
