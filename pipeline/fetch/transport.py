"""A lean HTTP/1.1 transport for httpx: h11 over asyncio sockets, a keep-alive pool per origin, and
the SSRF guard at connect time.

Requests and responses stay httpx objects (the client code, its exceptions and tests use httpx's
API); what this replaces is httpcore's connection pool, whose bookkeeping scans every connection
for every request. Here a request takes an idle connection of its origin from a deque (newest
first) or opens one, and gives it back when the response has been read to the end (or its unread
rest had already arrived, as with a 304) and h11 says both sides are done and keep-alive is
allowed; anything else closes the connection. A response must be closed: it holds its slot.

- Connecting resolves the host, refuses it per `AddressPolicy` (AddressRefused) and connects to an
  address that was checked, so DNS cannot change the answer in between.
- An idle connection the peer closed is dropped before reuse. If a reused connection fails before
  any byte of the response arrived (the server closed it while the request was on its way), a GET
  is retried once on a new connection.
- Timeouts come from `request.extensions["timeout"]` (connect, read, write, pool) and raise
  httpx's ConnectTimeout, ReadTimeout, WriteTimeout, PoolTimeout; a malformed response or one whose
  header exceeds `max_header_bytes` raises RemoteProtocolError.
- The body is streamed as received, still content-encoded (the caller decodes with its own caps).
  No proxies, no HTTP/2.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator

import certifi
import h11
import httpx

from pipeline.fetch.aio import ByteStream, open_stream
from pipeline.fetch.guard import AddressPolicy, ResolutionFailed, Resolver, allowed_addresses, system_resolver

DEFAULT_PORTS = {b"http": 80, b"https": 443}
_NO_TIMEOUTS: dict[str, float | None] = {}

Origin = tuple[bytes, str, int]


class _Connection:
    __slots__ = ("origin", "stream", "h11", "idle_since")

    def __init__(self, origin: Origin, stream: ByteStream, max_header_bytes: int) -> None:
        self.origin = origin
        self.stream = stream
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=max_header_bytes)
        self.idle_since = 0.0

    def close(self) -> None:
        self.stream.close()


class _Stale(Exception):
    """A reused connection failed before any response byte arrived (the keep-alive race)."""


class LeanTransport(httpx.AsyncBaseTransport):
    """`max_connections` bounds the requests in flight (a request waits up to the pool timeout for
    a slot); idle connections are kept up to `max_idle_per_origin` per origin and `max_idle` in all,
    for at most `idle_expiry` seconds."""

    def __init__(self, *, policy: AddressPolicy | None = None, resolver: Resolver = system_resolver,
                 ssl_context: ssl.SSLContext | None = None, max_connections: int = 32,
                 max_idle_per_origin: int = 8, max_idle: int = 64, idle_expiry: float = 5.0,
                 max_header_bytes: int = 64 * 1024) -> None:
        self._policy = policy or AddressPolicy()
        self._resolver = resolver
        self._ssl_context = ssl_context
        self._slots = asyncio.Semaphore(max(1, max_connections))
        self._max_idle_per_origin = max(0, max_idle_per_origin)
        self._max_idle = max(0, max_idle)
        self._idle_expiry = idle_expiry
        self._max_header_bytes = max_header_bytes
        self._idle: dict[Origin, deque[_Connection]] = {}
        self._idle_order: OrderedDict[_Connection, None] = OrderedDict()  # oldest first
        self._active: set[_Connection] = set()
        self._closed = False

    # the httpx transport contract

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.raw_scheme
        if scheme not in DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"unsupported URL scheme {url.scheme!r}", request=request)
        if not url.raw_host:
            raise httpx.UnsupportedProtocol("URL has no host", request=request)
        if self._closed:
            raise RuntimeError("the transport is closed")
        origin: Origin = (scheme, url.raw_host.decode("ascii"), url.port or DEFAULT_PORTS[scheme])
        timeouts = request.extensions.get("timeout", _NO_TIMEOUTS)
        try:
            await self._take_slot(timeouts.get("pool"))
        except httpx.TransportError as exc:
            exc.request = request
            raise
        conn: _Connection | None = None
        try:
            conn, head = await self._start(origin, request, timeouts)
            return httpx.Response(head.status_code, headers=head.headers.raw_items(),
                                  stream=_Body(self, conn, timeouts.get("read")),
                                  extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason})
        except BaseException as exc:
            if conn is not None:
                self._discard(conn)
            self._slots.release()
            if isinstance(exc, httpx.TransportError):
                exc.request = request
            raise

    async def _start(self, origin: Origin, request: httpx.Request,
                     timeouts: dict[str, float | None]) -> tuple[_Connection, h11.Response]:
        """Send the request on an idle or new connection and read the response head. A connection
        that fails here is closed."""
        conn = self._idle_connection(origin)
        try:
            if conn is not None:
                try:
                    return conn, await self._exchange(conn, request, timeouts, reused=request.method == "GET")
                except _Stale:
                    self._discard(conn)
            conn = None
            conn = await self._connect(origin, timeouts.get("connect"))
            return conn, await self._exchange(conn, request, timeouts, reused=False)
        except BaseException as exc:
            if conn is not None:
                self._discard(conn)
            if isinstance(exc, h11.LocalProtocolError):
                raise httpx.LocalProtocolError(str(exc) or type(exc).__name__) from exc
            if isinstance(exc, h11.RemoteProtocolError):
                raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc
            raise

    async def aclose(self) -> None:
        self._closed = True
        for conn in list(self._idle_order) + list(self._active):
            conn.close()
        self._idle.clear()
        self._idle_order.clear()
        self._active.clear()

    # the pool

    async def _take_slot(self, timeout: float | None) -> None:
        if not self._slots.locked():
            await self._slots.acquire()
            return
        try:
            async with asyncio.timeout(timeout):
                await self._slots.acquire()
        except TimeoutError as exc:
            raise httpx.PoolTimeout("no connection slot became free in time") from exc

    def _idle_connection(self, origin: Origin) -> _Connection | None:
        """The most recently used idle connection of `origin` that is still usable, or None."""
        self._expire_idle()
        idle = self._idle.get(origin)
        while idle:
            conn = idle.pop()
            del self._idle_order[conn]
            if conn.stream.usable_when_idle:
                self._active.add(conn)
                return conn
            conn.close()
        return None

    def _expire_idle(self) -> None:
        if not self._idle_order:
            return
        deadline = time.monotonic() - self._idle_expiry
        while self._idle_order:
            oldest = next(iter(self._idle_order))
            if oldest.idle_since > deadline:
                return
            self._evict_oldest()

    def _evict_oldest(self, origin: Origin | None = None) -> None:
        """Close the oldest idle connection (of `origin`, or of all): it is the left end of its deque."""
        if origin is None:
            conn, _ = self._idle_order.popitem(last=False)
            idle = self._idle[conn.origin]
            idle.popleft()
        else:
            idle = self._idle[origin]
            conn = idle.popleft()
            del self._idle_order[conn]
        if not idle:
            del self._idle[conn.origin]
        conn.close()

    def _discard(self, conn: _Connection) -> None:
        self._active.discard(conn)
        conn.close()

    def _release(self, conn: _Connection, complete: bool) -> None:
        """Back to the pool when the exchange ended cleanly and keep-alive is allowed, else closed."""
        self._slots.release()
        self._active.discard(conn)
        state = conn.h11
        if not (complete and state.our_state is h11.DONE and state.their_state is h11.DONE) \
                or self._closed or not self._max_idle_per_origin or not self._max_idle:
            conn.close()
            return
        try:
            state.start_next_cycle()
        except h11.LocalProtocolError:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        idle = self._idle.get(conn.origin)
        if idle is None:
            idle = self._idle[conn.origin] = deque()
        elif len(idle) >= self._max_idle_per_origin:
            self._evict_oldest(conn.origin)
            idle = self._idle.setdefault(conn.origin, deque())
        if len(self._idle_order) >= self._max_idle:
            self._evict_oldest()
            idle = self._idle.setdefault(conn.origin, deque())
        idle.append(conn)
        self._idle_order[conn] = None

    async def _connect(self, origin: Origin, timeout: float | None) -> _Connection:
        scheme, host, port = origin
        try:
            async with asyncio.timeout(timeout):
                addresses = await allowed_addresses(host, port, self._policy, self._resolver)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"resolving {host} timed out") from exc
        except ResolutionFailed as exc:
            raise httpx.ConnectError(str(exc)) from exc
        context = self._tls_context() if scheme == b"https" else None
        failure: httpx.TransportError | None = None
        for address in addresses:
            try:
                stream = await open_stream(address, port, timeout, ssl_context=context, server_hostname=host)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                failure = exc
                continue
            conn = _Connection(origin, stream, self._max_header_bytes)
            self._active.add(conn)
            return conn
        assert failure is not None
        raise failure

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            self._ssl_context = ssl.create_default_context(cafile=certifi.where())
        return self._ssl_context

    # one exchange on one connection

    async def _exchange(self, conn: _Connection, request: httpx.Request, timeouts: dict[str, float | None],
                        reused: bool) -> h11.Response:
        """Send the request and read up to the response head. On a `reused` connection, a failure
        before any response byte is raised as _Stale (safe to retry)."""
        state = conn.h11
        url = request.url
        headers = request.headers.raw
        names = {name.lower() for name, _ in headers}
        if b"host" not in names:
            headers = [(b"Host", url.netloc), *headers]
        pending = state.send(h11.Request(method=request.method, target=url.raw_path, headers=headers)) or b""
        write_timeout = timeouts.get("write")
        try:
            if b"content-length" in names or b"transfer-encoding" in names:
                async for chunk in request.stream:  # type: ignore[union-attr]
                    if chunk:
                        await conn.stream.write(pending, write_timeout)
                        pending = state.send(h11.Data(data=chunk)) or b""
            await conn.stream.write(pending + (state.send(h11.EndOfMessage()) or b""), write_timeout)
        except httpx.WriteError as exc:
            if reused:
                raise _Stale from exc
            raise
        read_timeout = timeouts.get("read")
        received = 0
        while True:
            event = state.next_event()
            if event is h11.NEED_DATA:
                try:
                    chunk = await conn.stream.read(read_timeout)
                except httpx.ReadError as exc:
                    if reused and not received:
                        raise _Stale from exc
                    raise
                if not chunk and not received:
                    if reused:
                        raise _Stale
                    raise httpx.RemoteProtocolError("server disconnected without sending a response")
                received += len(chunk)
                state.receive_data(chunk)
                continue
            if type(event) is h11.Response:
                # h11 bounds a head that is still incomplete; one that arrived whole is measured here
                if received > self._max_header_bytes and _head_size(event) > self._max_header_bytes:
                    raise httpx.RemoteProtocolError(f"response header exceeds {self._max_header_bytes} bytes")
                return event
            if type(event) is h11.InformationalResponse:
                continue
            if type(event) is h11.ConnectionClosed:
                raise httpx.RemoteProtocolError("server disconnected without sending a response")
            raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__} before the response")


def _head_size(head: h11.Response) -> int:
    return 15 + len(head.reason) + sum(len(name) + len(value) + 4 for name, value in head.headers.raw_items())


class _Body(httpx.AsyncByteStream):
    """The response body as it arrives (content-encoded); closing it returns or closes the connection."""

    def __init__(self, transport: LeanTransport, conn: _Connection, read_timeout: float | None) -> None:
        self._transport = transport
        self._conn: _Connection | None = conn
        self._read_timeout = read_timeout
        self._complete = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        if conn is None:
            raise httpx.StreamClosed()
        state = conn.h11
        try:
            while True:
                event = state.next_event()
                if event is h11.NEED_DATA:
                    state.receive_data(await conn.stream.read(self._read_timeout))
                elif type(event) is h11.Data:
                    yield bytes(event.data)
                elif type(event) is h11.EndOfMessage:
                    self._complete = True
                    return
                else:
                    raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__} in the response body")
        except h11.ProtocolError as exc:
            raise httpx.RemoteProtocolError(str(exc) or type(exc).__name__) from exc

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._transport._release(conn, self._complete or _rest_arrived(conn))


def _rest_arrived(conn: _Connection) -> bool:
    """Whether the unread rest of the response (none at all for a 304) has already arrived, so
    the connection can be reused without waiting; the rest is dropped."""
    state = conn.h11
    try:
        pending = conn.stream.take_buffered()
        if pending:
            state.receive_data(pending)
        while True:
            event = state.next_event()
            if type(event) is h11.EndOfMessage:
                return True
            if type(event) is not h11.Data:
                return False
    except (h11.ProtocolError, RuntimeError):  # a broken exchange; RuntimeError: data after EOF
        return False
