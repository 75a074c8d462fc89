"""Provider error taxonomy: the only exceptions a voice provider lets out.

Callers act on the class, not on the vendor's wording:

* `ProviderRetriable`: try again later (5xx, timeouts, network, 429 rate limits).
  `ProviderAtCapacity` is the special case "too many live calls right now".
  `maybe_placed=True` means a call-placing request failed *after* it may have
  reached the vendor: the call may or may not exist, so never re-dial blindly.
* `ProviderRejected`: permanent for this input (invalid number, unknown id, 4xx, 422).
* `ProviderMisconfigured`: the tenant must act (bad or missing API key, missing
  key permission, no credits, webhook secret not set).
* `WebhookSignatureError`: an inbound webhook whose signature is missing, wrong or stale.

`detail` is a sentence a person can read and act on. It never contains the API key
or any other secret. Nothing above a provider ever sees an `httpx` exception.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every error a voice provider raises.

    `code` is the vendor's machine-readable reason when there is one
    (e.g. `agent_not_found`), `status_code` the HTTP status that carried it.
    """

    def __init__(self, detail: str, *, code: str | None = None, status_code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.status_code = status_code

    def __str__(self) -> str:
        return self.detail


class ProviderRetriable(ProviderError):
    """A transient failure: the same request may succeed later.

    `maybe_placed` is True only for call-placing requests that failed after they may
    have reached the vendor (timeout while waiting for the answer, 5xx, unreadable
    success body). Such a call must be reconciled, not re-dialled.
    `retry_after` is the vendor's hint in seconds when it sent one.
    """

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        maybe_placed: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(detail, code=code, status_code=status_code)
        self.maybe_placed = maybe_placed
        self.retry_after = retry_after


class ProviderAtCapacity(ProviderRetriable):
    """The account or agent is at its concurrent-call limit (429 `concurrent_limit_exceeded`)."""


class ProviderRejected(ProviderError):
    """A permanent refusal of this request (bad input, unknown id, validation error)."""


class ProviderMisconfigured(ProviderError):
    """The account's configuration is wrong; a person must fix it before anything works.

    `missing_permission` names the API-key scope that is missing (e.g. `convai_read`)
    when the vendor said so.
    """

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        missing_permission: str | None = None,
    ) -> None:
        super().__init__(detail, code=code, status_code=status_code)
        self.missing_permission = missing_permission


class WebhookSignatureError(ProviderError):
    """An inbound webhook failed signature verification (missing, malformed, wrong, stale or future)."""


class UnhandledWebhookType(ProviderRejected):
    """A correctly signed webhook of an event type leadcall does not process (the vendor adds types).

    Raised only after the signature has been verified, so the receiver may acknowledge it:
    ElevenLabs disables a webhook that keeps answering errors.
    """

    def __init__(self, detail: str, *, event_type: str) -> None:
        super().__init__(detail, code="unsupported_event_type")
        self.event_type = event_type
