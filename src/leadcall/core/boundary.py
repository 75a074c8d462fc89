"""The one input boundary: every string a request carries is checked here, once, before anything reads it.

No field of leadcall holds NUL, the other C0 control characters, DEL or a lone surrogate: PostgreSQL refuses
NUL in text, neither database can store a lone surrogate, and none of them means anything in a name, a phone
number, an id or a search. Left in, they would end as a server error deep inside a query; here they end as a
422 that names the field (`forbidden_character`, with the character as `U+XXXX`).

Free text (JSON and form values, CSV cells) may carry tab, line feed and carriage return (a browser sends a
text area's line ends as CR LF). Path segments and query values are single-line; header values may carry tab,
as HTTP allows.

`check_request` is a dependency listed right after authentication on every authenticated router (and on the
public sign-in routes), so an anonymous caller learns nothing from it. Provider webhooks get `check_address`:
their body waits for its signature, and is stored as the provider sent it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from email.message import Message
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

FORBIDDEN_CHARACTER = "forbidden_character"

_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_IN_LINE = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")
_IN_HEADER = re.compile("[\x00-\x08\x0a-\x1f\x7f]")

Loc = tuple[str | int, ...]


def forbidden_character(value: str, *, multiline: bool = True) -> str | None:
    """The first character of `value` that no field accepts, written `U+XXXX`; None when there is none."""
    found = (_IN_TEXT if multiline else _IN_LINE).search(value)
    return f"U+{ord(found.group()):04X}" if found else None


def character_problem(loc: Loc, character: str) -> dict[str, Any]:
    """The problem, shaped like one of pydantic's errors so that the API and the pages word it like the rest."""
    return {"type": FORBIDDEN_CHARACTER, "loc": loc, "ctx": {"character": character},
            "msg": f"contains the control character {character}, which no field accepts; remove it"}


def _walk(value: Any, loc: Loc) -> Iterator[dict[str, Any]]:
    """Every string of a JSON document, its object keys included."""
    if isinstance(value, str):
        if character := forbidden_character(value):
            yield character_problem(loc, character)
    elif isinstance(value, dict):
        for key, item in value.items():
            if character := forbidden_character(key, multiline=False):
                yield character_problem((*loc, key), character)
            else:
                yield from _walk(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*loc, index))


def _media_type(request: Request) -> tuple[str, str]:
    message = Message()
    message["content-type"] = request.headers.get("content-type", "")
    return message.get_content_maintype(), message.get_content_subtype()


async def _body_problems(request: Request) -> list[dict[str, Any]]:
    main, sub = _media_type(request)
    if main == "application" and (sub == "json" or sub.endswith("+json")):
        try:
            document = await request.json()  # FastAPI has parsed it already: Starlette keeps the result
        except ValueError:
            return []  # not JSON (or not UTF-8): the route's own validation says so
        return list(_walk(document, ("body",)))
    if (main, sub) in {("application", "x-www-form-urlencoded"), ("multipart", "form-data")}:
        form = await request.form()
        problems = []
        for key, value in form.multi_items():
            # A file's content is the route's to read (a CSV import checks each cell); its other fields are text.
            character = forbidden_character(key, multiline=False)
            if character is None and isinstance(value, str):
                character = forbidden_character(value)
            if character:
                problems.append(character_problem(("body", key), character))
        return problems
    return []


async def check_request(request: Request) -> None:
    """Refuse (422, every offending field named) a request carrying a character no field accepts."""
    problems = _address_problems(request) + await _body_problems(request)
    if problems:
        raise RequestValidationError(problems)


async def check_address(request: Request) -> None:
    """The same for what addresses a request (path, query, headers) without looking at its body: for provider
    webhooks, whose query names the account whose secret then checks the body's signature."""
    if problems := _address_problems(request):
        raise RequestValidationError(problems)


def _address_problems(request: Request) -> list[dict[str, Any]]:
    problems: list[dict[str, Any]] = []
    for name, value in request.path_params.items():
        if isinstance(value, str) and (character := forbidden_character(value, multiline=False)):
            problems.append(character_problem(("path", name), character))
    for key, value in request.query_params.multi_items():
        if character := forbidden_character(key, multiline=False) or forbidden_character(value, multiline=False):
            problems.append(character_problem(("query", key), character))
    for key, value in request.headers.items():
        if found := _IN_HEADER.search(value):
            problems.append(character_problem(("header", key), f"U+{ord(found.group()):04X}"))
    return problems


def authenticating_route(authenticate: Callable[[Request], Awaitable[object]]) -> type[APIRoute]:
    """A route class whose requests are authenticated before FastAPI reads their body: a body that is not JSON,
    a broken form or one too large tells an anonymous caller no more than 401 does. The route's own dependency
    then finds the principal already resolved."""

    class AuthenticatedRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def authenticated_first(request: Request) -> Response:
                await authenticate(request)
                return await handler(request)

            return authenticated_first

    return AuthenticatedRoute
