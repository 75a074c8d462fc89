"""The health of each ElevenLabs account, as a tenant admin needs it (issue 17.4).

Two sources, said apart:

* **What ElevenLabs reports** of the workspace's post-call webhook, read through the real API
  (`GET /v1/convai/settings` names the webhook, `GET /v1/workspace/webhooks` says where it points, whether
  a person or ElevenLabs itself disabled it, and its last failed delivery). ElevenLabs sends one post-call
  webhook per workspace, so a tenant's own integration can take leadcall's place there. It is checked by the
  worker every `CHECK_EVERY_SECONDS`, by `leadcall doctor` and by the settings page's check, and stored
  (`AccountHealth`), so showing it never waits for ElevenLabs. A key that may not read those settings is
  said as such (`unreadable`), never guessed. What the API does not show: an agent's own webhook override.
* **What leadcall saw**: the last webhook received and its age, deliveries refused here (signature), stored
  deliveries that could not be applied, calls that ended with no webhook (followed by polling only), the last
  error ElevenLabs answered a dial with or a listing failed with, and the live calls against the account's
  concurrency limit. Those figures come from the call logs (calls/health.py, through `AccountActivitySource`).

The warning `webhooks_stopped`: a call ended, past `WEBHOOK_GRACE_SECONDS` ago, after the last webhook received
and without one. Polling keeps such calls correct meanwhile (every live call is polled until it ends).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from leadcall.core.scoping import Scope
from leadcall.voice.errors import ProviderError
from leadcall.voice.models import AccountHealth, ElevenLabsAccount
from leadcall.voice.repository import HealthRepository
from leadcall.voice.types import PostCallWebhook, VoiceProvider

CHECK_EVERY_SECONDS = 10 * 60
WEBHOOK_GRACE_SECONDS = 10 * 60  # ElevenLabs sends the post-call webhook once the analysis is done
WINDOW = timedelta(hours=24)
TRANSCRIPT_EVENT = "transcript"


class WebhookState(StrEnum):
    """The workspace's post-call webhook as ElevenLabs reports it."""

    ok = "ok"  # points at this leadcall account, enabled
    not_set = "not_set"  # the workspace has no post-call webhook
    missing = "missing"  # the workspace names a webhook ElevenLabs does not list
    elsewhere = "elsewhere"  # points at another URL (another integration, another leadcall account)
    disabled = "disabled"  # turned off by a person
    auto_disabled = "auto_disabled"  # turned off by ElevenLabs after repeated failed deliveries
    no_transcripts = "no_transcripts"  # the workspace does not send the post-call transcription
    unreadable = "unreadable"  # the key may not read the workspace's settings, or ElevenLabs did not answer


@dataclass(frozen=True)
class WebhookCheck:
    state: WebhookState
    detail: str
    seen_url: str | None = None  # where it points, without its query (which may hold a token)
    events: tuple[str, ...] = ()
    failure_code: int | None = None
    failure_at: datetime | None = None


def _plain_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _same_target(url: str, expected: str) -> bool:
    a, b = urlsplit(url.strip()), urlsplit(expected)
    return ((a.scheme.lower(), a.netloc.lower(), a.path.rstrip("/")) == (b.scheme.lower(), b.netloc.lower(),
                                                                        b.path.rstrip("/"))
            and parse_qs(a.query).get("account") == parse_qs(b.query).get("account"))


def assess(found: PostCallWebhook, expected_url: str | None) -> WebhookCheck:
    """What the workspace's post-call webhook setting means for this account (whose URL is `expected_url`; None
    for a bare key: where it points is then said, not judged)."""
    hook = found.webhook
    if found.webhook_id is None:
        return WebhookCheck(WebhookState.not_set, "The workspace has no post-call webhook: ElevenLabs sends leadcall "
                            "nothing when a call ends.", events=found.events)
    if hook is None:
        return WebhookCheck(WebhookState.missing, f"The workspace names post-call webhook {found.webhook_id}, which "
                            "ElevenLabs does not list.", events=found.events)
    failure_at = (datetime.fromtimestamp(hook.last_failure_unix, UTC) if hook.last_failure_unix is not None
                  else None)
    seen = _plain_url(hook.url)

    def check(state: WebhookState, detail: str) -> WebhookCheck:
        return WebhookCheck(state, detail, seen, found.events, hook.last_failure_code if hook else None, failure_at)

    if expected_url is not None and not _same_target(hook.url, expected_url):
        return check(WebhookState.elsewhere, f"The workspace's post-call webhook ({hook.name}) points at {seen}, "
                     "not at this leadcall account: its calls' webhooks go there.")
    if hook.auto_disabled:
        return check(WebhookState.auto_disabled, "ElevenLabs disabled the post-call webhook after repeated failed "
                     "deliveries; enable it again in the workspace's webhook settings.")
    if hook.disabled:
        return check(WebhookState.disabled, "The post-call webhook is disabled in the workspace's settings.")
    if found.events and TRANSCRIPT_EVENT not in found.events:
        return check(WebhookState.no_transcripts, "The workspace sends no post-call transcription (events: "
                     f"{', '.join(found.events)}).")
    if expected_url is None:
        return check(WebhookState.ok, f"The post-call webhook ({hook.name}) is enabled and points at {seen}.")
    return check(WebhookState.ok, "The post-call webhook points at this leadcall account and is enabled.")


