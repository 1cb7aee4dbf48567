"""Where outgoing requests may go: the egress policy of a shared (team) server.

On a server that several people open, a base URL typed in the sidebar makes the *server* send
a request, so without a policy any visitor can point it at the server's own loopback, the
cloud metadata service or the office network and read the answers. In local mode (the
default) the policy is off and nothing changes. In team mode every request is checked twice:

- the URL, before it is sent and at every redirect hop (scheme, the admin's list, a redirect
  to another server), so the refusal can say why in words;
- the connection itself, after DNS resolution: a guarded httpcore network backend resolves the
  name, checks every address and connects to the address it checked, so a name that resolves
  to loopback (or changes its answer between check and connect) cannot slip through.

Listed servers (`allowed`: origins, `host:port` or bare hosts) are allowed whatever they
resolve to; that is how an admin lets a team use a local Ollama. With `only_listed`, nothing
else is allowed at all.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpcore
import httpx

from core.wire.errors import ToolsmithError

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Cloud metadata services answer on these; named apart because they hand out credentials.
METADATA_ADDRESSES = frozenset({
    ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("169.254.170.2"),
    ipaddress.ip_address("100.100.100.200"), ipaddress.ip_address("fd00:ec2::254")})
ADMIN_HINT = "Ask an admin to add the server to allowed_servers in [egress] if the team needs it."


class EgressRefused(ToolsmithError):
    """The team server's policy does not let a request go there; the message says why."""

    kind = "egress"


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system's resolver gives for `host` (IPv4 and IPv6)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise EgressRefused(f"The name {host} could not be resolved ({exc.strerror}). "
                            "Check the address.") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def address_kind(ip: IPAddress) -> str:
    """Why an address is off limits on a shared server, or "" for an ordinary public one."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return address_kind(ip.ipv4_mapped)
    if ip in METADATA_ADDRESSES:
        return "the cloud metadata service"
    if ip.is_loopback:
        return "a loopback address (this server itself)"
    if ip.is_unspecified:
        return "the unspecified address (this server itself)"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_private or (isinstance(ip, ipaddress.IPv4Address)
                         and ip in ipaddress.ip_network("100.64.0.0/10")):
        return "a private network address"
    if ip.is_multicast or ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return ""


@dataclass(frozen=True)
class Allowed:
    """One entry of the admin's list: a host, with a port and scheme when the entry gave them."""

    host: str
    port: int | None = None
    scheme: str = ""

    @classmethod
    def parse(cls, entry: str) -> Allowed:
        text = entry.strip()
        if "://" not in text:
            text = "//" + text
        parts = urlsplit(text)
        try:
            port = parts.port
        except ValueError:
            raise ValueError(f"allowed_servers: {entry!r} has a port that is not a number") \
                from None
        scheme = parts.scheme.lower()
        if not parts.hostname:
            raise ValueError(f"allowed_servers: {entry!r} names no host")
        return cls(parts.hostname.lower(), port or _DEFAULT_PORTS.get(scheme), scheme)

    def matches(self, host: str, port: int, scheme: str = "") -> bool:
        return (host.lower().strip("[]") == self.host.strip("[]")
                and self.port in (None, port)
                and (not scheme or not self.scheme or scheme == self.scheme))


