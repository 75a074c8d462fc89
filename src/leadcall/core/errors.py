"""The one error family. Services raise these; the JSON API and the pages render them."""

from __future__ import annotations

from typing import Any


def plain_params(ctx: object) -> dict[str, Any]:
    """The values of a validation error's context a sentence can name (text and numbers), for `params`."""
    if not isinstance(ctx, dict):
        return {}
    return {k: v for k, v in ctx.items() if isinstance(v, str | int | float)}


class LeadcallError(Exception):
    """`detail` is the English sentence; `code` (with `params`) names the case for clients
    that say it in their own words (the pages translate it; so may a CRM front end)."""

    status_code = 400
    error = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, params: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.code = code
        self.params = params or {}
        self.extra = extra or {}
        self.headers = headers or {}

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"error": self.error, "detail": self.detail, **self.extra}
        if self.code is not None:
            body["code"] = self.code
            body["params"] = self.params
        return body


class BadRequest(LeadcallError):
    status_code = 400
    error = "bad_request"


class Unauthenticated(LeadcallError):
    status_code = 401
    error = "unauthenticated"


class Forbidden(LeadcallError):
    status_code = 403
    error = "forbidden"


class NotFound(LeadcallError):
    status_code = 404
    error = "not_found"


class Conflict(LeadcallError):
    status_code = 409
    error = "conflict"


class Invalid(LeadcallError):
    """Input a person can fix (422)."""

    status_code = 422
    error = "invalid"


class PayloadTooLarge(LeadcallError):
    status_code = 413
    error = "too_large"


class RateLimited(LeadcallError):
    status_code = 429
    error = "rate_limited"

    def __init__(self, detail: str, *, retry_after_seconds: int, code: str | None = None,
                 params: dict[str, Any] | None = None) -> None:
        super().__init__(detail, code=code, params={**(params or {}), "seconds": retry_after_seconds},
                         extra={"retryAfterSeconds": retry_after_seconds},
                         headers={"Retry-After": str(retry_after_seconds)})


class BudgetExceeded(LeadcallError):
    status_code = 402
    error = "budget_exceeded"


class Unavailable(LeadcallError):
    """An outside service failed in a way worth retrying later (503)."""

    status_code = 503
    error = "unavailable"


class ProviderProblem(LeadcallError):
    """The tenant's provider account needs attention (bad key, missing permission)."""

    status_code = 424
    error = "provider_misconfigured"
