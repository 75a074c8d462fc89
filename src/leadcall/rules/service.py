"""The one eligibility check (`RulesService.may_dial`) and the settings it reads.

Every dial path calls `may_dial` inside the placement's reservation, after the tenant's placement
lock is taken (see calls.service `_reserve`): attempts are counted from the call rows, and the
reservation inserts its own `initiating` row before the lock is released, so two racing placements
to one number cannot both pass a cap. Refusals come in a fixed order (number_on_dnc, no_consent,
attempts_exhausted, outside_calling_hours); the first is the answer's `code`, all of them are listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.calls.models import CallLog, CallStatus
from leadcall.core.db import transaction
from leadcall.core.errors import Conflict, Forbidden, LeadcallError
from leadcall.core.scoping import Scope
from leadcall.kit.clock import Clock, utc_datetime
from leadcall.leads.dnc import DncRepository, lead_event
from leadcall.leads.models import DncEntry, Lead
from leadcall.leads.repository import LeadRepository
from leadcall.rules.hours import WEEKDAYS, Window, allowed_at, next_allowed_at, window
from leadcall.rules.models import TENANT_SCOPE_KEY, CallingRules, LeadConsent
from leadcall.rules.regions import RegionRule, rules_for
from leadcall.tenancy.models import Role, Tenant
from leadcall.tenancy.principal import Principal

DEFAULT_WINDOWS: tuple[Window, ...] = (window(WEEKDAYS, "09:00", "20:00"),)
DEFAULT_MAX_PER_24H: int | None = None  # a tenant sets its own cap; regional rules (Florida) cap by default
ORDER = ("lead_has_no_phone", "number_on_dnc", "no_consent", "attempts_exhausted", "outside_calling_hours")


@dataclass(frozen=True)
class Rules:
    organization_id: str | None
    inherited: bool
    windows: tuple[Window, ...]
    max_attempts_per_24h: int | None
    max_attempts_total: int | None
    require_consent: bool
    region_rules: bool
    updated_at: datetime | None


@dataclass(frozen=True)
class Refusal:
    code: str
    params: dict[str, Any]
    detail: str


@dataclass
class Verdict:
    local_time: datetime
    timezone: str
    timezones: list[str]
    timezone_source: str
    refusals: list[Refusal] = field(default_factory=list)
    next_allowed_at: datetime | None = None

    @property
    def allowed(self) -> bool:
        return not self.refusals

    def error(self) -> DialRefused:
        return DialRefused(self)


class DialRefused(Conflict):
    """409: the calling rules refuse this dial now. `code`/`params` name the first reason; `refusals`
    lists all of them and `nextAllowedAt` says when a call would be allowed (null: not by waiting)."""

    def __init__(self, verdict: Verdict) -> None:
        first = verdict.refusals[0]
        super().__init__(first.detail, code=first.code, params=first.params, extra={
            "refusals": [{"code": r.code, "params": r.params, "detail": r.detail} for r in verdict.refusals],
            "nextAllowedAt": iso(verdict.next_allowed_at)})
        self.verdict = verdict


def iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z") if at is not None else None


def parse_zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def tenant_zone(tenant: Tenant) -> ZoneInfo:
    """The tenant's own zone, else its country's (when the country has one zone), else UTC."""
    own = parse_zone(tenant.timezone)
    if own is not None:
        return own
    example = phonenumbers.example_number(tenant.default_country or "US")
    if example is not None:
        zones = [z for z in phone_timezones.time_zones_for_number(example) if z != "Etc/Unknown"]
        if len(zones) == 1 and (zone := parse_zone(zones[0])) is not None:
            return zone
    return ZoneInfo("UTC")


def zones_for(lead: Lead, tenant: Tenant) -> tuple[list[ZoneInfo], str]:
    own = parse_zone(lead.timezone)
    if own is not None:
        return [own], "lead"
    if lead.phone:
        try:
            number = phonenumbers.parse(lead.phone, None)
        except phonenumbers.NumberParseException:
            number = None
        if number is not None:
            zones = [z for name in phone_timezones.time_zones_for_number(number)
                     if name != "Etc/Unknown" and (z := parse_zone(name)) is not None]
            if zones:
                return zones, "phone"
    return [tenant_zone(tenant)], "tenant"


def lead_zone(lead: Lead, tenant: Tenant) -> ZoneInfo:
    """The one zone the lead's clock is read in: the first of `zones_for`."""
    return zones_for(lead, tenant)[0][0]