@dataclass(frozen=True)
class EgressPolicy:
    """`restricted` False (local mode) allows everything; see the module docstring."""

    restricted: bool = False
    allowed: tuple[Allowed, ...] = ()
    only_listed: bool = False
    resolve: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def team(cls, entries: Iterable[str], *, only_listed: bool | None = None,
             resolve: Resolver = system_resolver) -> EgressPolicy:
        """A restricted policy; `only_listed` defaults to True when the list is not empty."""
        allowed = tuple(Allowed.parse(e) for e in entries if str(e).strip())
        listed_only = bool(allowed) if only_listed is None else only_listed
        return cls(True, allowed, listed_only, resolve)

    def listed(self, host: str, port: int, scheme: str = "") -> bool:
        return any(a.matches(host, port, scheme) for a in self.allowed)

    def check_url(self, url: str | httpx.URL) -> None:
        """Refuse a URL by its scheme and host (the address is checked when connecting)."""
        if not self.restricted:
            return
        parsed = httpx.URL(str(url)) if not isinstance(url, httpx.URL) else url
        scheme = parsed.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise EgressRefused(
                f"Refused: {scheme or 'an address without a scheme'}:// is not HTTP. On this "
                "team server requests go only to http:// and https:// addresses.")
        host = parsed.host
        port = parsed.port or _DEFAULT_PORTS[scheme]
        if not host:
            raise EgressRefused("Refused: the address names no host.")
        if self.only_listed and not self.listed(host, port, scheme):
            raise EgressRefused(
                f"Refused: {scheme}://{_netloc(host, port)} is not one of the servers this "
                f"team server may send requests to. {ADMIN_HINT}")

    def check_redirect(self, origin: httpx.URL, target: httpx.URL) -> None:
        """A redirect is followed only within the same server (scheme, host, port)."""
        if not self.restricted:
            return
        if _origin(origin) != _origin(target):
            raise EgressRefused(
                f"Refused: {_origin_text(origin)} redirected the request to "
                f"{_origin_text(target)}, another server. On this team server redirects are "
                "followed only within the same server; use the address it leads to as the "
                "base URL if that server is allowed.")
        self.check_url(target)

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for host:port, every one of them checked."""
        if not self.restricted:
            return [host]
        bare = host.strip("[]")
        try:
            literal: IPAddress | None = ipaddress.ip_address(bare)
        except ValueError:
            literal = None
        found = [bare] if literal is not None else self.resolve(bare, port)
        if not found:
            raise EgressRefused(f"The name {host} resolves to no address. Check the address.")
        if self.listed(bare, port):
            return found
        if self.only_listed:
            raise EgressRefused(
                f"Refused: {_netloc(bare, port)} is not one of the servers this team server "
                f"may send requests to. {ADMIN_HINT}")
        for text in found:
            kind = address_kind(ipaddress.ip_address(text.split("%", 1)[0]))
            if kind:
                via = "" if literal is not None else f" ({host} resolves to {text})"
                raise EgressRefused(
                    f"Refused: {_netloc(bare, port)} is {kind}{via}. On this team server "
                    "requests may not go to the server itself or to internal networks. "
                    + ADMIN_HINT)
        return found


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme)


def _origin_text(url: httpx.URL) -> str:
    scheme, host, port = _origin(url)
    return f"{scheme}://{_netloc(host, port or 0)}"


# The process's policy: set once at start from the team configuration (core.team).
_lock = threading.Lock()
_current = EgressPolicy()


def current() -> EgressPolicy:
    return _current


def set_policy(policy: EgressPolicy) -> None:
    global _current
    with _lock:
        _current = policy


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's sync network backend, connecting only to addresses the policy allows."""

    def __init__(self, policy: EgressPolicy | None,
                 inner: httpcore.NetworkBackend | None = None) -> None:
        self.fixed = policy
        self.inner = inner or httpcore.SyncBackend()

    @property
    def policy(self) -> EgressPolicy:
        """The given policy, else the process's as it is now (clients outlive a reload)."""
        return self.fixed if self.fixed is not None else current()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self.policy.addresses(host, port):
            try:
                return self.inner.connect_tcp(address, port, timeout, local_address,
                                              socket_options)
            except httpcore.ConnectError as exc:  # try the next checked address
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        if self.policy.restricted:
            raise EgressRefused("Refused: Unix sockets are not reachable from a team server.")
        return self.inner.connect_unix_socket(path, timeout, socket_options)

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


class AsyncGuardedBackend(httpcore.AsyncNetworkBackend):
    """The async twin (MCP over HTTP); name resolution runs in a worker thread."""

    def __init__(self, policy: EgressPolicy | None,
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.fixed = policy
        self.inner = inner or httpcore.AnyIOBackend()

    @property
    def policy(self) -> EgressPolicy:
        return self.fixed if self.fixed is not None else current()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Iterable[Any] | None = None
                          ) -> httpcore.AsyncNetworkStream:
        found = await anyio.to_thread.run_sync(self.policy.addresses, host, port)
        last: Exception | None = None
        for address in found:
            try:
                return await self.inner.connect_tcp(address, port, timeout, local_address,
                                                    socket_options)
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Iterable[Any] | None = None
                                  ) -> httpcore.AsyncNetworkStream:
        if self.policy.restricted:
            raise EgressRefused("Refused: Unix sockets are not reachable from a team server.")
        return await self.inner.connect_unix_socket(path, timeout, socket_options)

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def guarded_transport(policy: EgressPolicy | None = None) -> httpx.HTTPTransport:
    """An httpx transport whose connections go through the policy (by default the process's,
    looked up at each connection, so a cached client follows a changed configuration).

    httpx builds its httpcore pool itself and offers no way to pass a network backend, so the
    pool's backend is wrapped after construction; tests/core/test_egress.py fails if an httpx
    upgrade moves it.
    """
    transport = httpx.HTTPTransport()
    pool = transport._pool
    pool._network_backend = GuardedBackend(policy, pool._network_backend)
    return transport


def async_guarded_transport(policy: EgressPolicy | None = None) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport()
    pool = transport._pool
    pool._network_backend = AsyncGuardedBackend(policy, pool._network_backend)
    return transport


def policy_of(client: httpx.Client | httpx.AsyncClient) -> EgressPolicy:
    """The policy a client's requests obey: its guarded backend's; none for an in-process
    transport (the demo model, a test's mock), which never touches the network; else the
    process's."""
    transport = getattr(client, "_transport", None)
    backend = getattr(getattr(transport, "_pool", None), "_network_backend", None)
    if isinstance(backend, GuardedBackend | AsyncGuardedBackend):
        return backend.policy
    if not isinstance(transport, httpx.HTTPTransport | httpx.AsyncHTTPTransport):
        return EgressPolicy()
    return current()


def parse_entries(value: Any) -> Sequence[str]:
    """allowed_servers as written: a list, or one comma-separated string."""
    if value is None:
        return ()
    if isinstance(value, str):
        return [part for part in value.split(",") if part.strip()]
    return [str(part) for part in value]
