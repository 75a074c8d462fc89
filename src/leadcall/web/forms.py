"""Form mistakes in the page's language.

The pages validate what a person typed with the API's own pydantic models and service rules, whose
errors speak English. Every page route is a `PageRoute`, which says them in the page's language from
their stable codes, never from the English text:

- pydantic's errors (FastAPI's form parameters, a model validated in the route, the page's own checks
  made with `field_problem`) by their `type` and `ctx`, naming the field by its label;
- an error of the family that carries a `code` (with its `params`), when the catalog words that code.

Anything else keeps its English detail; the page shows it under the translated title of its status.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import ValidationError

from leadcall.core.errors import Invalid, LeadcallError
from leadcall.web.i18n import explain_errors, translate_problem
from leadcall.web.rendering import language_of


def field_problem(field: str, code: str, message: str, **values: object) -> dict[str, Any]:
    """A mistake the page itself found in one form field, shaped like pydantic's (and worded likewise):
    `code` is a pydantic error type or one of the catalog's `invalid.<code>`; `message` is the English."""
    return {"type": code, "loc": ("body", field), "msg": message, "ctx": values}


def query_day(value: str | None, name: str) -> date | None:
    """A YYYY-MM-DD day from a page's query (None when left out); anything else answers 422 naming `name`."""
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RequestValidationError([field_problem(name, "date", "not a date (YYYY-MM-DD)")]) from None


def _language(request: Request) -> str:
    return language_of(request, getattr(request.state, "principal", None))


class PageRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def in_the_pages_language(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, ValidationError) as exc:
                raise Invalid(explain_errors(_language(request), exc.errors()), code="invalid_form") from exc
            except LeadcallError as exc:
                if exc.code is not None:
                    exc.detail = translate_problem(_language(request), exc.code, exc.detail, exc.params)
                raise

        return in_the_pages_language