def rules_from_rows(rows: list[CallingRules], organization_id: str | None) -> Rules:
    by_key = {r.scope_key: r for r in rows}
    row = by_key.get(organization_id) if organization_id else None
    inherited = row is None
    row = row or by_key.get(TENANT_SCOPE_KEY)
    if row is None:
        return Rules(organization_id, True, DEFAULT_WINDOWS, DEFAULT_MAX_PER_24H, None, False, True, None)
    windows = tuple(window(w["days"], str(w["start"]), str(w["end"])) for w in row.windows  # type: ignore[arg-type]
                    if isinstance(w, dict))
    return Rules(organization_id, inherited and organization_id is not None, windows, row.max_attempts_per_24h,
                 row.max_attempts_total, row.require_consent, row.region_rules, row.updated_at)


async def load_rules(session: AsyncSession, tenant_id: str, organization_id: str | None) -> Rules:
    keys = [TENANT_SCOPE_KEY] + ([organization_id] if organization_id else [])
    rows = list((await session.execute(select(CallingRules).where(
        CallingRules.tenant_id == tenant_id, CallingRules.scope_key.in_(keys)))).scalars())
    return rules_from_rows(rows, organization_id)


@dataclass
class DialMemo:
    """What one evaluation of many leads at one moment shares (a campaign's preview and start): the tenant, the
    rules per organization, and the do-not-call entries of the leads' numbers read at once. Never for a
    placement: the dial itself asks `may_dial` afresh."""

    tenants: dict[str, Tenant] = field(default_factory=dict)
    rules: dict[tuple[str, str | None], Rules] = field(default_factory=dict)
    dnc: dict[str, DncEntry] = field(default_factory=dict)


async def dial_memo(session: AsyncSession, tenant_id: str, leads: list[Lead]) -> DialMemo:
    memo = DialMemo()
    phones = sorted({lead.phone for lead in leads if lead.phone})
    repo = DncRepository(session, Scope(tenant_id))
    for start in range(0, len(phones), 1000):
        memo.dnc.update(await repo.by_phones(phones[start:start + 1000]))
    return memo


def _attempt_filter(tenant_id: str, phone: str) -> list[Any]:
    """A dial that reached the provider: everything but a refusal before dialling (failed, no conversation).
    Calls still `initiating` count too: they are dials in flight."""
    return [CallLog.tenant_id == tenant_id, CallLog.to_number == phone,
            or_(CallLog.status != CallStatus.failed.value, CallLog.conversation_id.is_not(None))]


