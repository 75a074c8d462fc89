"""A webhook body over the limit is refused with 413 before it is read whole."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from leadcall.calls import webhooks

URL = "/api/webhooks/elevenlabs/transcription?account=acc_unknown"
LIMIT = 4096
CHUNK = b"x" * 1024


class Body:
    """A request body sent chunk by chunk, counting how much of it the server pulled."""

    def __init__(self, chunks: int) -> None:
        self.chunks = chunks
        self.sent = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.sent += 1
            yield CHUNK


@pytest.fixture(autouse=True)
def small_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "MAX_BODY_BYTES", LIMIT)


def assert_too_large(r: httpx.Response) -> None:
    assert r.status_code == 413, r.text
    assert r.json() == {"error": "too_large", "detail": f"the request body is larger than {LIMIT} bytes",
                        "code": "payload_too_large", "params": {"maxBytes": LIMIT}}


async def test_a_declared_length_over_the_limit_is_refused_unread(client: httpx.AsyncClient) -> None:
    body = Body(chunks=1000)  # a megabyte
    r = await client.post(URL, content=body, headers={"content-length": str(1000 * len(CHUNK))})
    assert_too_large(r)
    assert body.sent <= 1


async def test_a_body_without_a_length_is_counted_as_it_arrives(client: httpx.AsyncClient) -> None:
    body = Body(chunks=1000)
    r = await client.post(URL, content=body)  # chunked: no Content-Length
    assert_too_large(r)
    assert body.sent <= LIMIT // len(CHUNK) + 2  # stopped just past the limit, not at the end


async def test_a_body_within_the_limit_goes_on_to_the_account_check(client: httpx.AsyncClient) -> None:
    r = await client.post(URL, content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    bad = await client.post(URL, content=b"{}", headers={"content-length": "2x"})
    assert bad.status_code == 400 and bad.json()["code"] == "bad_content_length"
