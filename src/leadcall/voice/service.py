"""ElevenLabs accounts and local agent rules. Services never commit."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.core.db import transaction
from leadcall.core.errors import Conflict, Invalid, NotFound
from leadcall.core.scoping import Scope
from leadcall.core.secrets import SecretBox
from leadcall.kit.clock import Clock, utc_datetime
from leadcall.tenancy.principal import Permission, Principal
from leadcall.tenancy.repository import OrganizationRepository
from leadcall.voice import health, schemas
from leadcall.voice.availability import AccountState, AgentAvailability
from leadcall.voice.manager import VoiceManager
from leadcall.voice.models import ELEVENLABS_API, TWILIO_API, ElevenLabsAccount, VoiceAgent
from leadcall.voice.repository import (
    AccountRepository,
    AgentRepository,
    HealthRepository,
    ListingRepository,
    unscoped_accounts_at,
    unscoped_all_accounts,
    unscoped_get_account,
)
from leadcall.voice.schemas import CALL_TYPES
from leadcall.voice.targets import ProviderTargets
from leadcall.voice.types import AgentInfo, AgentUpdate


def webhook_url(public_base_url: str, account_id: str) -> str:
    return f"{public_base_url.rstrip('/')}/api/webhooks/elevenlabs/transcription?account={account_id}"


def account_view(account: ElevenLabsAccount, box: SecretBox, public_base_url: str) -> schemas.Account:
    return schemas.Account(
        id=account.id, name=account.name, api_key_masked="…" + account.api_key_last4,
        has_webhook_secret=account.webhook_secret_encrypted is not None, base_url=account.base_url,
        is_active=account.is_active, concurrency_limit=account.concurrency_limit,
        default_phone_number_id=account.default_phone_number_id,
        usd_to_currency_rate=account.usd_to_currency_rate, price_per_1000_credits=account.price_per_1000_credits,
        twilio_account_sid=account.twilio_account_sid,
        has_twilio_auth_token=account.twilio_auth_token_encrypted is not None,
        webhook_url=webhook_url(public_base_url, account.id), created_at=account.created_at,
        updated_at=account.updated_at, last_checked_at=account.last_checked_at,
        last_check_ok=account.last_check_ok, last_check_detail=account.last_check_detail,
        last_check_code=account.last_check_code, last_check_params=account.last_check_params or {})


async def list_accounts(session: AsyncSession, scope: Scope) -> list[ElevenLabsAccount]:
    return await AccountRepository(session, scope).list()


async def get_account(session: AsyncSession, scope: Scope, account_id: str) -> ElevenLabsAccount:
    return await AccountRepository(session, scope).get(account_id)


async def _flush_unique(session: AsyncSession, name: str) -> None:
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"an ElevenLabs account named '{name}' already exists", code="account_name_taken",
                       params={"name": name}) from exc


async def create_account(session: AsyncSession, scope: Scope, box: SecretBox, data: schemas.AccountCreate,
                         now: datetime, *, targets: ProviderTargets) -> ElevenLabsAccount:
    api_key = data.api_key.strip()
    account = ElevenLabsAccount(
        tenant_id=scope.tenant_id, name=data.name.strip(), api_key_encrypted=box.encrypt(api_key),
        api_key_last4=api_key[-4:],
        webhook_secret_encrypted=box.encrypt(data.webhook_secret.strip()) if data.webhook_secret else None,
        base_url=targets.check("elevenlabs", str(data.base_url)) if data.base_url else ELEVENLABS_API,
        is_active=data.is_active,
        concurrency_limit=data.concurrency_limit, default_phone_number_id=data.default_phone_number_id,
        usd_to_currency_rate=data.usd_to_currency_rate, price_per_1000_credits=data.price_per_1000_credits,
        twilio_account_sid=data.twilio_account_sid,
        twilio_auth_token_encrypted=box.encrypt(data.twilio_auth_token) if data.twilio_auth_token else None,
        twilio_base_url=targets.check("twilio", str(data.twilio_base_url)) if data.twilio_base_url else TWILIO_API,
        created_at=now, updated_at=now)
    AccountRepository(session, scope).add(account)
    await _flush_unique(session, account.name)
    return account


async def update_account(session: AsyncSession, scope: Scope, box: SecretBox, manager: VoiceManager,
                         data: schemas.AccountUpdate, now: datetime) -> ElevenLabsAccount:
    account = await AccountRepository(session, scope).get(data.id)
    given = data.model_fields_set
    if data.name is not None:
        account.name = data.name.strip()
    if data.api_key is not None:
        account.api_key_encrypted = box.encrypt(data.api_key.strip())
        account.api_key_last4 = data.api_key.strip()[-4:]
    if "webhook_secret" in given:
        account.webhook_secret_encrypted = box.encrypt(data.webhook_secret.strip()) if data.webhook_secret else None
    if "twilio_auth_token" in given:
        account.twilio_auth_token_encrypted = (box.encrypt(data.twilio_auth_token) if data.twilio_auth_token
                                               else None)
    if data.base_url is not None:
        account.base_url = manager.targets.check("elevenlabs", str(data.base_url))
    if data.twilio_base_url is not None:
        account.twilio_base_url = manager.targets.check("twilio", str(data.twilio_base_url))
    for field in ("is_active", "concurrency_limit", "usd_to_currency_rate", "price_per_1000_credits"):
        value = getattr(data, field)
        if value is not None:
            setattr(account, field, value)
    for field in ("default_phone_number_id", "twilio_account_sid"):
        if field in given:
            setattr(account, field, getattr(data, field) or None)
    account.updated_at = now
    await _flush_unique(session, account.name)
    await manager.forget_account(account.id)
    if data.api_key is not None or data.base_url is not None:
        await manager.listings.discard(session, account)  # its agents may be another workspace's now
    return account


async def delete_account(session: AsyncSession, scope: Scope, manager: VoiceManager, account_id: str) -> None:
    account = await AccountRepository(session, scope).get(account_id)
    await session.delete(account)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise Conflict("this account has call history; disable it instead of deleting it",
                       code="account_has_history") from exc
    await manager.forget_account(account_id)


async def test_connection(session: AsyncSession, scope: Scope, manager: VoiceManager, data: schemas.ConnectionTest,
                          now: datetime) -> schemas.ConnectionResult:
    account: ElevenLabsAccount | None = None
    if data.config_id:
        account = await AccountRepository(session, scope).get(data.config_id)
        provider = manager.provider(account)
    elif data.api_key:
        base_url = manager.targets.check("elevenlabs", str(data.base_url)) if data.base_url else ELEVENLABS_API
        provider = manager.provider_for_key(data.api_key.strip(), base_url)
    else:
        raise Invalid("send either configId (a saved account) or apiKey (a key to try)")
    check = await manager.test_connection(provider)
    agents_found: int | None = None
    if check.ok:
        try:
            agents_found = len(await provider.list_agents())
        except Exception:  # noqa: BLE001 - the probe already answered; the count is a courtesy
            agents_found = None
    if account is not None:
        account.last_checked_at = now
        account.last_check_ok = check.ok
        account.last_check_detail = check.detail[:300]
        account.last_check_code = check.code
        account.last_check_params = dict(check.params)
        await session.flush()
    return schemas.ConnectionResult(ok=check.ok, detail=check.detail, missing_permission=check.missing_permission,
                                    agents_found=agents_found, code=check.code, params=check.params)


def available_agent(i: AgentAvailability) -> schemas.AvailableAgent:
    return schemas.AvailableAgent(
        id=i.ref.id, agent_id=i.info.agent_id, name=i.info.name, config_id=i.account.id,
        account_name=i.account.name, language=i.info.language, voice_id=i.info.voice_id,
        voice_name=i.voice.name if i.voice else None, voice_preview_url=i.voice.preview_url if i.voice else None,
        tags=sorted(set(i.info.tags) | set(i.ref.tags)), specialty=i.ref.specialty,
        available=i.unavailable is None, unavailable_reason=i.unavailable_reason,
        unavailable_code=i.unavailable.code if i.unavailable else None,
        unavailable_values=i.unavailable.values if i.unavailable else {}, live_calls=i.live_calls,
        max_concurrent_calls=i.ref.max_concurrent_calls)


def account_state(state: AccountState) -> schemas.AccountListingState:
    problem = state.problem
    return schemas.AccountListingState(
        id=state.account.id, name=state.account.name, ok=problem is None, code=problem.code if problem else None,
        detail=problem.detail if problem else None,
        listed_at=datetime.fromtimestamp(state.listed_at, UTC) if state.listed_at is not None else None)


def agent_details(account: ElevenLabsAccount, info: AgentInfo) -> schemas.AgentDetails:
    return schemas.AgentDetails(
        config_id=account.id, agent_id=info.agent_id, name=info.name, language=info.language,
        first_message=info.first_message, prompt=info.prompt, voice_id=info.voice_id, tags=list(info.tags),
        concurrency_limit=info.concurrency_limit,
        phone_numbers=[schemas.PhoneNumber(phone_number_id=p.phone_number_id, number=p.number, label=p.label,
                                           kind=str(p.kind), assigned_agent_id=p.assigned_agent_id)
                       for p in info.phone_numbers])


async def visible_agent_details(session: AsyncSession, principal: Principal, manager: VoiceManager, config_id: str,
                                agent_id: str) -> schemas.AgentDetails:
    """One agent's configuration, prompt included. Those who manage agents see every agent of the tenant;
    anyone else only the agents their team may use: any other answers 404, as an agent that does not exist."""
    account = await get_account(session, principal.tenant_scope, config_id)
    if not principal.can(Permission.manage_agents):
        refs = await AgentRepository(session, principal.tenant_scope).for_accounts([account.id])
        ref = next((r for r in refs if r.agent_id == agent_id), None)
        if ref is None or (ref.allowed_organization_ids and principal.organization_id not in ref.allowed_organization_ids):
            raise NotFound("agent not found", code="not_found", params={"what": "agent"})
    return agent_details(account, await manager.agent_info(session, account, agent_id))


async def update_agent(session: AsyncSession, scope: Scope, manager: VoiceManager,
                       data: schemas.AgentUpdateRequest) -> schemas.AgentDetails:
    account = await AccountRepository(session, scope).get(data.config_id)
    await manager.agent_info(session, account, data.agent_id)  # 404 for an agent of another account
    update = AgentUpdate(name=data.name, first_message=data.first_message, prompt=data.prompt,
                         language=data.language, voice_id=data.voice_id,
                         tags=tuple(data.tags) if data.tags is not None else None)
    return agent_details(account, await manager.update_agent(session, account, data.agent_id, update))


async def list_agent_settings(session: AsyncSession, scope: Scope,
                              names: dict[str, str]) -> list[schemas.AgentSettings]:
    """Every agent reference of the tenant with its local rules; `names` maps reference id → agent name."""
    return [agent_settings(r, names.get(r.id)) for r in await AgentRepository(session, scope).list_all()]


def agent_settings(ref: VoiceAgent, name: str | None) -> schemas.AgentSettings:
    return schemas.AgentSettings(
        id=ref.id, agent_id=ref.agent_id, config_id=ref.account_id, name=name, is_enabled=ref.is_enabled,
        specialty=ref.specialty, tags=list(ref.tags), allowed_organization_ids=list(ref.allowed_organization_ids),
        allowed_call_types=list(ref.allowed_call_types), max_concurrent_calls=ref.max_concurrent_calls,
        calls_placed=ref.calls_placed, last_called_at=ref.last_called_at)


async def update_agent_settings(session: AsyncSession, scope: Scope, ref_id: str,
                                data: schemas.AgentSettingsUpdate, now: datetime) -> VoiceAgent:
    ref = await AgentRepository(session, scope).get(ref_id)
    given = data.model_fields_set
    if data.allowed_organization_ids is not None:
        orgs = {o.id for o in await OrganizationRepository(session, scope).list()}
        unknown = [o for o in data.allowed_organization_ids if o not in orgs]
        if unknown:
            raise Invalid(f"unknown organization id(s): {', '.join(unknown)}", extra={"field": "allowedOrganizationIds"})
        ref.allowed_organization_ids = list(dict.fromkeys(data.allowed_organization_ids))
    if data.allowed_call_types is not None:
        bad = [c for c in data.allowed_call_types if c not in CALL_TYPES]
        if bad:
            raise Invalid(f"unknown call type(s): {', '.join(bad)}; use {', '.join(CALL_TYPES)}",
                          extra={"field": "allowedCallTypes"})
        ref.allowed_call_types = list(dict.fromkeys(data.allowed_call_types))
    if data.tags is not None:
        ref.tags = [t.strip() for t in data.tags if t.strip()]
    if data.is_enabled is not None:
        ref.is_enabled = data.is_enabled
    if "specialty" in given:
        ref.specialty = (data.specialty or "").strip() or None
    if "max_concurrent_calls" in given:
        ref.max_concurrent_calls = data.max_concurrent_calls
    ref.updated_at = now
    await session.flush()
    return ref


async def linked_webhook_urls(session: AsyncSession, box: SecretBox, api_base_url: str,
                              public_base_url: str) -> dict[str, str]:
    """For accounts served by `api_base_url`: API key → the webhook URL that account should call."""
    return {box.decrypt(a.api_key_encrypted): webhook_url(public_base_url, a.id)
            for a in await unscoped_accounts_at(session, api_base_url)}


async def unscoped_rotate_secrets(session: AsyncSession, box: SecretBox) -> int:
    """Re-encrypts every stored provider secret (all tenants) under the newest key; returns accounts touched."""
    accounts = await unscoped_all_accounts(session)
    for account in accounts:
        account.api_key_encrypted = box.rotate(account.api_key_encrypted)
        if account.webhook_secret_encrypted:
            account.webhook_secret_encrypted = box.rotate(account.webhook_secret_encrypted)
        if account.twilio_auth_token_encrypted:
            account.twilio_auth_token_encrypted = box.rotate(account.twilio_auth_token_encrypted)
    await session.flush()
    return len(accounts)


async def accounts_health(session: AsyncSession, scope: Scope, voices: VoiceManager,
                          accounts: list[ElevenLabsAccount], now: datetime) -> dict[str, schemas.AccountHealthView]:
    """Each account's health (voice/health.py): stored observations and call figures, no ElevenLabs request."""
    ids = [a.id for a in accounts]
    activity = await voices.account_activity.account_activity(session, scope, ids, now=now)
    rows = await HealthRepository(session, scope).for_accounts(ids)
    _, live = await voices.live_call_counter.live_calls(session, scope.tenant_id)
    listings = ListingRepository(session, scope)
    views: dict[str, schemas.AccountHealthView] = {}
    for account in accounts:
        listing = await listings.for_account(account.id)
        listing_problem = (health.ProviderProblem(listing.problem_code, listing.problem_detail or "",
                                                  listing.checked_at, "listing")
                           if listing is not None and listing.problem_code else None)
        found = health.assemble(activity.get(account.id, health.AccountActivity()), rows.get(account.id),
                                listing_problem, account.concurrency_limit, live.get(account.id, 0), now)
        views[account.id] = health_view(found)
    return views


