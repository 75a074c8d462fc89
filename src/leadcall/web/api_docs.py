"""The interactive API explorer at /docs (Swagger UI), under a Content-Security-Policy of its own.

FastAPI's built-in page starts Swagger UI from an inline script; this one starts it from a static file, so
the page needs no 'unsafe-inline'. Swagger UI itself comes from its CDN, as with FastAPI's page; the policy
allows that host for this page only.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from leadcall.core.security_headers import csp

SWAGGER_UI = "https://cdn.jsdelivr.net/npm/swagger-ui-dist@5"
DOCS_PATH = "/docs"
# Swagger UI's stylesheet draws its icons as data: images.
DOCS_POLICY = csp(default_src="'self'", script_src=f"'self' {SWAGGER_UI}/", style_src=f"'self' {SWAGGER_UI}/",
                  img_src="'self' data:", connect_src="'self'", object_src="'none'", base_uri="'none'",
                  form_action="'self'", frame_ancestors="'none'")

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>leadcall API</title>
  <link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="{SWAGGER_UI}/swagger-ui.css">
  <script src="{SWAGGER_UI}/swagger-ui-bundle.js" defer></script>
  <script src="/static/api-docs.js" defer></script>
</head>
<body><div id="swagger-ui" data-openapi-url="/openapi.json"></div></body>
</html>
"""

router = APIRouter()


@router.get(DOCS_PATH, include_in_schema=False)
async def api_docs() -> HTMLResponse:
    return HTMLResponse(PAGE)
