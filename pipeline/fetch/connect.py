"""The SSRF guard at connect time, as aiohttp connector hooks.

`GuardedResolver` is the connector's resolver: it resolves a host name, refuses it per the
`AddressPolicy` (AddressRefused, with the reason) and hands the connector only the addresses it
checked, so DNS cannot change the answer between the check and the connection (no rebinding
window). aiohttp does not ask a resolver about IP literals, so `guarded_socket_factory` checks the
address of every socket the connector opens as well: nothing is connected to that the policy did
not allow, whichever path the address came by.
"""

from __future__ import annotations

import asyncio
import functools
import socket
import ssl
from collections.abc import Callable

import certifi
from aiohttp import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult

from pipeline.fetch.guard import AddressPolicy, AddressRefused, Resolver, address_refusal, allowed_addresses


class GuardedResolver(AbstractResolver):
    """Resolves through `resolver` (within `timeout` seconds) and returns checked addresses only."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver, timeout: float | None) -> None:
        self._policy = policy
        self._resolver = resolver
        self._timeout = timeout

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        # AddressRefused and ResolutionFailed are not OSErrors: aiohttp passes them on unwrapped; a
        # TimeoutError becomes its ConnectionTimeoutError
        async with asyncio.timeout(self._timeout):
            addresses = await allowed_addresses(host, port, self._policy, self._resolver)
        return [{"hostname": host, "host": address, "port": port, "family": _family(address),
                 "proto": 0, "flags": socket.AI_NUMERICHOST} for address in addresses]

    async def close(self) -> None:
        return None


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def guarded_socket_factory(policy: AddressPolicy) -> Callable[[AddrInfoType], socket.socket]:
    """A socket factory for the connector that refuses (AddressRefused) to open a socket for an
    address the policy does not allow."""

    def factory(addr_info: AddrInfoType) -> socket.socket:
        family, kind, proto, _, address = addr_info
        reason = address_refusal(policy, str(address[0]))
        if reason:
            raise AddressRefused(reason)
        return socket.socket(family=family, type=kind, proto=proto)  # aiohttp sets TCP_NODELAY

    return factory


@functools.cache
def default_tls_context() -> ssl.SSLContext:
    """Certificate and host name verification against certifi's CA bundle (loaded once per process:
    that costs ~20 ms, and a poll cycle makes a new client)."""
    return ssl.create_default_context(cafile=certifi.where())