async def check_webhook(provider: VoiceProvider, expected_url: str | None) -> WebhookCheck:
    """Reads and assesses the workspace's post-call webhook; never raises for what ElevenLabs answers."""
    try:
        found = await provider.get_post_call_webhook()
    except ProviderError as exc:
        return WebhookCheck(WebhookState.unreadable, f"ElevenLabs did not show the workspace's webhook settings: "
                            f"{exc.detail}")
    return assess(found, expected_url)


async def store_check(session: AsyncSession, account: ElevenLabsAccount, check: WebhookCheck, now: datetime) -> None:
    row = await _row(session, account.tenant_id, account.id)
    row.webhook_checked_at, row.webhook_state, row.webhook_detail = now, check.state.value, check.detail[:500]
    if check.state is not WebhookState.unreadable:  # what we could not read stays as last seen
        row.webhook_seen_url = check.seen_url[:500] if check.seen_url else None
        row.webhook_failure_code, row.webhook_failure_at = check.failure_code, check.failure_at
    await session.flush()


async def note_refused(session: AsyncSession, tenant_id: str, account_id: str, detail: str,
                       now: datetime) -> None:
    """A delivery for this account refused here (bad, stale or missing signature; no secret stored)."""
    row = await _row(session, tenant_id, account_id)
    row.refused_count = (row.refused_count or 0) + 1
    row.refused_at, row.refused_detail = now, detail[:300]
    await session.flush()


async def _row(session: AsyncSession, tenant_id: str, account_id: str) -> AccountHealth:
    repo = HealthRepository(session, Scope(tenant_id))
    row = await repo.for_account(account_id, for_update=True)
    if row is None:
        row = AccountHealth(tenant_id=tenant_id, account_id=account_id, refused_count=0)
        repo.add(row)
    return row


# --- what leadcall saw ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderProblem:
    code: str
    detail: str
    at: datetime
    where: str  # "call" (a dial ElevenLabs refused or did not answer) | "listing" (agents, numbers)


@dataclass(frozen=True)
class AccountActivity:
    """One account's webhook and call figures over the last `WINDOW` (calls/health.py)."""

    last_webhook_at: datetime | None = None
    unapplied_webhooks: int = 0  # stored, but could not be applied to a call
    calls_ended: int = 0  # completed calls (each should bring a post-call transcription)
    polling_only: int = 0  # of those, ended with no webhook
    stopped_since: datetime | None = None  # the first call that ended past the grace with no webhook after the last
    last_call_problem: ProviderProblem | None = None


class AccountActivitySource(Protocol):
    async def account_activity(self, session: AsyncSession, scope: Scope, account_ids: list[str], *,
                               now: datetime) -> dict[str, AccountActivity]:
        """Account id → its figures (accounts without any are absent)."""
        ...


class NoActivity:
    async def account_activity(self, session: AsyncSession, scope: Scope, account_ids: list[str], *,
                               now: datetime) -> dict[str, AccountActivity]:
        return {}


@dataclass(frozen=True)
class HealthWarning:
    code: str
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    activity: AccountActivity
    row: AccountHealth | None
    listing_problem: ProviderProblem | None
    concurrency_limit: int
    live_calls: int
    now: datetime
    warnings: tuple[HealthWarning, ...]

    @property
    def last_provider_error(self) -> ProviderProblem | None:
        found = [p for p in (self.activity.last_call_problem, self.listing_problem) if p is not None]
        return max(found, key=lambda p: p.at) if found else None


_WEBHOOK_WARNINGS = {WebhookState.not_set, WebhookState.missing, WebhookState.elsewhere, WebhookState.disabled,
                     WebhookState.auto_disabled, WebhookState.no_transcripts}


def assemble(activity: AccountActivity, row: AccountHealth | None, listing_problem: ProviderProblem | None,
             concurrency_limit: int, live_calls: int, now: datetime) -> Health:
    warnings: list[HealthWarning] = []
    if activity.stopped_since is not None:
        warnings.append(HealthWarning("webhooks_stopped", {
            "since": activity.stopped_since.isoformat(), "pollingOnly": activity.polling_only,
            "lastWebhookAt": activity.last_webhook_at.isoformat() if activity.last_webhook_at else None}))
    if row is not None and row.webhook_state in _WEBHOOK_WARNINGS:
        warnings.append(HealthWarning(f"webhook_{row.webhook_state}", {"url": row.webhook_seen_url}))
    if row is not None and row.refused_at is not None and now - row.refused_at <= WINDOW:
        warnings.append(HealthWarning("webhooks_refused", {"count": row.refused_count, "at": row.refused_at.isoformat()}))
    return Health(activity, row, listing_problem, concurrency_limit, live_calls, now, tuple(warnings))
