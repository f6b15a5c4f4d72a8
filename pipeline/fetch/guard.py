"""SSRF guard: resolve the host and refuse addresses a news fetcher has no business reaching.

Loopback, private, link-local, CGNAT, multicast, reserved and unspecified addresses are refused
unless `Settings.allow_private_addresses` (optionally narrowed by `allowed_private_networks`).
Cloud metadata endpoints are refused always. The check runs before every hop of a redirect chain,
and the HTTP client connects only to addresses that `allowed_addresses` checked (no DNS-rebinding
window; `pipeline.fetch.connect`).
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pipeline.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in ("169.254.169.254", "169.254.170.2", "100.100.100.200", "192.0.0.192", "fd00:ec2::254")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class AddressRefused(Exception):
    """Raised by allowed_addresses (so by the HTTP client's connect) when a host has a refused address."""


class ResolutionFailed(Exception):
    """Raised by check_url when the host name does not resolve (a network problem, not a refusal)."""


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allowed_networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    # address -> (parseable, refusal reason); a pure function of the policy, so worked out once
    _verdicts: dict[str, tuple[bool, str | None]] = field(default_factory=dict, init=False, repr=False,
                                                         compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> AddressPolicy:
        nets = tuple(
            ipaddress.ip_network(n.strip(), strict=False)
            for n in settings.allowed_private_networks.split(",")
            if n.strip()
        )
        return cls(allow_private=settings.allow_private_addresses, allowed_networks=nets)

    def refusal(self, ip: IPAddress) -> str | None:
        """Why `ip` is refused, or None if it may be contacted."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip in _METADATA:
            return f"{ip} is a cloud metadata address"
        kind = _private_kind(ip)
        if kind is None:
            return None
        if not self.allow_private:
            return f"{ip} is a {kind} address"
        if self.allowed_networks and not any(ip in n for n in self.allowed_networks):
            return f"{ip} is a {kind} address outside the allowed networks"
        if kind == "link-local":
            return f"{ip} is a link-local address"
        return None


def _private_kind(ip: IPAddress) -> str | None:
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "shared (CGNAT)"
    if ip.is_reserved:  # before is_private, which also covers 240.0.0.0/4
        return "reserved"
    if ip.is_private:
        return "private"
    return None


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


class CachingResolver:
    """Remembers answers for `ttl` seconds: one lookup per host per cycle instead of per request.
    The connection itself still goes to an address that passed the check (allowed_addresses)."""

    def __init__(self, inner: Resolver = system_resolver, ttl: float = 60.0) -> None:
        self._inner = inner
        self._ttl = ttl
        self._cache: dict[tuple[str, int], tuple[float, list[str]]] = {}

    async def __call__(self, host: str, port: int) -> list[str]:
        now = time.monotonic()
        hit = self._cache.get((host, port))
        if hit is not None and hit[0] > now:
            return hit[1]
        addresses = await self._inner(host, port)
        self._cache[(host, port)] = (now + self._ttl, addresses)
        return addresses


@functools.lru_cache(maxsize=4096)
def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


@functools.lru_cache(maxsize=4096)
def _literal_address(host: str) -> str | None:
    ip = _literal(host)
    return None if ip is None else str(ip)


@functools.lru_cache(maxsize=8192)
def _target(url: str) -> tuple[str, int] | str:
    """(host, port) of an http(s) URL, or why it has none: a pure function of the string, so a feed
    polled every cycle is split once (its host is still resolved and checked every time)."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # a malformed IP literal: "http://[::1/", "http://[zz]/"
        return f"invalid URL: {exc}"
    if parts.scheme not in ("http", "https"):
        return f"unsupported URL scheme {parts.scheme!r}"
    host = parts.hostname
    if not host:
        return "URL has no host"
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "URL has an invalid port"
    return host, port


async def check_url(url: str, policy: AddressPolicy, resolver: Resolver = system_resolver) -> str | None:
    """Resolve the URL's host; return the refusal reason, or None when every address is allowed.
    Raises ResolutionFailed when the name does not resolve."""
    target = _target(url)
    if isinstance(target, str):
        return target
    try:
        await allowed_addresses(*target, policy, resolver)
    except AddressRefused as exc:
        return str(exc)
    return None


async def allowed_addresses(host: str, port: int, policy: AddressPolicy,
                            resolver: Resolver = system_resolver) -> list[str]:
    """Every address `host` resolves to, each allowed by `policy`; the caller connects to these and
    nothing else, so DNS cannot change the answer in between. Raises AddressRefused with the reason
    when any address is refused, ResolutionFailed when the name does not resolve."""
    literal = _literal_address(host)
    if literal is not None:
        addresses = [literal]
    else:
        lowered = host.lower()
        if lowered in ("localhost", "localhost.localdomain") or lowered.endswith(".localhost"):
            if not policy.allow_private:
                raise AddressRefused(f"host {host} is loopback")
        try:
            addresses = await resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise ResolutionFailed(f"cannot resolve {host}: {exc}") from exc
        if not addresses:
            raise ResolutionFailed(f"cannot resolve {host}: no addresses")
    for addr in addresses:
        parsed, reason = _verdict(policy, addr)
        if not parsed:
            raise AddressRefused(f"{host} resolved to an unparseable address {addr!r}")
        if reason:
            raise AddressRefused(f"host {host}: {reason}" if literal is None else reason)
    return addresses


def address_refusal(policy: AddressPolicy, addr: str) -> str | None:
    """Why connecting to the IP address `addr` is refused, or None when the policy allows it."""
    parsed, reason = _verdict(policy, addr)
    return reason if parsed else f"unparseable address {addr!r}"


def _verdict(policy: AddressPolicy, addr: str) -> tuple[bool, str | None]:
    """(parseable, refusal reason) for one address, remembered by the policy: every hop is still
    checked, the answer is computed once per address."""
    known = policy._verdicts.get(addr)
    if known is not None:
        return known
    ip = _literal(addr.split("%")[0])
    verdict = (False, None) if ip is None else (True, policy.refusal(ip))
    if len(policy._verdicts) >= 4096:
        policy._verdicts.clear()
    policy._verdicts[addr] = verdict
    return verdict
