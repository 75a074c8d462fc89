"""What a placement answers: the call as recorded, and when the provider did not take it, why, with
a stable code and a sentence that is true of what happened.

A provider error at placement is one of two kinds. A definite failure (the request never reached
ElevenLabs, or ElevenLabs answered that it did not place the call) means the lead was not called
and may be called again once the cause is fixed; each cause has its code:

* `provider_refused_call` — ElevenLabs refused this call (invalid number, carrier refused, unknown
  agent or number, a validation error);
* `provider_misconfigured` — the ElevenLabs account needs an admin (API key, permission, credits);
* `provider_at_capacity` — the account or agent is at its limit of simultaneous calls;
* `provider_unreachable` — ElevenLabs could not be reached or asked us to slow down, before placing.

An error after the request may have reached ElevenLabs (`maybe_placed`) is no failure: the call may
be ringing, so it stays `initiating` while it is confirmed by our id (calls/confirm.py), and the
placement answers `placement_unconfirmed`, never inviting a new dial.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadcall.core.errors import Conflict
from leadcall.voice.errors import ProviderAtCapacity, ProviderError, ProviderMisconfigured, ProviderRetriable

# How long a request that raced the first request of its idempotency key waits for that one's dial.
REPLAY_WAIT_SECONDS = 20.0

NOT_CALLED = "The lead was not called."


@dataclass(frozen=True)
class PlacementFailure:
    code: str
    sentence: str


def placement_failure(exc: ProviderError) -> PlacementFailure:
    """The outcome of a provider error that certainly placed no call (see the module docstring)."""
    assert not (isinstance(exc, ProviderRetriable) and exc.maybe_placed), "a maybe-placed dial is confirmed"
    sentence = f"{NOT_CALLED} {exc.detail.strip()}"
    if isinstance(exc, ProviderAtCapacity):
        return PlacementFailure(code="provider_at_capacity", sentence=sentence)
    if isinstance(exc, ProviderRetriable):
        return PlacementFailure(code="provider_unreachable", sentence=sentence)
    if isinstance(exc, ProviderMisconfigured):
        return PlacementFailure(code="provider_misconfigured", sentence=sentence)
    return PlacementFailure(code="provider_refused_call", sentence=sentence)


def lead_already_on_call() -> Conflict:
    return Conflict("this lead is already on a call; wait for it to end or cancel it", code="lead_already_on_call")
