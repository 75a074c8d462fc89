"""`leadcall doctor --account <id>`: checks of an ElevenLabs account (voice/doctor.py), read-only at ElevenLabs.

Only with `--call +E164` (and `--as <email>`, the seller the call is placed for) does it dial: one call, through
the normal placement path (CallService.place_call: calling rules, budget, the placement saga), to a lead it
creates for that number, and it follows the call to its end by polling ElevenLabs as the worker does.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import httpx
import typer

from leadcall.calls.models import TERMINAL
from leadcall.calls.service import CallService
from leadcall.calls.worker import CallWorker
from leadcall.cli._context import fail
from leadcall.core.db import transaction
from leadcall.core.errors import Invalid, LeadcallError, NotFound
from leadcall.kit.outbound import GuardedTransport
from leadcall.leads import schemas as lead_schemas
from leadcall.leads.service import create_lead, list_leads
from leadcall.runtime import runtime
from leadcall.settings import Settings
from leadcall.tenancy import repository as tenancy_repository
from leadcall.tenancy.service import principal_for
from leadcall.voice.doctor import Report, check_account, health_lines, inspect_key
from leadcall.voice.factory import VoiceProviderFactory
from leadcall.voice.targets import ProviderTargets
from leadcall.voice.types import ElevenLabsSettings

FOLLOW_SECONDS = 15 * 60
TEST_LEAD_NAME = "leadcall doctor (test call)"
Say = Callable[[str], None]


async def place_test_call(calls: CallService, worker: CallWorker, *, account_id: str, email: str, to_number: str,
                    agent_id: str | None, say: Say, pause: Callable[[], Awaitable[None]],
                    follow_seconds: float = FOLLOW_SECONDS) -> str:
    """Places one call for the user `email` to `to_number` with `agent_id` (default: the account's first agent
    the user may call with) and follows it until it ends; returns its final status."""
    async with transaction(calls.sessionmaker) as session:
        user = await tenancy_repository.unscoped_find_user_by_email(session, email)
        tenant = await tenancy_repository.unscoped_get_tenant(session, user.tenant_id) if user else None
        if user is None or tenant is None:
            raise NotFound(f"no user with the email {email}", code="not_found", params={"what": "user"})
        principal = principal_for(user, tenant, "session")
        agents = [a for a in await calls.voices.availability(session, tenant_id=tenant.id,
                                                             organization_id=principal.organization_id,
                                                             call_type=None)
                  if a.account.id == account_id]
        if not agents:
            raise NotFound(f"the account {account_id} has no agent {email} may call with", code="not_found",
                           params={"what": "agent"})
        chosen = agent_id or agents[0].info.agent_id
        if chosen not in {a.info.agent_id for a in agents}:
            raise Invalid(f"the agent {chosen} is not one of this account's agents {email} may call with",
                          code="agent_unknown", params={"agentId": chosen})
        # One test lead per number and team: a check run again (or refused by the calling rules) adds none.
        earlier = await list_leads(session, principal.scope, limit=50, cursor=None, search=TEST_LEAD_NAME, status=None,
                                   owner_id=None, organization_id=principal.organization_id)
        lead_id = next((lead.id for lead in earlier.items if lead.name == TEST_LEAD_NAME and lead.phone == to_number),
                       None)
        if lead_id is None:
            lead = await create_lead(session, principal, lead_schemas.LeadCreate(name=TEST_LEAD_NAME, phone=to_number),
                                     datetime.fromtimestamp(calls.clock.now(), UTC))
            lead_id = lead.id
    placed = await calls.place_call(principal, lead_id=lead_id, agent_id=chosen, call_type="qualification",
                                    idempotency_key=None)
    call_id = placed.call_log.id
    say(f"test call {call_id}: placed with agent {chosen} for lead {lead_id}, status {placed.call_log.status}")
    status = str(placed.call_log.status)
    waited_since = calls.clock.now()
    while status not in {s.value for s in TERMINAL}:
        if calls.clock.now() - waited_since > follow_seconds:
            say(f"test call {call_id}: still {status} after {int(follow_seconds)} s; the worker follows it on")
            return status
        await pause()
        await worker.run_once()
        async with transaction(calls.sessionmaker) as session:
            call = await calls.get_call(session, principal.tenant_scope, call_id)
            if call.status != status:
                status = call.status
                say(f"test call {call_id}: {status}")
    async with transaction(calls.sessionmaker) as session:
        call = await calls.get_call(session, principal.tenant_scope, call_id)
        say(f"test call {call_id}: ended {call.status}, phone result {call.phone_result}, outcome "
            f"{call.sales_result} ({call.outcome_source}), {call.duration_seconds or 0} s, cost {call.cost} "
            f"{call.cost_currency or ''}".rstrip())
        if call.failure_reason:
            say(f"  failure: {call.failure_reason}")
    return status


def doctor(account: str | None = typer.Option(None, "--account", help="The leadcall id of the ElevenLabs account."),
           api_key_env: str | None = typer.Option(None, "--api-key-env", help="Instead of an account: the name of "
                                                  "an environment variable holding an ElevenLabs API key (read-only "
                                                  "checks; the key is never printed)."),
           base_url: str = typer.Option("https://api.elevenlabs.io", "--base-url",
                                        help="With --api-key-env: the API's base URL."),
           call: str | None = typer.Option(None, "--call", help="Also place ONE real call to this E.164 number "
                                           "and follow it to its end (costs money)."),
           as_email: str | None = typer.Option(None, "--as", help="With --call: the email of the seller the "
                                               "call is placed for."),
           agent: str | None = typer.Option(None, "--agent", help="With --call: the ElevenLabs agent id."),
           show_patch: bool = typer.Option(False, "--show-patch", help="Print the agent PATCH body the analysis "
                                           "set-up sends to each agent.")) -> None:
    """Exits 1 when the key cannot be used (or the account is unknown); what it finds otherwise is printed."""
    if (account is None) == (api_key_env is None):
        raise fail(Invalid("name either --account <id> or --api-key-env <VARIABLE>"))
    if call is not None and (not as_email or account is None):
        raise fail(Invalid("--call needs --account <id> and --as <email>: the seller the call is placed for"))

    async def for_account(account_id: str) -> Report:
        settings = Settings()
        async with runtime(settings) as rt:
            async with transaction(rt.container.sessionmaker) as session:
                report = await check_account(session, rt.voices, account_id, public_base_url=settings.public_base_url,
                                             now=datetime.fromtimestamp(rt.container.clock.now(), UTC))
            for line in report.lines(show_patch=show_patch):
                typer.echo(line)
            async with transaction(rt.container.sessionmaker) as session:
                for line in await health_lines(session, rt.voices, account_id,
                                               datetime.fromtimestamp(rt.container.clock.now(), UTC)):
                    typer.echo(line)
            if call is not None and as_email is not None and report.connection_ok:
                await place_test_call(rt.calls, rt.worker, account_id=account_id, email=as_email, to_number=call,
                                      agent_id=agent, say=typer.echo, pause=lambda: asyncio.sleep(2))
            return report

    async def for_key(variable: str) -> Report:
        key = os.environ.get(variable, "").strip()
        if not key:
            raise Invalid(f"the environment variable {variable} holds no API key")
        settings = Settings()
        targets = ProviderTargets.from_settings(settings.provider_hosts, settings.allow_private_targets)
        targets.check("elevenlabs", base_url)
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0),
                                     transport=GuardedTransport(targets.policy("elevenlabs"))) as http:
            provider = VoiceProviderFactory(http=http).build("elevenlabs",
                                                             ElevenLabsSettings(api_key=key, base_url=base_url))
            try:
                report = await inspect_key(provider, label=f"the API key in {variable} ({base_url})")
            finally:
                await provider.aclose()
        for line in report.lines(show_patch=show_patch):
            typer.echo(line)
        return report

    try:
        report = asyncio.run(for_account(account) if account is not None else for_key(str(api_key_env)))
    except LeadcallError as exc:
        raise fail(exc) from exc
    if not report.connection_ok:
        raise typer.Exit(code=1)
