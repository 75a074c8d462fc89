"""The web app: server-rendered pages and fragments (Jinja2 + htmx), live over SSE, in Spanish and English."""

from leadcall.web import day, leads, records, settings, usage
from leadcall.web.account import account_pages, account_public
from leadcall.web.analysis import analysis_pages
from leadcall.web.rendering import render_error_page
from leadcall.web.router import pages_router, public_router
from leadcall.web.static_files import STATIC_DIR

pages_router.include_router(account_pages)
pages_router.include_router(analysis_pages)
pages_router.include_router(records.router)
pages_router.include_router(leads.router)
pages_router.include_router(settings.router)
pages_router.include_router(usage.router)
pages_router.include_router(day.router)
public_router.include_router(account_public)

__all__ = ["STATIC_DIR", "pages_router", "public_router", "render_error_page"]
