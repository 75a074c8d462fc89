"""All configuration, read from LEADCALL_* environment variables."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from leadcall.kit.outbound import parse_origins

DEV_SESSION_SECRET = "dev-only-change-me-session-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEADCALL_", env_file=None, extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./leadcall.db"
    redis_url: str | None = None
    # Deadline of each Redis command (to connect, to read its answer): what a frozen Redis costs a request.
    redis_timeout_seconds: float = 3.0
    # Signs session cookies and CSRF tokens.
    session_secret: SecretStr = SecretStr(DEV_SESSION_SECRET)
    # Fernet keys, comma separated; the first encrypts, all decrypt (rotation).
    secret_keys: SecretStr = SecretStr("")
    public_base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000
    # Mount the built-in ElevenLabs simulator at /sim (embedded default).
    simulator_enabled: bool = False
    simulator_speed: float = 1.0
    run_worker: bool = True
    session_cookie_secure: bool = False
    # A sign-in lasts this long at most (its cookie and its server-side record alike).
    session_max_age_seconds: int = 14 * 24 * 3600
    # How long an admin-issued password reset link works (once).
    password_reset_valid_seconds: int = 24 * 3600
    # Failed sign-ins allowed per email address (and per client address) per minute.
    login_attempts_per_minute: int = 10
    placements_per_user_per_minute: int = 10
    placements_per_tenant_per_minute: int = 120
    max_csv_bytes: int = 5 * 1024 * 1024
    # Origins besides the official ElevenLabs and Twilio API hosts that an account's base URL may name,
    # comma separated (`host:port`, or `host` for its default port), e.g. a simulator: 127.0.0.1:8000.
    # They are trusted even at a private address.
    provider_hosts: str = ""
    # Whether outbound requests may reach loopback, private and link-local addresses at all.
    allow_private_targets: bool = False
    # Log lines as one JSON object each ("json", for production) or readable text ("text").
    log_format: Literal["text", "json"] = "text"
    # The bearer token `GET /metrics` answers to; unset, the route is not served.
    metrics_token: SecretStr | None = None
    # Label provider requests with the ElevenLabs account's id (one series per account and endpoint): for
    # alerts on one account's errors. Off, they are summed over all accounts (cardinality stays fixed).
    metrics_account_labels: bool = False

    @field_validator("provider_hosts")
    @classmethod
    def _origins(cls, value: str) -> str:
        parse_origins(value)  # a mistyped entry stops the start with its name, not the first connection
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
