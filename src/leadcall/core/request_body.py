"""Reading a request body no further than a limit."""

from __future__ import annotations

from starlette.requests import Request

from leadcall.core.errors import BadRequest, PayloadTooLarge


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {limit} bytes", code="payload_too_large",
                           params={"maxBytes": limit})


async def read_limited(request: Request, limit: int) -> bytes:
    """The body, or `PayloadTooLarge` (413) as soon as it is known to pass `limit`: from its declared
    Content-Length before anything is read, else while counting what arrives (a chunked body, or one
    longer than it declared), so an oversized body is never held in memory whole."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise BadRequest("the Content-Length header is not a number", code="bad_content_length")
        if int(declared) > limit:
            raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)