def health_view(h: health.Health) -> schemas.AccountHealthView:
    a, row, problem = h.activity, h.row, h.last_provider_error
    return schemas.AccountHealthView(
        status="warning" if h.warnings else "ok",
        warnings=[schemas.HealthWarningView(code=w.code, params=w.params) for w in h.warnings],
        last_webhook_at=a.last_webhook_at,
        last_webhook_age_seconds=int((h.now - a.last_webhook_at).total_seconds()) if a.last_webhook_at else None,
        webhooks_refused=row.refused_count if row else 0, last_refused_at=row.refused_at if row else None,
        last_refused_detail=row.refused_detail if row else None, unapplied_webhooks=a.unapplied_webhooks,
        workspace_webhook=schemas.WorkspaceWebhookView(
            state=row.webhook_state if row else None,
            detail=row.webhook_detail if row else None, url=row.webhook_seen_url if row else None,
            checked_at=row.webhook_checked_at if row else None,
            last_failure_code=row.webhook_failure_code if row else None,
            last_failure_at=row.webhook_failure_at if row else None),
        window_hours=int(health.WINDOW.total_seconds() // 3600), calls_ended=a.calls_ended,
        polling_only_calls=a.polling_only,
        last_provider_error=schemas.ProviderProblemView(code=problem.code, detail=problem.detail, at=problem.at,
                                                        where=problem.where)
        if problem else None,
        live_calls=h.live_calls, concurrency_limit=h.concurrency_limit,
        remaining_concurrency=max(0, h.concurrency_limit - h.live_calls))


async def unscoped_check_all_webhooks(sessionmaker: async_sessionmaker[AsyncSession], voices: VoiceManager,
                                      public_base_url: str, clock: Clock) -> int:
    """The worker's chore: every active account's post-call webhook read again (every tenant), one transaction
    each, so one account ElevenLabs does not answer for costs the others nothing."""
    async with transaction(sessionmaker) as session:
        ids = [a.id for a in await unscoped_all_accounts(session) if a.is_active]
    for account_id in ids:
        async with transaction(sessionmaker) as session:
            account = await unscoped_get_account(session, account_id)
            if account is None:
                continue
            provider, expected = voices.provider(account), webhook_url(public_base_url, account.id)
            session.expunge(account)
        # ElevenLabs is asked outside any transaction: a slow or silent API must never hold the database (on
        # SQLite, the one write lock every placement and webhook waits for) while it answers.
        check = await health.check_webhook(provider, expected)
        async with transaction(sessionmaker) as session:
            await health.store_check(session, account, check, utc_datetime(clock))
    return len(ids)
