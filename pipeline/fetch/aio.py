"""Byte streams over asyncio sockets for the HTTP transport, and the event loop the HTTP cycles run on.

`ByteStream` is an `asyncio.Protocol`: the event loop hands it received bytes directly, and a read
only waits (with a timer) when nothing is buffered yet, so a small response that has already
arrived costs no future and no timer. Reading pauses the socket when a consumer falls behind
(bounded memory), and the protocol always knows whether the peer closed the connection, which is
what an idle keep-alive connection is checked for before reuse. Failures are raised as the httpx
exceptions the HTTP layer classifies (ConnectError/ConnectTimeout, ReadError/ReadTimeout,
WriteError/WriteTimeout).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

import httpx

T = TypeVar("T")

HIGH_WATER = 256 * 1024  # buffered bytes at which the socket stops being read until the consumer catches up


def _expire(waiter: asyncio.Future[None], kind: type[httpx.TimeoutException], what: str) -> None:
    if not waiter.done():
        waiter.set_exception(kind(f"{what} timed out"))


class ByteStream(asyncio.Protocol):
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._transport: asyncio.Transport | None = None
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._eof = False
        self._lost: BaseException | None = None
        self._closed = False
        self._reading_paused = False
        self._writing_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None

    # protocol callbacks, run by the event loop

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's transports do not subclass it

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered >= HIGH_WATER and not self._reading_paused and self._transport is not None:
            self._reading_paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self._eof = True
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = True
        self._closed = True
        self._lost = exc
        self._wake()
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def pause_writing(self) -> None:
        self._writing_paused = True

    def resume_writing(self) -> None:
        self._writing_paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # the consumer's side

    @property
    def usable_when_idle(self) -> bool:
        """False once the peer closed (or reset) the connection, or sent bytes nobody asked for."""
        return not self._eof and not self._chunks and not self._closed

    async def read(self, timeout: float | None) -> bytes:
        """The bytes received so far (waiting up to `timeout` for some), or b"" at end of stream."""
        if not self._chunks and not self._eof:
            self._waiter = self._loop.create_future()
            try:
                await self._wait(self._waiter, timeout, httpx.ReadTimeout, "read")
            finally:
                self._waiter = None
        if self._chunks:
            return self.take_buffered()
        if self._lost is not None:
            raise httpx.ReadError(str(self._lost) or type(self._lost).__name__) from self._lost
        return b""

    def take_buffered(self) -> bytes:
        """The bytes received and not read yet, without waiting."""
        if not self._chunks:
            return b""
        data = b"".join(self._chunks)
        self._chunks = []
        self._buffered = 0
        if self._reading_paused and self._transport is not None and not self._closed:
            self._reading_paused = False
            self._transport.resume_reading()
        return data

    async def write(self, data: bytes, timeout: float | None) -> None:
        if self._closed or self._transport is None or self._transport.is_closing():
            raise httpx.WriteError("connection closed by the peer")
        self._transport.write(data)
        if not self._writing_paused:
            return
        self._drain_waiter = self._loop.create_future()
        try:
            await self._wait(self._drain_waiter, timeout, httpx.WriteTimeout, "write")
        finally:
            self._drain_waiter = None
        if self._closed:
            raise httpx.WriteError("connection closed by the peer")

    async def _wait(self, waiter: asyncio.Future[None], timeout: float | None,
                    kind: type[httpx.TimeoutException], what: str) -> None:
        """Await `waiter`; after `timeout` seconds it fails with `kind` (a timer only when one is set)."""
        timer = None if timeout is None else self._loop.call_later(timeout, _expire, waiter, kind, what)
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()

    def close(self) -> None:
        """Close now; unsent bytes are dropped (only a finished or failed exchange is closed)."""
        self._closed = True
        if self._transport is not None:
            self._transport.abort()

    def get_extra_info(self, name: str) -> Any:
        return self._transport.get_extra_info(name) if self._transport is not None else None


async def open_stream(address: str, port: int, timeout: float | None, *,
                      ssl_context: ssl.SSLContext | None = None, server_hostname: str | None = None) -> ByteStream:
    """Connect to an IP address (already checked by the caller); TLS when `ssl_context` is given,
    verifying the certificate against `server_hostname`. The timeout covers the TLS handshake."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            transport, stream = await loop.create_connection(
                lambda: ByteStream(loop), address, port, ssl=ssl_context,
                server_hostname=server_hostname if ssl_context is not None else None)
    except TimeoutError as exc:
        raise httpx.ConnectTimeout(f"connect to {address}:{port} timed out") from exc
    except OSError as exc:  # includes ssl.SSLError (certificate verification, handshake)
        raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return stream


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's event loop when it is installed (it is, through the locked dependencies), else the
    standard one: same semantics, a cheaper loop per request."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def run(coro: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on the fastest available event loop."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(coro)
