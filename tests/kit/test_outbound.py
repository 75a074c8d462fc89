"""The outbound guard: which URLs pass when saved, and which addresses a connection may reach."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import ValidationError

from leadcall.kit.outbound import (
    GuardedTransport,
    Origin,
    OutboundPolicy,
    Refusal,
    TargetRefused,
    is_public,
    parse_origins,
)
from leadcall.settings import Settings
from tests.live import free_port

OFFICIAL = OutboundPolicy(hosts=frozenset({"api.example.com"}))
ANY_PUBLIC = OutboundPolicy(hosts=None)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.8.9.10", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0",
    "224.0.0.1", "255.255.255.255", "::1", "::", "fe80::1", "fc00::1", "fd12:3456::1", "::ffff:127.0.0.1",
    "::ffff:169.254.169.254", "2002:7f00:1::1", "ff02::1", "fe80::1%eth0"])
def test_private_loopback_link_local_and_reserved_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "104.18.7.1", "2606:4700::6810:1", "::ffff:8.8.8.8"])
def test_internet_addresses_are_public(address: str) -> None:
    assert is_public(address)


@pytest.mark.parametrize(("url", "reason"), [
    ("https://evil.example.net/v1", Refusal.HOST),
    ("https://api.example.com.evil.net", Refusal.HOST),
    ("https://127.0.0.1", Refusal.HOST),
    ("http://api.example.com", Refusal.SCHEME),
    ("ftp://api.example.com", Refusal.SCHEME),
    ("https://user:pw@api.example.com", Refusal.BAD_URL),
    ("not a url", Refusal.BAD_URL),
])
def test_a_provider_url_names_an_allowed_host_over_https(url: str, reason: Refusal) -> None:
    with pytest.raises(TargetRefused) as refused:
        OFFICIAL.check_url(url)
    assert refused.value.reason is reason
    target = OFFICIAL.check_url("https://API.example.com./v1")
    assert (target.host, target.port, target.named) == ("api.example.com", 443, False)


@pytest.mark.parametrize("url", ["https://10.0.0.5", "https://127.1", "https://[::1]:8443", "https://169.254.169.254/latest",
                                 "https://0x7f000001", "https://2130706433", "https://[::ffff:7f00:1]"])
def test_an_address_written_out_must_be_public(url: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        ANY_PUBLIC.check_url(url)
    assert refused.value.reason in (Refusal.PRIVATE, Refusal.BAD_URL)
    ANY_PUBLIC.check_url("https://8.8.8.8/hook")
    OutboundPolicy(hosts=None, allow_private=True).check_url("https://10.0.0.5")


def test_the_operators_origins_are_allowed_on_their_port_only() -> None:
    policy = OutboundPolicy(hosts=frozenset({"api.example.com"}), named=parse_origins("127.0.0.1:8000, sim.local"))
    assert policy.named == (Origin("127.0.0.1", 8000), Origin("sim.local", None))
    assert policy.check_url("http://127.0.0.1:8000/sim").named
    assert policy.check_url("http://sim.local/").named and policy.check_url("https://sim.local/").named
    for other in ("http://127.0.0.1:22", "http://127.0.0.1:8001/sim", "http://sim.local:5432", "http://localhost:8000"):
        with pytest.raises(TargetRefused):
            policy.check_url(other)
    assert parse_origins("http://127.0.0.1:9000/sim") == (Origin("127.0.0.1", 9000),)
    assert parse_origins("") == ()


# --- at connection time ---------------------------------------------------------------------------------


@pytest.fixture
async def local_http() -> AsyncIterator[int]:
    """A plain HTTP server on 127.0.0.1 (think: an internal admin service)."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\nconnection: close\r\n\r\ninside")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield port


async def get(policy: OutboundPolicy, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=GuardedTransport(policy)) as client:
        return await client.get(url)


async def test_a_name_that_resolves_to_a_private_address_is_not_connected(local_http: int) -> None:
    """The DNS-rebinding case: the name passes every check that needs no network (it is an allowed host),
    and only what it resolves to when connecting shows where it leads."""
    policy = OutboundPolicy(hosts=frozenset({"localhost"}), https_only=False)
    assert not policy.check_url(f"http://localhost:{local_http}/").named
    with pytest.raises(httpx.ConnectError):
        await get(policy, f"http://localhost:{local_http}/")
    allowed = OutboundPolicy(hosts=frozenset({"localhost"}), https_only=False, allow_private=True)
    assert (await get(allowed, f"http://localhost:{local_http}/")).text == "inside"


async def test_refused_reads_like_nothing_listening(local_http: int) -> None:
    policy = OutboundPolicy(hosts=frozenset({"localhost"}), https_only=False)
    closed = free_port()
    failures = []
    for port in (local_http, closed):
        with pytest.raises(httpx.ConnectError) as caught:
            await get(policy if port == local_http else OutboundPolicy(hosts=None, allow_private=True,
                                                                         https_only=False),
                      f"http://localhost:{port}/")
        failures.append(type(caught.value))
    assert failures[0] is failures[1]


async def test_a_named_origin_is_reached_and_others_on_the_same_host_are_not(local_http: int) -> None:
    named = OutboundPolicy(hosts=frozenset({"api.example.com"}), named=(Origin("127.0.0.1", local_http),))
    assert (await get(named, f"http://127.0.0.1:{local_http}/")).text == "inside"
    with pytest.raises(httpx.ConnectError):
        await get(named, f"http://localhost:{local_http}/")  # the same server by another name: not named
    other = OutboundPolicy(hosts=frozenset({"api.example.com"}), named=(Origin("127.0.0.1", free_port()),))
    with pytest.raises(httpx.ConnectError):
        await get(other, f"http://127.0.0.1:{local_http}/")


async def test_no_proxy_from_the_environment_is_used(local_http: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{local_http}")
    monkeypatch.setenv("ALL_PROXY", f"http://127.0.0.1:{local_http}")
    policy = OutboundPolicy(hosts=None, https_only=False)
    with pytest.raises(httpx.ConnectError):
        await get(policy, "http://unresolvable.invalid/")  # a proxy would have answered "inside"


def test_a_mistyped_provider_host_stops_the_start() -> None:
    for wrong in ("http://", "sim.local:port"):
        with pytest.raises(ValidationError, match="provider_hosts"):
            Settings(provider_hosts=wrong)
    assert Settings(provider_hosts="127.0.0.1:8000, api.example.com").provider_hosts
