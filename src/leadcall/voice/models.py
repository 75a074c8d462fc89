from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadcall.core.db import Base, IdMixin
from leadcall.core.scoping import TenantOwned

ELEVENLABS_API = "https://api.elevenlabs.io"
TWILIO_API = "https://api.twilio.com"


class ElevenLabsAccount(IdMixin, TenantOwned, Base):
    """One ElevenLabs account (workspace API key) of a tenant. Secrets are stored encrypted."""

    __tablename__ = "elevenlabs_accounts"
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    name: Mapped[str] = mapped_column(String(120))
    api_key_encrypted: Mapped[str] = mapped_column(String(1000))
    api_key_last4: Mapped[str] = mapped_column(String(4))
    webhook_secret_encrypted: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    base_url: Mapped[str] = mapped_column(String(300), default=ELEVENLABS_API)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The plan's concurrent-call limit; at it, the account's agents are unavailable.
    concurrency_limit: Mapped[int] = mapped_column(Integer, default=4)
    # Used when the agent has no phone number of its own assigned.
    default_phone_number_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Money: ElevenLabs reports cost in credits and in USD; the tenant pays in its currency.
    usd_to_currency_rate: Mapped[float] = mapped_column(Numeric(12, 6, asdecimal=False), default=1.0)
    # Used when a conversation reports credits but no USD figure.
    price_per_1000_credits: Mapped[float] = mapped_column(Numeric(12, 6, asdecimal=False), default=0.25)
    twilio_account_sid: Mapped[str | None] = mapped_column(String(64), nullable=True)
    twilio_auth_token_encrypted: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    twilio_base_url: Mapped[str] = mapped_column(String(300), default=TWILIO_API)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    last_checked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    last_check_ok: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    last_check_detail: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # The same result as a stable code with its parameters (voice.types.ConnectionCheck), worded by the pages.
    last_check_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    last_check_params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class VoiceAgent(IdMixin, TenantOwned, Base):
    """Our reference to an ElevenLabs agent: only its id plus local rules and stats.

    ElevenLabs stays the source of truth for the agent's configuration (name, prompt,
    voice, language); those are read through VoiceManager and cached briefly.
    """

    __tablename__ = "voice_agents"
    __table_args__ = (UniqueConstraint("account_id", "agent_id"),)

    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("elevenlabs_accounts.id", ondelete="CASCADE"),
                                            index=True)
    agent_id: Mapped[str] = mapped_column(String(100))
    is_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    specialty: Mapped[str | None] = mapped_column(String(120), nullable=True)
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    # Empty means "every organization" / "every call type".
    allowed_organization_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    allowed_call_types: Mapped[list[Any]] = mapped_column(JSON, default=list)
    max_concurrent_calls: Mapped[int | None] = mapped_column(Integer, nullable=True)
    calls_placed: Mapped[int] = mapped_column(Integer, default=0)
    last_called_at: Mapped[datetime | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class AgentListing(TenantOwned, Base):
    """The last listing of one account's agents (with their details, phone numbers and voices), so a
    restart or an ElevenLabs outage does not leave the picker empty, and the outcome of the last attempt
    to list them (`problem_code` set when it failed). `snapshot` is `voice.listings`' JSON form.
    """

    __tablename__ = "voice_agent_listings"

    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("elevenlabs_accounts.id", ondelete="CASCADE"),
                                            primary_key=True)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    listed_at: Mapped[datetime | None] = mapped_column(nullable=True)  # when the agents kept were listed
    checked_at: Mapped[datetime]  # the last attempt, good or not
    problem_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    problem_detail: Mapped[str | None] = mapped_column(String(500), nullable=True)


class AccountHealth(TenantOwned, Base):
    """What leadcall last learnt of one account's webhooks: the workspace's post-call webhook as ElevenLabs
    reported it (`webhook_state`: voice.health.WebhookState, with the URL it points at, without its query, and
    ElevenLabs' last failed delivery to it) and the deliveries refused here (bad or missing signature)."""

    __tablename__ = "voice_account_health"

    account_id: Mapped[str] = mapped_column(String(36), ForeignKey("elevenlabs_accounts.id", ondelete="CASCADE"),
                                            primary_key=True)
    webhook_checked_at: Mapped[datetime | None] = mapped_column(nullable=True)
    webhook_state: Mapped[str | None] = mapped_column(String(30), nullable=True)
    webhook_detail: Mapped[str | None] = mapped_column(String(500), nullable=True)
    webhook_seen_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    webhook_failure_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    webhook_failure_at: Mapped[datetime | None] = mapped_column(nullable=True)
    refused_count: Mapped[int] = mapped_column(Integer, default=0)
    refused_at: Mapped[datetime | None] = mapped_column(nullable=True)
    refused_detail: Mapped[str | None] = mapped_column(String(300), nullable=True)
