"""What an ElevenLabs account lists (agents with their details, phone numbers, voices), how it is kept
fresh cheaply, and where the last listing is kept.

Cost: one *list pass* per account per LIST_TTL_SECONDS - the agent list (paged), the phone numbers,
and the voices once VOICES_TTL_SECONDS have passed. An agent's details (one request each) are kept
DETAILS_TTL_SECONDS: a pass fetches them only for agents it has not seen and, oldest first, for at
most DETAIL_REFRESHES_PER_PASS whose details have expired. So a steady listing of 150 agents costs
three requests per pass, not 155.

Every attempt's result, good or failed, is cached (stale-while-revalidate: past its TTL it is served
at once while one refresh runs in the background) and written to `voice_agent_listings`, so
- a failed attempt keeps the agents last listed, marked with the problem (code and sentence);
- a restart serves the stored copy while its first refresh runs;
- nobody waits more than `wait_seconds` for ElevenLabs: past it, the stored copy is answered (or,
  with none, that the account has not answered yet) and the load goes on in the background.
An agent update stores that agent's new details and drops the cached listing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leadcall.core.cache import BackgroundRefreshes, Cache
from leadcall.core.db import on_commit, transaction
from leadcall.core.scoping import Scope
from leadcall.kit.clock import Clock
from leadcall.voice.errors import ProviderError, ProviderMisconfigured, ProviderRejected
from leadcall.voice.models import AgentListing, ElevenLabsAccount
from leadcall.voice.repository import ListingRepository
from leadcall.voice.types import AgentInfo, AgentSummary, PhoneKind, PhoneNumber, Voice, VoiceProvider

log = logging.getLogger("leadcall.voice")
T = TypeVar("T")

LIST_TTL_SECONDS = 30.0
DETAILS_TTL_SECONDS = 600.0
VOICES_TTL_SECONDS = 300.0
# Past its TTL a listing is still answered for this long while one refresh runs in the background.
STALE_SECONDS = 600.0
WAIT_SECONDS = 2.0
DETAIL_REQUESTS = 4  # agent details fetched at once
DETAIL_REFRESHES_PER_PASS = 20

# Why an account's agents may be missing or out of date (AccountListing.problem.code).
PROVIDER_UNAVAILABLE = "provider_unavailable"  # ElevenLabs did not answer, or answered an error worth retrying
PROVIDER_MISCONFIGURED = "provider_misconfigured"  # the key is refused, lacks a permission, no credits
LISTING_PENDING = "listing_pending"  # never listed yet, and the first listing is still under way


@dataclass(frozen=True)
class ListingProblem:
    code: str
    detail: str


@dataclass(frozen=True)
class ListedAgent:
    info: AgentInfo
    fetched_at: float  # when its details were read


@dataclass(frozen=True)
class AccountListing:
    """One account's agents as last listed; `problem` says why the last attempt failed (None: it did not)."""

    agents: tuple[ListedAgent, ...] = ()
    numbers: tuple[PhoneNumber, ...] = ()
    voices: tuple[Voice, ...] = ()
    voices_at: float | None = None
    listed_at: float | None = None  # when `agents` came from ElevenLabs; None: never
    checked_at: float | None = None  # the last attempt
    problem: ListingProblem | None = None

    @property
    def infos(self) -> list[AgentInfo]:
        return [a.info for a in self.agents]

    def with_agent(self, info: AgentInfo, fetched_at: float) -> AccountListing:
        others = [a for a in self.agents if a.info.agent_id != info.agent_id]
        return replace(self, agents=(*others, ListedAgent(info, fetched_at)))


def problem_of(exc: ProviderError) -> ListingProblem:
    code = PROVIDER_MISCONFIGURED if isinstance(exc, ProviderMisconfigured) else PROVIDER_UNAVAILABLE
    return ListingProblem(code, exc.detail[:500])


async def _or_none(read: Awaitable[tuple[T, ...]]) -> tuple[T, ...] | None:
    """Numbers and voices are a courtesy of the listing (a key may lack their permission): a failure
    keeps what was known."""
    try:
        return await read
    except ProviderError:
        return None


