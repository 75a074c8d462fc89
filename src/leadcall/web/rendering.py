"""Templates, the words of the page, and how errors look in a browser."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from babel.dates import format_date
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context

from leadcall.calls.models import CallStatus, PhoneResult, SalesResult
from leadcall.calls.service import HUNG_UP_BY_SELLER, OWN_REASON_CODES
from leadcall.leads.models import LeadStatus
from leadcall.tenancy import service as tenancy
from leadcall.tenancy.deps import has_cookie_session
from leadcall.tenancy.models import Role
from leadcall.tenancy.principal import Permission, Principal
from leadcall.voice.manager import Unavailability
from leadcall.voice.schemas import CALL_TYPES
from leadcall.web.auth import login_url
from leadcall.web.i18n import (
    accepted_language,
    error_title,
    has_message,
    money,
    number,
    percent,
    pick_language,
    translate,
    translate_plural,
    translate_problem,
    translate_reason,
    when,
)
from leadcall.web.static_files import static_url

WEB_DIR = Path(__file__).resolve().parent

LIVE_STATUSES = ("initiating", "ringing", "in_progress")
STATUS_CLASSES = {"initiating": "live", "ringing": "live", "in_progress": "live", "completed": "ok",
                  "failed": "bad", "canceled": "muted"}
# What a person may set as a call's outcome: what the phone did, then what the lead said.
OUTCOMES = [o.value for o in SalesResult] + [o.value for o in PhoneResult]


def as_utc(value: datetime) -> datetime:
    """Datetimes read back from SQLite have no zone; they were written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso(value: datetime | None) -> str:
    return as_utc(value).isoformat() if value else ""


@pass_context
def _utc_text(context: Context, value: datetime | None) -> str:
    """A moment in UTC, named so; the browser rewrites it in the viewer's own zone (`time[data-local]`)."""
    return when(context["lang"], as_utc(value)) if value else ""


@pass_context
def _money(context: Context, value: float | None, currency: str | None = None) -> str:
    return money(context["lang"], value, currency)


@pass_context
def _number(context: Context, value: float | None, places: int = 1) -> str:
    return number(context["lang"], value, places)


@pass_context
def _long_date(context: Context, value: date) -> str:
    return format_date(value, "long", locale=context["lang"])


@pass_context
def _percent(context: Context, share: float | None) -> str:
    return percent(context["lang"], share)


def _mmss(seconds: int | float | None) -> str:
    total = max(0, int(seconds or 0))
    return f"{total // 60:02d}:{total % 60:02d}"


def _value(value: object) -> str:
    """An enum's value, or the text itself: ORM rows hold plain strings where wire models hold enums."""
    return str(getattr(value, "value", value))


templates = Jinja2Templates(directory=str(WEB_DIR / "templates"))
templates.env.filters.update(iso=_iso, utc_text=_utc_text, mmss=_mmss, money=_money, value=_value,
                            number=_number, percent=_percent, long_date=_long_date)
templates.env.globals.update(
    status_class=STATUS_CLASSES, live_statuses=LIVE_STATUSES, call_types=list(CALL_TYPES),
    call_statuses=[s.value for s in CallStatus], lead_statuses=[s.value for s in LeadStatus],
    roles=[r.value for r in Role], outcomes=OUTCOMES, own_reasons=OWN_REASON_CODES,
    hung_up_by_seller=HUNG_UP_BY_SELLER, has_message=has_message, static_url=static_url)


def language_of(request: Request, principal: Principal | None) -> str:
    """This browser's explicit choice, else the user's language (or their tenant's), else the browser's
    Accept-Language, else Spanish."""
    return pick_language(request.session.get("lang"), principal.language if principal else None,
                         accepted_language(request.headers.get("accept-language")))


def csrf_of(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = tenancy.new_csrf_token()
        request.session["csrf"] = token
    return str(token)


def render(request: Request, template: str, principal: Principal | None, status_code: int = 200,
           headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    lang = language_of(request, principal)

    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    def tn(key: str, n: int, **values: object) -> str:
        return translate_plural(lang, key, n, **values)

    def reason(unavailable: Unavailability) -> str:
        return translate_reason(lang, unavailable.code, unavailable.text, unavailable.values)

    def tag(name: str) -> str:
        """An agent's tag: the words of a call type or a known tag when it names one (`follow_up`), else as set."""
        for key in (f"calltype.{name}", f"tag.{name}"):
            if has_message(key):
                return translate(lang, key)
        return name

    def can(permission: str) -> bool:
        return principal is not None and principal.can(Permission(permission))

    return templates.TemplateResponse(request, template, {
        "t": t, "tn": tn, "reason": reason, "tag": tag, "can": can, "lang": lang, "principal": principal,
        "csrf": csrf_of(request),
        **context}, status_code=status_code, headers=headers)


def render_error_page(request: Request, status_code: int, detail: str, code: str | None = None) -> Response:
    """An error for a browser: a toast when htmx asked for a fragment, else a page; never a stack trace. An error
    with a code the catalog words (`problem.<code>`) reads in the page's language."""
    if status_code == 401:  # to sign in, then back to the page (htmx: the whole page goes, not a fragment)
        target = login_url(request)
        if request.headers.get("hx-request"):
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    principal: Principal | None = getattr(request.state, "principal", None)
    lang = language_of(request, principal)
    title = error_title(lang, status_code)
    detail = translate_problem(lang, code, detail) if code else detail
    if request.headers.get("hx-request"):
        return render(request, "_toast.html", principal, status_code=status_code, title=title, message=detail,
                      kind="error", headers={"HX-Retarget": "#toast", "HX-Reswap": "innerHTML"})
    return render(request, "error.html", principal, status_code=status_code, title=title, detail=detail,
                  code=status_code, signed_in=principal is not None or has_cookie_session(request))
