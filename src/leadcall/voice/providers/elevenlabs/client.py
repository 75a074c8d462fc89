"""Thin async HTTP client for the ElevenLabs API (and Twilio's call-update endpoint).

Responsibilities: URLs, the `xi-api-key` header, timeouts, the retry rule, and turning
every HTTP failure into a `leadcall.voice.errors` exception. It knows nothing of the
neutral types; `adapter.py` maps payloads.

Retry rule: JSON reads (GET) are retried once, after a short backoff, on a network
error, timeout or 5xx (never on 429: the caller decides when to come back). Audio
streams and writes are never retried. The call-placing POST in particular is sent
exactly once: when it fails after it may have reached ElevenLabs (read timeout, 5xx,
unreadable answer) the error says so with `maybe_placed=True`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from leadcall.voice.errors import (
    ProviderAtCapacity,
    ProviderError,
    ProviderMisconfigured,
    ProviderRejected,
    ProviderRetriable,
)
from leadcall.voice.providers.elevenlabs.payloads import ErrorDetail, ValidationIssue

Sleep = Callable[[float], Awaitable[None]]
QueryValue = str | int | bool

_CAPACITY_CODES = frozenset({"concurrent_limit_exceeded", "too_many_concurrent_requests"})
_CREDIT_CODES = frozenset({"insufficient_credits", "quota_exceeded", "payment_required"})
_MISSING_PERMISSION = re.compile(r"missing the permission ([A-Za-z0-9_.:-]+)")
_USER_AGENT = "leadcall/0.1 (+httpx)"
_issues = TypeAdapter(list[ValidationIssue])


def path_segment(value: str) -> str:
    """Escape an id for use as one URL path segment (ids never contain `/`, but input is input)."""
    return quote(value, safe="")


class ElevenLabsClient:
    """One account's HTTP access to ElevenLabs.

    `http` may be shared between accounts (it holds no credentials: the key travels per
    request); a client only closes an `httpx.AsyncClient` it created itself.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout_seconds: float,
        http: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        retry_backoff_seconds: float = 0.25,
        label: str | None = None,
    ) -> None:
        self._api_key = api_key
        # Rides on each request (httpx extensions) for the transport that counts provider requests by account.
        self._extensions = {"leadcall_account": label} if label else None
        self._base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout_seconds)
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=self._timeout)
        self._sleep = sleep
        self._backoff = retry_backoff_seconds

    @property
    def http(self) -> httpx.AsyncClient:
        """The underlying connection pool (for other endpoints of the same account, e.g. Twilio)."""
        return self._http

    # --- public ---------------------------------------------------------------------------

    async def get_json(self, path: str, action: str, params: Mapping[str, QueryValue] | None = None) -> Any:
        """GET and decode JSON; one retry on network errors, timeouts and 5xx."""
        try:
            return await self._get_json_once(path, action, params)
        except ProviderRetriable as first:
            if first.status_code == 429:
                raise
            await self._sleep(self._backoff)
            return await self._get_json_once(path, action, params)

    async def patch_json(self, path: str, action: str, body: Mapping[str, Any]) -> Any:
        """PATCH once (no retry: a write is repeated only by whoever decided to write)."""
        response = await self._send("PATCH", path, action, json_body=body)
        return self._decode(response, action)

    async def delete(self, path: str, action: str) -> None:
        """DELETE once (not retried, like every write); the answer's body is not needed."""
        await self._send("DELETE", path, action)

    async def post_call(self, path: str, action: str, body: Mapping[str, Any]) -> Any:
        """POST that places a phone call: exactly one attempt, never retried.

        A failure that may have happened after ElevenLabs received the request is
        raised as `ProviderRetriable(maybe_placed=True)`; a failure that certainly
        happened before (connect error, 4xx, 429) is not marked so.
        """
        try:
            response = await self._http.request(
                "POST", self._url(path), json=dict(body), headers=self._headers(), timeout=self._timeout,
                extensions=self._extensions,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ProviderRetriable(
                f"Could not reach ElevenLabs while {action} ({type(exc).__name__}); the call was not placed.",
                code="network_error",
            ) from None
        except httpx.HTTPError as exc:
            raise ProviderRetriable(
                f"No answer from ElevenLabs while {action} ({type(exc).__name__}); the call may or may not "
                "have been placed. Check the conversation before dialling again.",
                code="timeout" if isinstance(exc, httpx.TimeoutException) else "network_error",
                maybe_placed=True,
            ) from None
        if response.status_code >= 500:
            error = self._error(response, action)
            raise ProviderRetriable(
                f"{error.detail} The call may or may not have been placed. Check the conversation before "
                "dialling again.",
                code=error.code,
                status_code=response.status_code,
                maybe_placed=True,
            )
        if response.is_error:
            raise self._error(response, action)
        try:
            return response.json()
        except ValueError:
            raise ProviderRetriable(
                f"ElevenLabs answered {action} with an unreadable body; the call may or may not have been "
                "placed. Check the conversation before dialling again.",
                code="unexpected_response",
                status_code=response.status_code,
                maybe_placed=True,
            ) from None

    async def stream(self, path: str, action: str, *, accept: str) -> AsyncIterator[bytes]:
        """Stream a binary body of the media type `accept`; errors are raised before the first chunk."""
        request = self._http.build_request("GET", self._url(path), headers=self._headers(accept),
                                           timeout=self._timeout, extensions=self._extensions)
        try:
            response = await self._http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise self._network_error(exc, action) from None
        try:
            if response.is_error:
                await response.aread()
                raise self._error(response, action)
            try:
                async for chunk in response.aiter_bytes():
                    yield chunk
            except httpx.HTTPError as exc:
                raise self._network_error(exc, action) from None
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    # --- plumbing -------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self._base_url}{path}"

    def _headers(self, accept: str = "application/json") -> dict[str, str]:
        return {"xi-api-key": self._api_key, "accept": accept, "user-agent": _USER_AGENT}

    async def _get_json_once(self, path: str, action: str, params: Mapping[str, QueryValue] | None) -> Any:
        response = await self._send("GET", path, action, params=params)
        return self._decode(response, action)

    async def _send(
        self,
        method: str,
        path: str,
        action: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> httpx.Response:
        try:
            response = await self._http.request(
                method,
                self._url(path),
                params=dict(params) if params else None,
                json=dict(json_body) if json_body is not None else None,
                headers=self._headers(),
                timeout=self._timeout,
                extensions=self._extensions,
            )
        except httpx.HTTPError as exc:
            raise self._network_error(exc, action) from None
        if response.is_error:
            raise self._error(response, action)
        return response

    def _decode(self, response: httpx.Response, action: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise ProviderRetriable(
                f"ElevenLabs answered {action} with a body that is not JSON.",
                code="unexpected_response",
                status_code=response.status_code,
            ) from None

    def _network_error(self, exc: httpx.HTTPError, action: str) -> ProviderRetriable:
        kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed on the network"
        return ProviderRetriable(
            self._redact(f"The request to ElevenLabs {kind} while {action} ({type(exc).__name__})."),
            code="timeout" if isinstance(exc, httpx.TimeoutException) else "network_error",
        )

    def _error(self, response: httpx.Response, action: str) -> ProviderError:
        return self._redacted(error_from_response(response, action))

    def _redacted(self, error: ProviderError) -> ProviderError:
        error.detail = self._redact(error.detail)
        error.args = (error.detail,)
        return error

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "[redacted]") if self._api_key else text


def _retry_after(headers: httpx.Headers) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        raw = headers.get(name)
        if raw is None:
            continue
        try:
            return max(0.0, float(raw) * scale)
        except ValueError:
            continue
    return None


def _parse_body(response: httpx.Response) -> tuple[ErrorDetail, list[ValidationIssue]]:
    """Read the error shapes of the ElevenLabs API: dict `detail`, 422 list `detail`. A body that is not
    JSON (a proxy's page, some other server) is not repeated: the status says what happened."""
    try:
        body = response.json()
    except ValueError:
        return ErrorDetail(), []
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, dict):
        try:
            return ErrorDetail.model_validate(detail), []
        except ValidationError:
            return ErrorDetail(), []
    if isinstance(detail, list):
        try:
            return ErrorDetail(type="validation_error"), _issues.validate_python(detail)
        except ValidationError:
            return ErrorDetail(type="validation_error"), []
    if isinstance(detail, str):
        return ErrorDetail(message=detail), []
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return ErrorDetail(message=body["message"]), []
    return ErrorDetail(), []


def _describe_issues(issues: list[ValidationIssue]) -> str:
    parts = []
    for issue in issues[:5]:
        where = ".".join(str(p) for p in issue.loc if p != "body") or "request"
        parts.append(f"{where}: {issue.msg or issue.type}")
    return "; ".join(parts)


def error_from_response(response: httpx.Response, action: str) -> ProviderError:
    """Map an ElevenLabs error response onto the provider error taxonomy."""
    status = response.status_code
    detail, issues = _parse_body(response)
    code = detail.code or detail.status or detail.type
    reason = (detail.message or "").strip()
    if issues:
        reason = _describe_issues(issues)
    label = f"{status} {code}" if code else str(status)
    sentence = f"ElevenLabs refused {action} ({label})" + (f": {reason}" if reason else ".")
    if sentence[-1] not in ".!?":
        sentence += "."
    all_codes = {c for c in (detail.code, detail.status, detail.type) if c}

    if status == 401 and "missing_permissions" in all_codes:
        match = _MISSING_PERMISSION.search(reason)
        permission = match.group(1) if match else None
        what = f"the permission {permission}" if permission else "a permission this needs"
        return ProviderMisconfigured(
            f"The ElevenLabs API key is valid but lacks {what} ({action}). Enable it on the key.",
            code="missing_permissions",
            status_code=status,
            missing_permission=permission,
        )
    if status == 401:
        return ProviderMisconfigured(
            f"ElevenLabs rejected the API key while {action}: invalid or missing API key.",
            code=detail.code or detail.status or "invalid_api_key",
            status_code=status,
        )
    if status == 402 or all_codes & _CREDIT_CODES:
        return ProviderMisconfigured(
            f"The ElevenLabs account has insufficient credits ({action}). Top up or upgrade the plan.",
            code=code or "insufficient_credits",
            status_code=status,
        )
    if status == 403:
        return ProviderMisconfigured(sentence, code=code, status_code=status)
    if status == 429:
        if all_codes & _CAPACITY_CODES:
            return ProviderAtCapacity(
                f"ElevenLabs is at the concurrent-call limit ({action}); try again when a call ends.",
                code=detail.code or detail.status or "concurrent_limit_exceeded",
                status_code=status,
                retry_after=_retry_after(response.headers),
            )
        return ProviderRetriable(
            f"ElevenLabs is rate limiting or busy ({action}, {label}); try again shortly.",
            code=code or "rate_limit_exceeded",
            status_code=status,
            retry_after=_retry_after(response.headers),
        )
    if status >= 500 or status == 408:
        return ProviderRetriable(sentence, code=code, status_code=status, retry_after=_retry_after(response.headers))
    return ProviderRejected(sentence, code=code or ("validation_error" if status == 422 else None), status_code=status)


class TwilioCallsClient:
    """Hangs up a call in the account's own Twilio account (ElevenLabs has no hang-up API)."""

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        base_url: str,
        timeout_seconds: float,
        http: httpx.AsyncClient,
    ) -> None:
        self._sid = account_sid
        self._token = auth_token
        self._base_url = base_url.rstrip("/")
        self._timeout = httpx.Timeout(timeout_seconds)
        self._http = http

    async def complete_call(self, call_sid: str) -> str | None:
        """`POST /2010-04-01/Accounts/{sid}/Calls/{callSid}.json` with `Status=completed`.

        Returns Twilio's resulting call status; None when Twilio does not know the call.
        Not retried: the caller decides whether to try again.
        """
        url = (
            f"{self._base_url}/2010-04-01/Accounts/{path_segment(self._sid)}/Calls/{path_segment(call_sid)}.json"
        )
        try:
            response = await self._http.post(
                url, data={"Status": "completed"}, auth=(self._sid, self._token), timeout=self._timeout
            )
        except httpx.HTTPError as exc:
            raise ProviderRetriable(
                f"Could not reach Twilio to hang up the call ({type(exc).__name__}).", code="network_error"
            ) from None
        if response.status_code == 404:
            return None
        if response.is_success:
            try:
                body = response.json()
            except ValueError:
                return "completed"
            status = body.get("status") if isinstance(body, dict) else None
            return status if isinstance(status, str) else "completed"
        message = self._message(response)
        if response.status_code in (401, 403):
            raise ProviderMisconfigured(
                "Twilio rejected the account SID or auth token configured for hanging up calls.",
                code="twilio_auth",
                status_code=response.status_code,
            )
        if response.status_code == 429 or response.status_code >= 500:
            raise ProviderRetriable(
                f"Twilio could not hang up the call now ({response.status_code}){message}.",
                code="twilio_unavailable",
                status_code=response.status_code,
            )
        raise ProviderRejected(
            f"Twilio refused to hang up the call ({response.status_code}){message}.",
            code="twilio_rejected",
            status_code=response.status_code,
        )

    def _message(self, response: httpx.Response) -> str:
        try:
            body = json.loads(response.text)
        except ValueError:
            return ""
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, str) or not message:
            return ""
        return ": " + message.replace(self._token, "[redacted]").rstrip(".")
