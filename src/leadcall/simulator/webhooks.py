"""Post-call webhooks as ElevenLabs sends them: envelope, HMAC signature, delivery.

Envelope: `{"type", "event_timestamp", "data"}` as JSON. Signature header:
`ElevenLabs-Signature: t=<unix secs>,v0=<hex HMAC-SHA256(secret, f"{t}.{body}")>`,
computed over the exact bytes sent, so the official SDK's `construct_event` and any
faithful verifier accept it. `post_call_audio` goes out with
`transfer-encoding: chunked`, as the real service sends it.

A delivery that fails (connection error, non-2xx) is recorded in a `Delivery`, never
raised: the real service does not tell the sender's caller either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from functools import cache
from typing import Any

import httpx

SIGNATURE_HEADER = "ElevenLabs-Signature"
POST_CALL_TRANSCRIPTION = "post_call_transcription"
POST_CALL_AUDIO = "post_call_audio"
CALL_INITIATION_FAILURE = "call_initiation_failure"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `ElevenLabs-Signature` header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v0={digest}"


@dataclass(frozen=True)
class WebhookEvent:
    """One event for one account, before it is signed and sent."""

    url: str
    secret: str
    type: str
    conversation_id: str
    data: dict[str, Any]


@dataclass(frozen=True)
class Delivery:
    """What happened to one POST: `status_code` is None when no answer came back."""

    url: str
    type: str
    status_code: int | None
    conversation_id: str = ""
    event_timestamp: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status_code == 200


def arrange(events: list[WebhookEvent], *, duplicate: bool, reverse: bool, drop: bool) -> list[WebhookEvent]:
    """Applies the delivery faults: none at all, reversed order, each event sent twice (in that order)."""
    if drop:
        return []
    ordered = list(reversed(events)) if reverse else list(events)
    return [event for event in ordered for _ in range(2 if duplicate else 1)]


def envelope(event: WebhookEvent, timestamp: int) -> bytes:
    return json.dumps({"type": event.type, "event_timestamp": timestamp, "data": event.data},
                      ensure_ascii=False).encode("utf-8")


async def _chunks(body: bytes, size: int = 16_384) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start:start + size]


@cache
def _verify() -> ssl.SSLContext:
    """One TLS context for every delivery: building one reads the whole CA bundle (tens of milliseconds of
    CPU on the event loop), and a client per conversation used to build one per call."""
    return httpx.create_ssl_context(trust_env=True)


async def deliver(events: list[WebhookEvent], *, timestamp: int, transport: httpx.AsyncBaseTransport | None,
                  request_seconds: float = 10.0) -> list[Delivery]:
    """POSTs each event in order and reports every attempt; `timestamp` is both `t` and `event_timestamp`."""
    if not events:
        return []
    out: list[Delivery] = []
    async with httpx.AsyncClient(transport=transport, timeout=request_seconds, verify=_verify()) as client:
        for event in events:
            body = envelope(event, timestamp)
            headers = {"content-type": "application/json", SIGNATURE_HEADER: sign(event.secret, body, timestamp)}
            content: bytes | AsyncIterator[bytes] = _chunks(body) if event.type == POST_CALL_AUDIO else body
            try:
                response = await client.post(event.url, content=content, headers=headers)
            except httpx.HTTPError as exc:
                out.append(Delivery(event.url, event.type, None, event.conversation_id, timestamp,
                                    f"{type(exc).__name__}: {exc}"))
                continue
            out.append(Delivery(event.url, event.type, response.status_code, event.conversation_id, timestamp))
    return out
