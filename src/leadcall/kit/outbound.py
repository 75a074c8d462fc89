"""Outbound requests only where they belong: the guard against server-side request forgery.

Anything leadcall calls on a tenant's say (a provider's base URL, later the CRM's webhook endpoints) goes
through an `OutboundPolicy`, checked twice:

* when the URL is saved (`check_url`): the scheme, the host against the allowed ones, and an address
  written out (`http://10.0.0.5`) against the private ranges;
* when a connection is opened (`GuardedTransport`): the host is resolved and every address it resolves
  to is checked before the socket is opened to that very address, so a name that answers a public address
  when saved and a private one later (DNS rebinding) reaches nothing inside.

Refused are loopback, private, link-local, shared, reserved, multicast and unspecified addresses (whatever
`ipaddress` does not call global), including IPv4 written inside IPv6, unless `allow_private`. Origins the
operator names (`named`) are trusted as they are: the operator may point leadcall at its own simulator on
127.0.0.1. At connect time a refusal is an ordinary `httpx.ConnectError`, so a caller cannot tell a
refused address from one where nothing listens.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

DEFAULT_PORTS = {"http": 80, "https": 443}


class Refusal(StrEnum):
    BAD_URL = "bad_url"
    SCHEME = "scheme_not_allowed"
    HOST = "host_not_allowed"
    PRIVATE = "private_target"
    UNRESOLVED = "unresolved"


class TargetRefused(ValueError):
    def __init__(self, reason: Refusal, host: str) -> None:
        super().__init__(f"{reason.value}: {host}")
        self.reason = reason
        self.host = host


@dataclass(frozen=True)
class Origin:
    """A host and port the operator allows (`port` None: the scheme's default port)."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> Origin:
        """`host`, `host:port`, `[v6]:port` or a URL (its host and port count; its path does not)."""
        text = entry.strip()
        split = urlsplit(text if "://" in text else f"//{text}")
        if not split.hostname:
            raise ValueError(f"not a host: {entry!r}")
        return cls(split.hostname.lower().rstrip("."), split.port)

    def matches(self, host: str, port: int, scheme: str) -> bool:
        return host == self.host and port == (self.port if self.port is not None else DEFAULT_PORTS.get(scheme))


def parse_origins(text: str) -> tuple[Origin, ...]:
    """A comma- or space-separated list, as in `LEADCALL_PROVIDER_HOSTS`."""
    return tuple(Origin.parse(entry) for entry in text.replace(",", " ").split())


def is_public(address: str) -> bool:
    """Whether an IP address is one anyone on the internet can reach (not ours to protect)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public(str(embedded)):
            return False
    return ip.is_global and not ip.is_multicast


def _literal_ip(host: str) -> str | None:
    """The address a host written as one stands for, in any form a resolver accepts (`127.1`, `0x7f000001`,
    `2130706433` are 127.0.0.1 too); None for a name."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fx.]+", host) and re.search(r"[0-9]", host):
        try:
            return socket.inet_ntoa(socket.inet_aton(host))
        except OSError:
            return None
    return None


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    named: bool  # one of the operator's origins: trusted wherever it points


@dataclass(frozen=True)
class OutboundPolicy:
    """`hosts`: the hostnames allowed besides the named origins (None: any host on the internet).
    `https_only` applies to them; named origins may use plain http (a local simulator)."""

    hosts: frozenset[str] | None
    named: tuple[Origin, ...] = ()
    allow_private: bool = False
    https_only: bool = True

    def check_url(self, url: str | httpx.URL) -> Target:
        """The checks that need no network; raises `TargetRefused`."""
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except httpx.InvalidURL:
            raise TargetRefused(Refusal.BAD_URL, str(url)[:100]) from None
        scheme, host = parsed.scheme, parsed.host.lower().rstrip(".")
        if not host or parsed.userinfo:
            raise TargetRefused(Refusal.BAD_URL, host)
        if scheme not in DEFAULT_PORTS:
            raise TargetRefused(Refusal.SCHEME, host)
        port = parsed.port or DEFAULT_PORTS[scheme]
        if any(origin.matches(host, port, scheme) for origin in self.named):
            return Target(scheme, host, port, named=True)
        if self.hosts is not None and host not in self.hosts:
            raise TargetRefused(Refusal.HOST, host)
        if self.https_only and scheme != "https":
            raise TargetRefused(Refusal.SCHEME, host)
        address = _literal_ip(host)
        if address is not None and not self.allow_private and not is_public(address):
            raise TargetRefused(Refusal.PRIVATE, host)
        return Target(scheme, host, port, named=False)

    def trusts(self, host: str, port: int) -> bool:
        """Whether a connection to `host:port` may reach a private address (an operator's origin)."""
        return self.allow_private or any(
            o.host == host and (port == o.port if o.port is not None else port in DEFAULT_PORTS.values())
            for o in self.named)

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to, all of them allowed; raises `TargetRefused`."""
        try:
            found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            raise TargetRefused(Refusal.UNRESOLVED, host) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        if not addresses:
            raise TargetRefused(Refusal.UNRESOLVED, host)
        if not self.trusts(host.lower().rstrip("."), port) and not all(is_public(a) for a in addresses):
            raise TargetRefused(Refusal.PRIVATE, host)
        return addresses


class _Refused(httpcore.ConnectError):
    """Seen by callers as httpx.ConnectError, as a port where nothing listens is."""


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Opens sockets only to addresses the policy allows, and to exactly the address it checked."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    # httpcore's interface passes the timeout in.
    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        try:
            with anyio.fail_after(timeout):
                addresses = await self._policy.addresses(host, port)
        except TargetRefused as refused:
            raise _Refused(f"connection to {host} refused ({refused.reason.value})") from None
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None,  # noqa: ASYNC109
                                  socket_options: Iterable[Any] | None = None) -> httpcore.AsyncNetworkStream:
        raise _Refused("unix sockets are not an outbound target")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport under an `OutboundPolicy`: each request's URL is checked (`check_url`), each new
    connection's resolved addresses too. No proxy is used, not even one from the environment."""

    def __init__(self, policy: OutboundPolicy, *, limits: httpx.Limits = httpx.Limits(),
                 verify: bool = True) -> None:
        self._policy = policy
        # SSL_CERT_FILE / SSL_CERT_DIR still count (a private CA); proxy variables do not.
        ssl_context = httpx.create_ssl_context(verify=verify, trust_env=True)
        self._inner = httpx.AsyncHTTPTransport(limits=limits, verify=ssl_context, trust_env=False)
        # httpx builds its connection pool without a network backend argument; this one is the same pool
        # but for the backend.
        self._inner._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context, max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(policy))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            self._policy.check_url(request.url)
        except TargetRefused as refused:
            raise httpx.ConnectError(f"connection to {refused.host} refused ({refused.reason.value})",
                                     request=request) from None
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
