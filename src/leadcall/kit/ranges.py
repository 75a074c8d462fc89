"""HTTP byte ranges (RFC 9110 §14): the one range a media player asks for when it seeks."""

from __future__ import annotations

import re

_SINGLE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UnsatisfiableRange(ValueError):
    """The range asks for bytes the content does not have (answer 416 with `Content-Range: bytes */size`)."""


def byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive (first, last) byte a `Range` header asks for, or None to send the whole content: no
    header, or one this helper does not serve (several ranges, another unit), which RFC 9110 lets a server
    ignore. Raises UnsatisfiableRange for a range past the end."""
    if not header:
        return None
    match = _SINGLE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:
            raise UnsatisfiableRange(header)
        return max(size - length, 0), size - 1
    start = int(first)
    if start >= size:
        raise UnsatisfiableRange(header)
    end = min(int(last), size - 1) if last else size - 1
    if end < start:
        return None
    return start, end
