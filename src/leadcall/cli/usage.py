from __future__ import annotations

import asyncio

import typer

from leadcall.calls import rollups
from leadcall.cli._context import fail, unit_of_work
from leadcall.core.errors import LeadcallError
from leadcall.core.scoping import Scope
from leadcall.tenancy.service import get_tenant

app = typer.Typer(help="The daily usage rollups the usage report reads.", no_args_is_help=True)


@app.command("verify", help="Compare the rollups with the same GROUP BY over the raw calls; exit 1 on a difference.")
def verify(tenant_id: str | None = typer.Option(None, "--tenant", help="Only this tenant.")) -> None:
    async def run() -> list[tuple[str, int]]:
        async with unit_of_work() as session:
            if tenant_id is not None:
                await get_tenant(session, Scope(tenant_id))  # an unknown id: 'tenant not found'
            tenants = [tenant_id] if tenant_id is not None else await rollups.unscoped_tenant_ids(session)
            found = []
            for tenant in tenants:
                wrong = await rollups.differences(session, tenant)
                for key, rolled, raw in wrong:
                    typer.echo(f"{tenant} {key[1]} {key[2]} {key[3]}={key[4]!r} {key[5]!r}: "
                               f"rollup {rolled}, calls {raw}")
                found.append((tenant, len(wrong)))
            return found

    try:
        found = asyncio.run(run())
    except LeadcallError as exc:
        raise fail(exc) from exc
    wrong = sum(n for _t, n in found)
    typer.echo(f"{len(found)} tenant(s) checked, {wrong} difference(s) (calls, answered, seconds, cost in 1/10,000)")
    if wrong:
        raise typer.Exit(code=1)


@app.command("rebuild", help="Write a tenant's rollups afresh from its calls (after loading calls in bulk).")
def rebuild(tenant_id: str = typer.Option(..., "--tenant")) -> None:
    async def run() -> None:
        async with unit_of_work() as session:
            await get_tenant(session, Scope(tenant_id))
            await rollups.rebuild(session, tenant_id)

    try:
        asyncio.run(run())
    except LeadcallError as exc:
        raise fail(exc) from exc
    typer.echo(f"rollups of tenant {tenant_id} rebuilt")
