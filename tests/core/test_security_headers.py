"""Security headers on every answer; templates that fit a CSP without 'unsafe-inline'."""

from __future__ import annotations

import re

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from leadcall.core.http_errors import install_error_handlers
from leadcall.core.security_headers import SecuredFastAPI, SecurityHeaders
from leadcall.web.rendering import WEB_DIR
from leadcall.web.static_files import STATIC_DIR
from tests.factories import PASSWORD, TenantWorld


def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {name: values for name, *values in parts}


def assert_protected(r: httpx.Response, *, cached: bool = False) -> None:
    policy = directives(r.headers["content-security-policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in r.headers["content-security-policy"]
    assert "'unsafe-eval'" not in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "same-origin"
    if not cached:
        assert r.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in r.headers  # the tests' cookies are not secure-only


async def test_pages_and_api_answers_carry_the_headers(client: httpx.AsyncClient, world: TenantWorld) -> None:
    assert_protected(await client.get("/login"))
    assert_protected(await client.get("/api/leads", headers=world.member.headers))
    assert_protected(await client.get("/api/leads/nope", headers=world.member.headers))  # an error answer
    assert_protected(await client.get("/api/leads"))  # 401
    login = await client.post("/api/auth/login", json={"email": world.member.email, "password": PASSWORD})
    assert login.status_code == 200
    page = await client.get("/")
    assert page.status_code == 200 and "lead-row" in page.text
    assert_protected(page)


async def test_static_files_may_be_cached(client: httpx.AsyncClient) -> None:
    r = await client.get("/static/app.js")
    assert r.status_code == 200
    assert "no-store" not in r.headers.get("cache-control", "")
    assert r.headers["x-content-type-options"] == "nosniff"


async def test_static_files_are_compressed_and_cached_by_their_versioned_url(client: httpx.AsyncClient) -> None:
    page = await client.get("/login")
    linked = re.search(r'src="(/static/app\.js\?v=[0-9a-f]{12})"', page.text)
    assert linked, "pages link app.js by a URL naming its content"
    versioned = await client.get(linked.group(1), headers={"Accept-Encoding": "gzip"})
    assert versioned.status_code == 200
    assert versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert versioned.headers["content-encoding"] == "gzip"
    assert int(versioned.headers["content-length"]) < len(versioned.content) / 2  # httpx decoded it
    assert versioned.text == (STATIC_DIR / "app.js").read_text()
    # Any other URL of the file is not cached for good: the file may change under it.
    plain = await client.get("/static/app.js?v=000000000000")
    assert plain.headers["cache-control"] == "no-cache"


async def test_the_api_explorer_starts_from_a_file(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert r.status_code == 200
    policy = r.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy and "frame-ancestors 'none'" in policy
    scripts = re.findall(r"<script([^>]*)>", r.text)
    assert scripts and all("src=" in attributes for attributes in scripts)
    assert (await client.get("/static/api-docs.js")).status_code == 200
    assert (await client.get("/redoc")).status_code == 404  # Redoc needs inline styles: not served


async def test_hsts_only_with_secure_cookies() -> None:
    async def hello(_: object) -> PlainTextResponse:
        return PlainTextResponse("hi", headers={"Cache-Control": "private, max-age=60"})

    inner = Starlette(routes=[Route("/", hello)])
    for hsts in (True, False):
        transport = httpx.ASGITransport(app=SecurityHeaders(inner, hsts=hsts))
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            r = await c.get("/")
        assert ("strict-transport-security" in r.headers) is hsts
        assert r.headers["cache-control"] == "private, max-age=60"  # a route's own choice stands


async def test_a_server_error_carries_the_headers_too() -> None:
    """Starlette answers a 500 from outside the ordinary middleware; the headers are outside even that."""
    app = SecuredFastAPI(hsts=True)
    install_error_handlers(app)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        r = await c.get("/boom")
    assert r.status_code == 500 and r.json()["error"] == "internal"
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["cache-control"] == "no-store" and "strict-transport-security" in r.headers


INLINE = {
    "an inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "a <style> element": re.compile(r"<style\b", re.I),
    "a style attribute": re.compile(r"\sstyle\s*=", re.I),
    "an inline event handler": re.compile(r"\son[a-z]+\s*=", re.I),
    "hx-on (evaluated)": re.compile(r"\s(data-)?hx-on", re.I),
    "a javascript: URL or js: value": re.compile(r"(javascript|js):", re.I),
    "an hx-trigger filter (evaluated)": re.compile(r"hx-trigger=\"[^\"]*\[", re.I),
}


def test_templates_hold_no_inline_script_or_style() -> None:
    """The CSP refuses them (and htmx is told to evaluate nothing): they would silently not work."""
    found = []
    for path in sorted((WEB_DIR / "templates").rglob("*.html")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.S)  # Jinja comments are not sent
        found += [f"{path.name}: {what}" for what, pattern in INLINE.items() if pattern.search(text)]
    assert found == []
    assert (STATIC_DIR / "favicon.svg").exists()