async def list_pass(provider: VoiceProvider, previous: AccountListing | None, now: float) -> AccountListing:
    """One list pass (module doc); raises ProviderError when the agents cannot be listed."""
    previous = previous or AccountListing()
    summaries = await provider.list_agents()
    numbers = await _or_none(provider.list_phone_numbers())
    voices, voices_at = previous.voices, previous.voices_at
    if voices_at is None or now - voices_at >= VOICES_TTL_SECONDS:
        listed = await _or_none(provider.list_voices())
        if listed is not None:
            voices, voices_at = listed, now
    known = {a.info.agent_id: a for a in previous.agents}
    expired = sorted((known[s.agent_id] for s in summaries
                      if s.agent_id in known and now - known[s.agent_id].fetched_at >= DETAILS_TTL_SECONDS),
                     key=lambda a: a.fetched_at)[:DETAIL_REFRESHES_PER_PASS]
    due = [s.agent_id for s in summaries if s.agent_id not in known] + [a.info.agent_id for a in expired]
    slots = asyncio.Semaphore(DETAIL_REQUESTS)

    async def detail(agent_id: str) -> AgentInfo | None:
        async with slots:
            try:
                return await provider.get_agent(agent_id)
            except ProviderRejected as exc:
                if exc.status_code == 404:
                    return None  # deleted since the list was read
                raise

    fetched = dict(zip(due, await asyncio.gather(*(detail(agent_id) for agent_id in due)), strict=True))
    agents: list[ListedAgent] = []
    for summary in summaries:
        if summary.agent_id in fetched:
            info = fetched[summary.agent_id]
            if info is not None:
                agents.append(ListedAgent(_named(info, summary), now))
        elif summary.agent_id in known:
            agents.append(replace(known[summary.agent_id], info=_named(known[summary.agent_id].info, summary)))
    return AccountListing(tuple(agents), previous.numbers if numbers is None else numbers, voices, voices_at,
                          listed_at=now, checked_at=now)


def _named(info: AgentInfo, summary: AgentSummary) -> AgentInfo:
    """The list's name and tags are newer than details read minutes ago."""
    return replace(info, name=summary.name, tags=summary.tags)


# -- the stored form ---------------------------------------------------------------------------------------


def _phone_json(p: PhoneNumber) -> dict[str, Any]:
    return {"id": p.phone_number_id, "number": p.number, "label": p.label, "kind": p.kind.value,
            "agent": p.assigned_agent_id}


def _phone(d: dict[str, Any]) -> PhoneNumber:
    return PhoneNumber(phone_number_id=d["id"], number=d["number"], label=d["label"], kind=PhoneKind(d["kind"]),
                       assigned_agent_id=d["agent"])


def _agent_json(a: ListedAgent) -> dict[str, Any]:
    i = a.info
    return {"id": i.agent_id, "name": i.name, "language": i.language, "firstMessage": i.first_message,
            "prompt": i.prompt, "voiceId": i.voice_id, "tags": list(i.tags), "concurrencyLimit": i.concurrency_limit,
            "phoneNumbers": [_phone_json(p) for p in i.phone_numbers], "fetchedAt": a.fetched_at}


def _agent(d: dict[str, Any]) -> ListedAgent:
    return ListedAgent(AgentInfo(agent_id=d["id"], name=d["name"], language=d["language"],
                                 first_message=d["firstMessage"], prompt=d["prompt"], voice_id=d["voiceId"],
                                 tags=tuple(d["tags"]), concurrency_limit=d["concurrencyLimit"],
                                 phone_numbers=tuple(_phone(p) for p in d["phoneNumbers"])), float(d["fetchedAt"]))


def _voice_json(v: Voice) -> dict[str, Any]:
    return {"id": v.voice_id, "name": v.name, "category": v.category, "labels": dict(v.labels),
            "previewUrl": v.preview_url, "description": v.description}


def _voice(d: dict[str, Any]) -> Voice:
    return Voice(voice_id=d["id"], name=d["name"], category=d["category"], labels=MappingProxyType(dict(d["labels"])),
                 preview_url=d["previewUrl"], description=d["description"])


