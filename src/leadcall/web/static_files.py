"""The web app's static files: compressed, and cached for as long as their content stays the same.

Pages link them through `static_url`, which names the file's content hash (`?v=`): a URL with the current
hash is cached for a year (a changed file gets a new URL, so no browser keeps an old one); any other URL
of the same file is served too, but the browser asks again each time."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from urllib.parse import parse_qs

from starlette.middleware.gzip import GZipMiddleware
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@lru_cache(maxsize=64)
def version_of(path: str) -> str:
    """The first 12 hex digits of the file's SHA-256 (files are read once per process)."""
    return hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    return f"/static/{path}?v={version_of(path)}"


class VersionedStaticFiles(StaticFiles):
    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v")
            current = asked == [version_of(path.replace("\\", "/"))]
            response.headers["Cache-Control"] = IMMUTABLE if current else REVALIDATE
        return response


def static_app() -> ASGIApp:
    """What /static mounts: the files, gzip-compressed for browsers that accept it (text files compress ~4x)."""
    return GZipMiddleware(VersionedStaticFiles(directory=STATIC_DIR), minimum_size=512)
