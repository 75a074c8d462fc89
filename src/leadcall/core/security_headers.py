"""Security headers on every answer, pages and API alike.

A small ASGI middleware rather than a library: what it decides is policy (which answers may be cached, which
page may load the API explorer from its CDN), and the headers themselves are a handful of constants.
It wraps `send`, so streamed answers (SSE, recordings) keep streaming.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def csp(**directives: str) -> str:
    """A Content-Security-Policy from keyword directives (`script_src="'self'"` → `script-src 'self'`)."""
    return "; ".join(f"{name.replace('_', '-')} {value}" for name, value in directives.items())


# The app's own pages: nothing inline, nothing evaluated, nothing from elsewhere, except voice previews
# (audio the provider hosts on its own storage). htmx is configured to fit (templates/base.html).
APP_POLICY = csp(default_src="'self'", script_src="'self'", style_src="'self'", img_src="'self'",
                 media_src="'self' https:", connect_src="'self'", font_src="'self'", object_src="'none'",
                 base_uri="'none'", form_action="'self'", frame_ancestors="'none'")

HSTS = "max-age=31536000; includeSubDomains"


class SecurityHeaders:
    """Adds the headers to every HTTP answer that does not set them itself.

    - `Content-Security-Policy`: `policy`, or the one of the longest matching prefix in `policies`.
    - `Cache-Control: no-store` unless the route chose its own, except under `cacheable` prefixes (the
      static files, which hold nothing personal): signed-in pages and API answers never stay in a cache.
    - `X-Content-Type-Options`, `X-Frame-Options`, `Referrer-Policy: same-origin` (same-origin posts keep
      their Origin header; other sites learn nothing of our URLs), and HSTS when `hsts` (secure cookies:
      the site is served over HTTPS only).
    """

    def __init__(self, app: ASGIApp, *, hsts: bool, policy: str = APP_POLICY,
                 policies: Mapping[str, str] | None = None, cacheable: tuple[str, ...] = ("/static/",)) -> None:
        self.app = app
        self.hsts = hsts
        self.policy = policy
        self.policies = sorted((policies or {}).items(), key=lambda item: -len(item[0]))
        self.cacheable = cacheable

    def _policy_for(self, path: str) -> str:
        return next((policy for prefix, policy in self.policies if path.startswith(prefix)), self.policy)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        policy = self._policy_for(path)
        cacheable = path.startswith(self.cacheable)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", policy)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if not cacheable:
                    headers.setdefault("Cache-Control", "no-store")
                if self.hsts:
                    headers.setdefault("Strict-Transport-Security", HSTS)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SecuredFastAPI(FastAPI):
    """FastAPI with `SecurityHeaders` around its whole middleware stack. Middleware added the usual way sits
    inside Starlette's ServerErrorMiddleware, whose 500 answers would then go out without the headers."""

    def __init__(self, *, hsts: bool, policies: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        self.security_hsts = hsts
        self.security_policies = dict(policies or {})
        super().__init__(**kwargs)

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack(), hsts=self.security_hsts,
                               policies=self.security_policies)