def _ts(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def _dt(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def from_row(row: AgentListing) -> AccountListing:
    snap = row.snapshot
    problem = ListingProblem(row.problem_code, row.problem_detail or "") if row.problem_code else None
    return AccountListing(tuple(_agent(a) for a in snap.get("agents", [])),
                          tuple(_phone(p) for p in snap.get("numbers", [])),
                          tuple(_voice(v) for v in snap.get("voices", [])), snap.get("voicesAt"),
                          listed_at=_ts(row.listed_at), checked_at=_ts(row.checked_at), problem=problem)


def write_row(row: AgentListing, listing: AccountListing) -> None:
    row.snapshot = {"agents": [_agent_json(a) for a in listing.agents],
                    "numbers": [_phone_json(p) for p in listing.numbers],
                    "voices": [_voice_json(v) for v in listing.voices], "voicesAt": listing.voices_at}
    row.listed_at = _dt(listing.listed_at)
    row.checked_at = _dt(listing.checked_at) or datetime.now(UTC)
    row.problem_code = listing.problem.code if listing.problem else None
    row.problem_detail = listing.problem.detail[:500] if listing.problem else None


def merged(stored: AccountListing, new: AccountListing) -> AccountListing:
    """`new`, keeping any agent details stored meanwhile that are newer (an agent update wrote them)."""
    newer = {a.info.agent_id: a for a in stored.agents}
    return replace(new, agents=tuple(newer[a.info.agent_id] if a.info.agent_id in newer
                                     and newer[a.info.agent_id].fetched_at > a.fetched_at else a for a in new.agents))


# -- the store -----------------------------------------------------------------------------------------------


class ListingStore:
    """Account listings through the cache and the database, with bounded waiting (module doc)."""

    def __init__(self, *, cache: Cache, clock: Clock, sessionmaker: async_sessionmaker[AsyncSession],
                 read_sessionmaker: async_sessionmaker[AsyncSession],
                 provider_for: Callable[[ElevenLabsAccount], VoiceProvider], wait_seconds: float = WAIT_SECONDS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._cache = cache
        self._clock = clock
        self._sessionmaker = sessionmaker
        self._read_sessionmaker = read_sessionmaker
        self._provider_for = provider_for
        self.wait_seconds = wait_seconds
        self.monotonic = monotonic  # real waiting is measured in real time, whatever the domain clock says
        # account id → (this process's current look-up of it, when it began)
        self._lookups: dict[str, tuple[asyncio.Task[AccountListing], float]] = {}
        self._writes: set[asyncio.Task[None]] = set()
        self._unsaved: dict[str, tuple[ElevenLabsAccount, AccountListing]] = {}

    async def listings(self, session: AsyncSession, accounts: Iterable[ElevenLabsAccount]
                       ) -> dict[str, AccountListing]:
        """Each account's listing, waiting for ElevenLabs at most `wait_seconds` from when its look-up
        began; for one still under way, the stored copy (read in `session`) or LISTING_PENDING."""
        wanted = {a.id: a for a in accounts}
        lookups = {account_id: self._lookup(account) for account_id, account in wanted.items()}
        for task, began in sorted(lookups.values(), key=lambda lookup: lookup[1]):
            if not task.done():  # each look-up is waited for until its own deadline, never a neighbour's
                await asyncio.wait({task}, timeout=max(0.0, began + self.wait_seconds - self.monotonic()))
        found: dict[str, AccountListing] = {}
        for account_id, (task, _) in lookups.items():
            if task.done():
                found[account_id] = task.result()
                continue
            stored = await self.stored(session, wanted[account_id])
            found[account_id] = stored or AccountListing(problem=ListingProblem(
                LISTING_PENDING, f"ElevenLabs has not answered yet for the account '{wanted[account_id].name}'; "
                                 "its agents appear as soon as it does"))
        if self._unsaved:
            await self._save_unsaved(session, wanted)
        return found

    def _lookup(self, account: ElevenLabsAccount) -> tuple[asyncio.Task[AccountListing], float]:
        current = self._lookups.get(account.id)
        if current is not None and not current[0].done():
            return current
        task = asyncio.get_running_loop().create_task(self._cache.get_or_load(
            f"listing:{account.id}", LIST_TTL_SECONDS, lambda: self._load(account), stale_seconds=STALE_SECONDS))
        task.add_done_callback(_observed)
        self._lookups[account.id] = (task, self.monotonic())
        return self._lookups[account.id]

    async def _load(self, account: ElevenLabsAccount) -> AccountListing:
        async with transaction(self._read_sessionmaker) as session:
            previous = await self.stored(session, account)
        now = self._clock.now()
        try:
            listing = await list_pass(self._provider_for(account), previous, now)
        except ProviderError as exc:
            log.warning("listing the agents of ElevenLabs account %s failed: %s", account.id, exc.detail)
            listing = replace(previous or AccountListing(), checked_at=now, problem=problem_of(exc))
        write = asyncio.get_running_loop().create_task(self._store(account, listing))
        self._writes.add(write)
        write.add_done_callback(self._written)
        return listing

    async def stored(self, session: AsyncSession, account: ElevenLabsAccount) -> AccountListing | None:
        row = await ListingRepository(session, Scope(account.tenant_id)).for_account(account.id)
        return from_row(row) if row is not None else None

    async def _store(self, account: ElevenLabsAccount, listing: AccountListing) -> None:
        """Written after the listing is answered (a caller never waits on the database's write lock). An
        account whose row is not committed yet (listed by the request creating it) has it written by the
        next request that lists it."""
        try:
            async with transaction(self._sessionmaker) as session:
                await self.save(session, account, listing)
        except IntegrityError:
            self._unsaved[account.id] = (account, listing)

    async def _save_unsaved(self, session: AsyncSession, account_ids: Iterable[str]) -> None:
        for account_id in account_ids:
            unsaved = self._unsaved.pop(account_id, None)
            if unsaved is None:
                continue
            try:
                async with session.begin_nested():
                    await self.save(session, *unsaved)
            except IntegrityError:  # the account is gone, or another process stored a listing first
                log.info("the listing of ElevenLabs account %s was not stored", account_id)

    async def save(self, session: AsyncSession, account: ElevenLabsAccount, listing: AccountListing) -> None:
        repo = ListingRepository(session, Scope(account.tenant_id))
        row = await repo.for_account(account.id, for_update=True)
        if row is None:
            row = AgentListing(tenant_id=account.tenant_id, account_id=account.id)
            write_row(row, listing)
            repo.add(row)
        else:
            stored = from_row(row)
            if (stored.checked_at or 0.0) > (listing.checked_at or 0.0) + 0.001:  # the column keeps microseconds
                return  # a later attempt is stored already
            write_row(row, merged(stored, listing))
        await session.flush()

    async def replace_agent(self, session: AsyncSession, account: ElevenLabsAccount, info: AgentInfo) -> None:
        """After an agent update: its details as ElevenLabs answered them, and no cached listing once they
        are committed (the next listing starts from them)."""
        stored = await self.stored(session, account)
        if stored is not None:
            now = self._clock.now()
            await self.save(session, account, replace(stored.with_agent(info, now), checked_at=now))
        self._invalidate_after_commit(session, account.id)

    async def discard(self, session: AsyncSession, account: ElevenLabsAccount) -> None:
        """Forget the stored copy too (the account now names another workspace or API)."""
        row = await ListingRepository(session, Scope(account.tenant_id)).for_account(account.id)
        if row is not None:
            await session.delete(row)
        await self.invalidate(account.id)
        self._invalidate_after_commit(session, account.id)

    def _invalidate_after_commit(self, session: AsyncSession, account_id: str) -> None:
        async def invalidate() -> None:
            await self.invalidate(account_id)

        on_commit(session, invalidate)

    async def invalidate(self, account_id: str) -> None:
        self._lookups.pop(account_id, None)
        await self._cache.invalidate(f"listing:{account_id}")

    def _written(self, task: asyncio.Task[None]) -> None:
        self._writes.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("storing an agent listing failed: %r", task.exception())

    async def settle(self) -> None:
        """Until the look-ups, background refreshes and writes under way have ended (tests, shutdown)."""
        for _ in range(3):  # a look-up's load starts a write; a refresh does too
            refreshes = getattr(self._cache, "refreshes", None)
            if isinstance(refreshes, BackgroundRefreshes):
                await refreshes.wait()
            await asyncio.gather(*(t for t, _ in self._lookups.values()), return_exceptions=True)
            await asyncio.gather(*self._writes, return_exceptions=True)


def _observed(task: asyncio.Task[AccountListing]) -> None:
    """A look-up nobody waited for to the end still has its failure read (and logged by the cache)."""
    if not task.cancelled():
        with contextlib.suppress(Exception):
            task.exception()