def _hhmm(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%H:%M")


class RulesService:
    """`check` and `note_refusal` are the placement's hooks (calls.service.PlacementHooks)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], clock: Clock) -> None:
        self.sessionmaker = sessionmaker
        self.clock = clock

    async def check(self, session: AsyncSession, lead: Lead, at: datetime, principal: Principal,
                    hours_override: str | None = None, path: str = "placement") -> None:
        """Refuses the dial (409) unless every rule allows it. An admin's `hours_override` lets this one call
        through the calling hours (no other rule), and is kept in the lead's audit trail with the call."""
        verdict = await self.may_dial(session, lead, at, path=path)
        if hours_override is not None:
            if principal.role is not Role.admin:
                raise Forbidden("only an admin may place a call outside the calling hours",
                                code="override_admin_only")
            hours = [r for r in verdict.refusals if r.code == "outside_calling_hours"]
            verdict.refusals = [r for r in verdict.refusals if r.code != "outside_calling_hours"]
            if hours and verdict.allowed:
                session.add(lead_event(lead, at=at, kind="hours_overridden", code="outside_calling_hours",
                                       params=_jsonable(hours[0].params), detail=hours_override,
                                       actor_id=principal.user_id, actor_name=principal.email))
        if not verdict.allowed:
            raise verdict.error()

    async def note_refusal(self, principal: Principal, lead_id: str, error: LeadcallError) -> None:
        """A refused placement in the lead's audit trail (its own unit of work: the reservation rolled back)."""
        if error.code in (None, "not_found"):
            return
        async with transaction(self.sessionmaker) as session:
            lead = await LeadRepository(session, principal.scope).find(lead_id)
            if lead is None:
                return
            session.add(lead_event(lead, at=utc_datetime(self.clock), kind="placement_refused", code=error.code,
                                   params=_jsonable(error.params), detail=error.detail, actor_id=principal.user_id,
                                   actor_name=principal.email))

    async def may_dial(self, session: AsyncSession, lead: Lead, at: datetime, *, path: str = "api",
                       memo: DialMemo | None = None) -> Verdict:
        """Whether `lead` may be dialled at `at` by `path` (placement, callback, campaign, api): all refusals.
        `memo` (a read of many leads at one moment) spares reading the same tenant, rules and list again."""
        tenant = memo.tenants.get(lead.tenant_id) if memo is not None else None
        if tenant is None:
            tenant = (await session.execute(select(Tenant).where(Tenant.id == lead.tenant_id))).scalar_one()
            if memo is not None:
                memo.tenants[lead.tenant_id] = tenant
        zones, source = zones_for(lead, tenant)
        verdict = Verdict(local_time=at.astimezone(zones[0]), timezone=zones[0].key,
                          timezones=[z.key for z in zones], timezone_source=source)
        if not lead.phone:
            verdict.refusals.append(Refusal(code="lead_has_no_phone", params={},
                                            detail="lead has no phone number; add one before calling"))
            return verdict
        rules = memo.rules.get((lead.tenant_id, lead.organization_id)) if memo is not None else None
        if rules is None:
            rules = await load_rules(session, lead.tenant_id, lead.organization_id)
            if memo is not None:
                memo.rules[(lead.tenant_id, lead.organization_id)] = rules
        regions = rules_for(lead.phone) if rules.region_rules else []
        await self._dnc(session, lead, verdict, memo)
        if rules.require_consent and not await self._has_consent(session, lead):
            verdict.refusals.append(Refusal(code="no_consent", params={}, detail=(
                "your team calls only leads who gave their consent; record the lead's consent before calling")))
        free_at = await self._attempts(session, lead, at, rules, regions, verdict)
        window_sets = [rules.windows, *[r.windows for r in regions]]
        in_hours = allowed_at(at, zones, window_sets)
        blocked_for_good = any(r.code in ("number_on_dnc", "no_consent") for r in verdict.refusals) or (
            free_at is None and any(r.code == "attempts_exhausted" for r in verdict.refusals))
        next_at = None if blocked_for_good else next_allowed_at(at, zones, window_sets, not_before=free_at)
        if not in_hours:
            zone = zones[0]
            when = (f"; next allowed {next_at.astimezone(zone):%a %Y-%m-%d %H:%M} {zone.key}" if next_at
                    else "; no calling window opens in the next two weeks")
            verdict.refusals.append(Refusal(code="outside_calling_hours", params={
                "localTime": at.astimezone(zone).isoformat(), "localClock": _hhmm(at, zone), "timezone": zone.key,
                "timezones": verdict.timezones,
                "nextAllowedAt": iso(next_allowed_at(at, zones, window_sets)),
                "regions": [r.id for r in regions]},
                detail=f"it is {_hhmm(at, zone)} for the lead ({zone.key}), outside the calling hours{when}"))
        verdict.refusals.sort(key=lambda r: ORDER.index(r.code))
        verdict.next_allowed_at = next_at if verdict.refusals else None
        return verdict

    async def _dnc(self, session: AsyncSession, lead: Lead, verdict: Verdict, memo: DialMemo | None = None) -> None:
        assert lead.phone is not None
        entry = (memo.dnc.get(lead.phone) if memo is not None
                 else await DncRepository(session, Scope(lead.tenant_id)).by_phone(lead.phone))
        if entry is not None:
            reason = entry.reason or "no reason given"
            verdict.refusals.append(Refusal(code="number_on_dnc", params={
                "reason": reason, "since": iso(entry.created_at), "sinceDate": f"{entry.created_at:%Y-%m-%d}",
                "source": entry.source, "phone": entry.phone},
                detail=f"{entry.phone} is on your do-not-call list ({reason}) since {entry.created_at:%Y-%m-%d}"))
        elif lead.do_not_call:  # a flag set before the number list existed
            reason = lead.do_not_call_reason or "no reason given"
            verdict.refusals.append(Refusal(code="number_on_dnc", params={
                "reason": reason, "since": iso(lead.updated_at), "sinceDate": f"{lead.updated_at:%Y-%m-%d}",
                "source": "lead_flag", "phone": lead.phone},
                detail=f"{lead.phone} is on your do-not-call list ({reason})"))

    async def _has_consent(self, session: AsyncSession, lead: Lead) -> bool:
        found = await session.execute(select(LeadConsent.id).where(
            LeadConsent.tenant_id == lead.tenant_id, LeadConsent.lead_id == lead.id,
            LeadConsent.revoked_at.is_(None)).limit(1))
        return found.first() is not None

    async def _attempts(self, session: AsyncSession, lead: Lead, at: datetime, rules: Rules,
                        regions: list[RegionRule], verdict: Verdict) -> datetime | None:
        """Adds an attempts refusal when a cap is reached; answers when the 24-hour cap frees up again
        (None when no cap is reached, or when the total cap is: waiting does not help)."""
        assert lead.phone is not None
        caps = [c for c in (rules.max_attempts_per_24h, *[r.max_attempts_per_24h for r in regions]) if c]
        per_day = min(caps) if caps else None
        where = _attempt_filter(lead.tenant_id, lead.phone)
        if rules.max_attempts_total:
            total = (await session.execute(select(func.count()).select_from(CallLog).where(*where))).scalar_one()
            if total >= rules.max_attempts_total:
                verdict.refusals.append(Refusal(code="attempts_exhausted", params={
                    "window": "total", "limit": rules.max_attempts_total, "attempts": total, "nextAllowedAt": None},
                    detail=f"this number has been called {total} times, the most your team allows "
                    f"({rules.max_attempts_total})"))
                return None
        if per_day is None:
            return None
        since = at - timedelta(hours=24)
        recent = list((await session.execute(select(CallLog.created_at).where(
            *where, CallLog.created_at > since).order_by(CallLog.created_at.desc()).limit(per_day))).scalars())
        if len(recent) < per_day:
            return None
        free_at = recent[per_day - 1] + timedelta(hours=24)
        verdict.refusals.append(Refusal(code="attempts_exhausted", params={
            "window": "24h", "limit": per_day, "attempts": len(recent), "nextAllowedAt": iso(free_at)},
            detail=f"this number has been called {per_day} times in the last 24 hours, the most allowed; "
            f"next allowed after {iso(free_at)}"))
        return free_at


def _jsonable(params: dict[str, Any]) -> dict[str, object]:
    return {k: v if isinstance(v, str | int | float | bool | list | dict) or v is None else str(v)
            for k, v in params.items()}


async def put_rules(session: AsyncSession, tenant_id: str, organization_id: str | None, *,
                    windows: list[dict[str, object]], max_attempts_per_24h: int | None,
                    max_attempts_total: int | None, require_consent: bool, region_rules: bool, now: datetime,
                    actor_id: str | None) -> None:
    key = organization_id or TENANT_SCOPE_KEY
    row = (await session.execute(select(CallingRules).where(
        CallingRules.tenant_id == tenant_id, CallingRules.scope_key == key).with_for_update())).scalar_one_or_none()
    if row is None:
        row = CallingRules(tenant_id=tenant_id, scope_key=key, organization_id=organization_id)
        session.add(row)
    row.windows, row.max_attempts_per_24h, row.max_attempts_total = windows, max_attempts_per_24h, max_attempts_total
    row.require_consent, row.region_rules, row.updated_at, row.updated_by = require_consent, region_rules, now, actor_id
    await session.flush()
