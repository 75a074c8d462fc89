"""The web app: server-rendered pages and fragments (Jinja2 + htmx), live over SSE, in Spanish and English."""

from leadcall.web.rendering import STATIC_DIR, render_error_page
from leadcall.web.router import pages_router, public_router

__all__ = ["STATIC_DIR", "pages_router", "public_router", "render_error_page"]
