"""Where outgoing webhooks may go: the SSRF guard (`leadcall.kit.outbound`) for any host on the internet.

Checked when an endpoint is saved (a 422 naming `url`) and again before every attempt and on every
connection (the guarded transport of the webhooks' own connection pool). https only; plain http only to a
loopback address, and only where the operator allows private targets (development, tests).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import httpx

from leadcall.core.errors import Invalid
from leadcall.kit.outbound import OutboundPolicy, Refusal, TargetRefused

MAX_URL_LENGTH = 2000


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WebhookTargets:
    allow_private: bool = False

    @property
    def policy(self) -> OutboundPolicy:
        """What the webhooks' connection pool may reach: any public host (http is refused by `check` before a
        request is made; the pool itself lets loopback http through for development)."""
        return OutboundPolicy(hosts=None, allow_private=self.allow_private, https_only=False)

    def refusal(self, url: str) -> TargetRefused | None:
        try:
            target = self.policy.check_url(url)
        except TargetRefused as refused:
            return refused
        if target.scheme != "https" and not (self.allow_private and _loopback(target.host)):
            return TargetRefused(Refusal.SCHEME, target.host)
        return None

    def check(self, url: str) -> str:
        """The URL as stored, or `Invalid` naming the `url` field."""
        url = url.strip()
        refused = TargetRefused(Refusal.BAD_URL, url[:100]) if len(url) > MAX_URL_LENGTH else self.refusal(url)
        if refused is None:
            try:
                httpx.URL(url)
            except httpx.InvalidURL:
                refused = TargetRefused(Refusal.BAD_URL, url[:100])
        if refused is None:
            return url
        raise invalid_url(refused)


def invalid_url(refused: TargetRefused) -> Invalid:
    host = refused.host
    if refused.reason is Refusal.PRIVATE:
        error = Invalid(f"url: {host} is a private, loopback or link-local address; leadcall does not send "
                        "webhooks there (the operator can allow it with LEADCALL_ALLOW_PRIVATE_TARGETS)",
                        code="private_target", params={"field": "url", "host": host})
    elif refused.reason is Refusal.SCHEME:
        error = Invalid("url: webhooks are sent over https only (plain http only to a loopback address where the "
                        "operator allows private targets)", code="https_required", params={"field": "url"})
    else:
        error = Invalid("url: not a URL leadcall can send webhooks to (https://host/path)", code="url_invalid",
                        params={"field": "url"})
    error.extra["fields"] = [{"field": "url", "message": error.detail, "code": error.code, "params": error.params}]
    return error
