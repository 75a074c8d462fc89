"""Where the provider clients may connect: the official ElevenLabs and Twilio API hosts, and the origins
the operator names in `LEADCALL_PROVIDER_HOSTS` (the demo's and the tests' simulator).

A base URL is checked when it is saved (a 422 naming the field) and again on every connection, by the
guarded transport of the provider clients' connection pool (`leadcall.kit.outbound`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from leadcall.core.errors import Invalid
from leadcall.kit.outbound import Origin, OutboundPolicy, Refusal, TargetRefused, parse_origins

# The API host and its data-residency hosts (the official SDK's `ElevenLabsEnvironment`).
ELEVENLABS_HOSTS = frozenset({"api.elevenlabs.io", "api.us.elevenlabs.io", "api.eu.residency.elevenlabs.io",
                              "api.in.residency.elevenlabs.io", "api.sg.residency.elevenlabs.io"})
TWILIO_HOSTS = frozenset({"api.twilio.com"})

Provider = Literal["elevenlabs", "twilio"]
FIELDS: dict[Provider, str] = {"elevenlabs": "baseUrl", "twilio": "twilioBaseUrl"}
NAMES: dict[Provider, str] = {"elevenlabs": "ElevenLabs", "twilio": "Twilio"}


@dataclass(frozen=True)
class ProviderTargets:
    named: tuple[Origin, ...] = ()
    allow_private: bool = False

    @classmethod
    def from_settings(cls, provider_hosts: str, allow_private_targets: bool) -> ProviderTargets:
        return cls(parse_origins(provider_hosts), allow_private_targets)

    def policy(self, provider: Provider) -> OutboundPolicy:
        hosts = ELEVENLABS_HOSTS if provider == "elevenlabs" else TWILIO_HOSTS
        return OutboundPolicy(hosts=hosts, named=self.named, allow_private=self.allow_private)

    @property
    def connections(self) -> OutboundPolicy:
        """What the providers' shared connection pool may reach: either provider's hosts."""
        return OutboundPolicy(hosts=ELEVENLABS_HOSTS | TWILIO_HOSTS, named=self.named,
                              allow_private=self.allow_private)

    def check(self, provider: Provider, url: str) -> str:
        """The base URL as stored (no trailing slash), or `Invalid` naming the wire field."""
        field = FIELDS[provider]
        try:
            self.policy(provider).check_url(url)
        except TargetRefused as refused:
            raise _invalid(provider, field, refused) from None
        return url.rstrip("/")


def _invalid(provider: Provider, field: str, refused: TargetRefused) -> Invalid:
    name, host = NAMES[provider], refused.host
    if refused.reason is Refusal.HOST:
        allowed = ", ".join(sorted(ELEVENLABS_HOSTS if provider == "elevenlabs" else TWILIO_HOSTS))
        error = Invalid(f"{field}: {host} is not an API host of {name} ({allowed}); the operator can allow "
                        "others with LEADCALL_PROVIDER_HOSTS", code="provider_host_not_allowed",
                        params={"field": field, "host": host, "provider": name, "allowed": allowed})
    elif refused.reason is Refusal.PRIVATE:
        error = Invalid(f"{field}: {host} is a private, loopback or link-local address; leadcall does not "
                        "connect there", code="private_target", params={"field": field, "host": host})
    elif refused.reason is Refusal.SCHEME:
        error = Invalid(f"{field}: the {name} API is reached over https only", code="https_required",
                        params={"field": field})
    else:
        error = Invalid(f"{field}: not a URL leadcall can connect to", code="url_invalid", params={"field": field})
    error.extra["fields"] = [{"field": field, "message": error.detail, "code": error.code, "params": error.params}]
    return error
