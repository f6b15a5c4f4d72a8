"""HttpClient (aiohttp under it) against real sockets on 127.0.0.1: a scripted HTTP/1.1 server in
threads decides, request by request, what goes back on the wire (or that nothing does), and records
connections. Keep-alive and framing, broken servers, timeouts, the SSRF guard at connect time and on
every redirect hop, TLS, size caps after decompression, and the pool's bounds. Every test runs on the
standard event loop and on uvloop (the one the pipeline uses)."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ipaddress
import re
import socket
import ssl
import struct
import threading
import time
import tracemalloc
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from pipeline.config import Settings, load_settings
from pipeline.fetch import aio
from pipeline.fetch import http as http_module
from pipeline.fetch.connect import guarded_socket_factory
from pipeline.fetch.guard import AddressPolicy, AddressRefused
from pipeline.fetch.http import HttpClient, HttpResult
from pipeline.outcomes import Status
from simulator.hostile import gzip_bomb

pytestmark = pytest.mark.integration

LOOPBACK = {"allow_private_addresses": True, "allowed_private_networks": "127.0.0.0/8"}
STRICT: dict[str, Any] = {"allow_private_addresses": False}


def settings(**kw: Any) -> Settings:
    """Loopback allowed (and nothing else private), no robots.txt, no per-host delay, short timeouts."""
    return load_settings({}, **{**LOOPBACK, "per_host_delay": 0.0, "respect_robots": False,
                                "connect_timeout": 2.0, "read_timeout": 2.0, "total_timeout": 5.0, **kw})


def client(resolver: Any = None, ssl_context: ssl.SSLContext | None = None, **kw: Any) -> HttpClient:
    return HttpClient(settings(**kw), resolver=resolver, ssl_context=ssl_context)


def ok(body: bytes = b"ok", *extra: str) -> bytes:
    head = "".join(f"{h}\r\n" for h in extra)
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body


def chunked(*chunks: bytes) -> bytes:
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"
    return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body


@dataclass
class Reply:
    """What the server does with one request: send `data` (after `delay`), then keep the connection
    unless `close`; `hang` never answers; `drop` closes without answering, `reset` with an RST."""

    data: bytes = b""
    close: bool = False
    delay: float = 0.0
    hang: bool = False
    drop: bool = False
    reset: bool = False


Handler = Callable[[int, int, bytes], Reply]  # (connection number, request number on it, request head)


class ScriptedServer:
    def __init__(self, handler: Handler, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.accepted = 0
        self.closed_by_client = 0
        self.requests: list[tuple[int, bytes]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._conns: list[socket.socket] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, path: str = "/x", host: str = "127.0.0.1") -> str:
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{path}"

    def _serve(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with self._lock:
                self.accepted += 1
                number = self.accepted
            threading.Thread(target=self._handle, args=(conn, number), daemon=True).start()

    def _handle(self, conn: socket.socket, number: int) -> None:
        conn.settimeout(10)
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except (OSError, ssl.SSLError):
                conn.close()
                return
        self._conns.append(conn)
        buffer = b""
        count = 0
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        with self._lock:
                            self.closed_by_client += 1
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                count += 1
                with self._lock:
                    self.requests.append((number, head))
                    self.in_flight += 1
                    self.max_in_flight = max(self.max_in_flight, self.in_flight)
                reply = self.handler(number, count, head)
                try:
                    if reply.hang:
                        self._stop.wait(10)
                        return
                    if reply.reset:
                        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                        return
                    if reply.drop:
                        return
                    time.sleep(reply.delay)
                    conn.sendall(reply.data)
                finally:
                    with self._lock:
                        self.in_flight -= 1
                if reply.close:
                    return
        except OSError:
            return
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedServer]]:
    made: list[ScriptedServer] = []

    def make(handler: Handler, tls: ssl.SSLContext | None = None) -> ScriptedServer:
        made.append(ScriptedServer(handler, tls))
        return made[-1]

    yield make
    for server in made:
        server.close()


Runner = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture(params=["asyncio", "uvloop"])
def run(request: pytest.FixtureRequest) -> Runner:
    return asyncio.run if request.param == "asyncio" else aio.run


def wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


async def _eventually(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return condition()


def path_of(head: bytes) -> str:
    return head.split(b" ", 2)[1].decode()


def failure(result: HttpResult) -> tuple[Status, str]:
    assert result.failure is not None, f"expected a failure, got HTTP {result.status}"
    return result.failure.status, result.failure.reason


# keep-alive and framing


def test_sequential_requests_share_one_connection(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(b"hello %d" % i)))

    async def main() -> list[tuple[int | None, bytes | None]]:
        async with client() as http:
            return [(r.status, r.body) for r in [await http.get(server.url()) for _ in range(5)]]

    assert run(main()) == [(200, b"hello %d" % i) for i in range(1, 6)]
    assert server.accepted == 1
    head = server.requests[0][1].lower()
    assert head.startswith(b"get /x http/1.1") and f"host: 127.0.0.1:{server.port}".encode() in head
    assert b"accept-encoding: gzip, deflate, br" in head and b"user-agent: newswatch/" in head
    assert b"cookie" not in head and b"\r\naccept:" not in head  # no Accept unless the caller sets one


def test_chunked_and_content_length_bodies_both_keep_the_connection(serve, run) -> None:
    replies = {1: chunked(b"abc", b"defgh"), 2: ok(b"plain"), 3: chunked(b"x" * 70000)}
    server = serve(lambda n, i, head: Reply(replies[i]))

    async def main() -> list[bytes | None]:
        async with client() as http:
            return [(await http.get(server.url())).body for _ in range(3)]

    assert run(main()) == [b"abcdefgh", b"plain", b"x" * 70000]
    assert server.accepted == 1


def test_gzip_body_is_decoded_and_the_connection_kept(serve, run) -> None:
    packed = gzip.compress(b"<rss/>" * 100)
    server = serve(lambda n, i, head: Reply(ok(packed, "Content-Encoding: gzip")))

    async def main() -> list[HttpResult]:
        async with client() as http:
            return [await http.get(server.url()) for _ in range(2)]

    results = run(main())
    assert [r.body for r in results] == [b"<rss/>" * 100] * 2
    assert results[0].headers["content-encoding"] == "gzip"  # the headers are as received
    assert server.accepted == 1


def test_connection_close_is_honoured(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(b"bye", "Connection: close")))

    async def main() -> list[bytes | None]:
        async with client() as http:
            return [(await http.get(server.url())).body for _ in range(3)]

    assert run(main()) == [b"bye"] * 3
    assert server.accepted == 3


def test_body_delimited_by_close(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", close=True))

    async def main() -> list[bytes | None]:
        async with client() as http:
            return [(await http.get(server.url())).body for _ in range(2)]

    assert run(main()) == [b"until the end"] * 2
    assert server.accepted == 2


def test_a_body_over_the_cap_closes_the_connection_instead_of_reusing_it(serve, run) -> None:
    """Refused on its Content-Length (never read), then cut off while streaming: each time the rest
    of the body is left unread on the wire, so the connection is closed, not reused."""
    replies = {1: ok(b"z" * 2_000_000), 2: chunked(*[b"z" * 50_000] * 40), 3: ok(b"small")}
    server = serve(lambda n, i, head: Reply(replies[n]))

    async def main() -> list[HttpResult]:
        async with client() as http:
            return [await http.get(server.url(), max_bytes=100_000) for _ in range(3)]

    declared, streamed, small = run(main())
    assert failure(declared) == (Status.TOO_LARGE, "content-length 2000000 exceeds limit of 100000 bytes")
    assert failure(streamed) == (Status.TOO_LARGE, "body exceeds limit of 100000 bytes after decompression")
    assert small.body == b"small"
    assert server.accepted == 3  # a new connection each time


def test_responses_read_to_the_end_keep_the_connection(serve, run) -> None:
    """A 304 (never a body), a redirect (its small body drained) and a refused content type (its
    small body already in): none of them costs the connection."""
    def reply(n: int, i: int, head: bytes) -> Reply:
        if i == 1:
            return Reply(b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n')
        if path_of(head) == "/x":
            return Reply(b"HTTP/1.1 302 Found\r\nLocation: /pdf\r\nContent-Length: 5\r\n\r\nmoved")
        if path_of(head) == "/pdf":
            return Reply(ok(b"%PDF-1.4 tiny", "Content-Type: application/pdf"))
        return Reply(ok(b"read"))

    server = serve(reply)

    async def main() -> list[HttpResult]:
        async with client() as http:
            not_modified = await http.get(server.url(), headers={"If-None-Match": '"v1"'})
            pdf = await http.get(server.url(), accept=lambda kind: kind != "application/pdf")
            return [not_modified, pdf, await http.get(server.url("/last"))]

    not_modified, pdf, last = run(main())
    assert (not_modified.status, not_modified.body, not_modified.headers["etag"]) == (304, None, '"v1"')
    assert pdf.redirects == [server.url()] and pdf.final_url == server.url("/pdf")
    assert failure(pdf) == (Status.NOT_ARTICLE, "unexpected content-type 'application/pdf'")
    assert last.body == b"read"
    assert server.accepted == 1
    assert b'if-none-match: "v1"' in server.requests[0][1].lower()


# the keep-alive race and broken servers


def test_idle_connection_closed_by_the_server_is_not_reused(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(), close=True))  # no Connection: close, just closes

    async def main() -> list[int | None]:
        async with client() as http:
            out = []
            for _ in range(3):
                out.append((await http.get(server.url())).status)
                await asyncio.sleep(0.05)  # the close reaches the client while the connection is idle
            return out

    assert run(main()) == [200, 200, 200]
    assert server.accepted == 3
    assert len(server.requests) == 3  # no request went to a closed connection


@pytest.mark.parametrize("how", ["drop", "reset"])
def test_reused_connection_failing_before_the_answer_is_retried_once(serve, run, how) -> None:
    """The server takes the second request on the kept connection and closes it unanswered (the
    keep-alive race): the GET goes again on a new connection, transparently."""
    server = serve(lambda n, i, head: Reply(ok(b"conn %d" % n)) if i == 1 else Reply(**{how: True}))

    async def main() -> list[bytes | None]:
        async with client() as http:
            return [(await http.get(server.url())).body for _ in range(2)]

    assert run(main()) == [b"conn 1", b"conn 2"]
    assert server.accepted == 2
    assert [n for n, _ in server.requests] == [1, 1, 2]


def test_a_server_closing_unanswered_is_an_error_after_one_retry(serve, run) -> None:
    """aiohttp retries an idempotent request once when the connection closes before the answer
    (RFC 9112, 9.3.1), also on a new connection; a second failure is the result."""
    server = serve(lambda n, i, head: Reply(drop=True))

    async def main() -> HttpResult:
        async with client() as http:
            return await http.get(server.url())

    assert failure(run(main())) == (Status.HTTP_ERROR, "ServerDisconnectedError: Server disconnected")
    assert server.accepted == 2


def test_retry_happens_at_most_once(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok()) if n == 1 and i == 1 else Reply(drop=True))

    async def main() -> list[HttpResult]:
        async with client() as http:
            return [await http.get(server.url()) for _ in range(2)]

    first, second = run(main())
    assert first.status == 200 and failure(second)[0] == Status.HTTP_ERROR
    assert server.accepted == 2


def test_body_cut_short_is_an_http_error(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", close=True))

    async def main() -> HttpResult:
        async with client() as http:
            return await http.get(server.url())

    result = run(main())
    status, reason = failure(result)
    assert status == Status.HTTP_ERROR and result.failure.http_status == 200
    assert reason.startswith("ClientPayloadError while reading:") and "received 5 of 100 bytes" in reason


def test_read_timeout(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(hang=True))

    async def main() -> tuple[HttpResult, float]:
        started = time.monotonic()
        async with client(read_timeout=0.2) as http:
            result = await http.get(server.url())
        return result, time.monotonic() - started

    result, seconds = run(main())
    assert failure(result) == (Status.TIMEOUT, "read timeout")
    assert 0.15 < seconds < 1.5


def test_read_timeout_while_the_body_trickles(serve, run) -> None:
    # two of ten bytes, then the server waits for a next request that never comes
    server = serve(lambda n, i, head: Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"))

    async def main() -> HttpResult:
        async with client(read_timeout=0.2) as http:
            return await http.get(server.url())

    result = run(main())
    assert failure(result) == (Status.TIMEOUT, "read timeout") and result.failure.http_status == 200


def test_connect_refused(run) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening

        async def main() -> HttpResult:
            async with client() as http:
                return await http.get(f"http://127.0.0.1:{port}/")

        status, reason = failure(run(main()))
    assert status == Status.HTTP_ERROR and reason.startswith("ClientConnectorError: Cannot connect to host")


def test_connect_timeout(run) -> None:
    """A listener whose accept queue is full: the kernel drops further SYNs, the connect hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = [socket.socket() for _ in range(3)]
        for filler in fillers:
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
        time.sleep(0.1)

        async def main() -> tuple[HttpResult, float]:
            started = time.monotonic()
            async with client(connect_timeout=0.3, read_timeout=5.0) as http:
                result = await http.get(f"http://127.0.0.1:{port}/")
            return result, time.monotonic() - started

        try:
            result, seconds = run(main())
        finally:
            for filler in fillers:
                filler.close()
    assert failure(result) == (Status.TIMEOUT, "connect timeout")
    assert 0.25 < seconds < 1.5


def test_slow_name_resolution_at_connect_time_is_a_connect_timeout(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok()))
    calls = []

    async def slow_second_time(host: str, port: int) -> list[str]:
        calls.append(host)
        if len(calls) > 1:
            await asyncio.sleep(2)
        return ["127.0.0.1"]

    async def main() -> HttpResult:
        async with client(resolver=slow_second_time, connect_timeout=0.2) as http:
            return await http.get(server.url(host="news.test"))

    started = time.monotonic()
    assert failure(run(main())) == (Status.TIMEOUT, "connect timeout")
    assert time.monotonic() - started < 1.5 and server.accepted == 0


@pytest.mark.parametrize("garbage", [b"NOT HTTP AT ALL\r\n\r\n", b"HTTP/1.1 abc Fine\r\n\r\n",
                                     b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n"])
def test_malformed_response_head_is_an_http_error(serve, run, garbage) -> None:
    server = serve(lambda n, i, head: Reply(garbage, close=True))

    async def main() -> HttpResult:
        async with client() as http:
            return await http.get(server.url())

    status, reason = failure(run(main()))
    assert status == Status.HTTP_ERROR and reason.startswith("invalid response: ")
    assert "\n" not in reason


def test_oversized_response_head_is_refused(serve, run) -> None:
    """One header line over 16 KiB, or more than 128 header lines, is refused; 20 KiB spread over
    20 ordinary lines is fine."""
    heads = {
        "/one-huge": b"HTTP/1.1 200 OK\r\nX-Filler: " + b"y" * 20_000 + b"\r\n",
        "/too-many": b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Filler-%d: y\r\n" % i for i in range(200)),
        "/fine": b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 1000) for i in range(20)),
    }
    server = serve(lambda n, i, head: Reply(heads[path_of(head)] + b"Content-Length: 2\r\n\r\nok"))

    async def main() -> list[HttpResult]:
        async with client() as http:
            return [await http.get(server.url(path)) for path in heads]

    huge, many, fine = run(main())
    assert failure(huge)[0] == Status.HTTP_ERROR and "invalid response" in failure(huge)[1]
    assert failure(many) == (Status.HTTP_ERROR, "invalid response: Too many headers received")
    assert fine.status == 200 and fine.body == b"ok"


# the SSRF guard: before every hop and at connect time


def test_refused_address_is_never_connected(run) -> None:
    asked = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["10.0.0.1"]

    async def main(**policy: Any) -> HttpResult:
        async with client(resolver=resolver, connect_timeout=0.5, **policy) as http:
            return await http.get("http://intranet.example:8080/admin")

    assert failure(run(main(**STRICT))) == (
        Status.REFUSED, "ssrf guard: host intranet.example: 10.0.0.1 is a private address")
    assert failure(run(main())) == (
        Status.REFUSED, "ssrf guard: host intranet.example: 10.0.0.1 is a private address outside the allowed networks")
    assert asked == [("intranet.example", 8080)] * 2


def test_literal_and_mixed_answers_are_checked(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok()))

    async def mixed(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "169.254.169.254"]

    async def main(url: str, **kw: Any) -> HttpResult:
        async with client(**kw) as http:
            return await http.get(url)

    assert failure(run(main(server.url(), **STRICT))) == (Status.REFUSED, "ssrf guard: 127.0.0.1 is a loopback address")
    status, reason = failure(run(main(server.url(host="news.test"), resolver=mixed)))
    assert status == Status.REFUSED and "169.254.169.254 is a cloud metadata address" in reason
    assert server.accepted == 0
    assert run(main(server.url())).status == 200


@pytest.mark.parametrize("literal", [True, False])
def test_a_reserved_address_is_refused(serve, run, literal) -> None:
    async def reserved(host: str, port: int) -> list[str]:
        return ["240.0.0.1"]

    async def main(**kw: Any) -> HttpResult:
        async with client(resolver=reserved, connect_timeout=0.5, **kw) as http:
            return await http.get("http://240.0.0.1/" if literal else "http://future.example/")

    where = "" if literal else "host future.example: "
    assert failure(run(main(**STRICT))) == (Status.REFUSED, f"ssrf guard: {where}240.0.0.1 is a reserved address")
    assert failure(run(main())) == (
        Status.REFUSED, f"ssrf guard: {where}240.0.0.1 is a reserved address outside the allowed networks")


def test_resolved_name_connects_to_the_checked_address(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok()))

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def main() -> int | None:
        async with client(resolver=resolver) as http:
            return (await http.get(server.url(host="news.test"))).status

    assert run(main()) == 200
    assert f"host: news.test:{server.port}".encode() in server.requests[0][1].lower()


@pytest.mark.parametrize(("policy", "answers", "reason"), [
    (STRICT, [["93.184.216.34"], ["127.0.0.1"]], "ssrf guard: host rebind.test: 127.0.0.1 is a loopback address"),
    ({}, [["127.0.0.1"], ["127.0.0.1", "10.0.0.1"]],
     "ssrf guard: host rebind.test: 10.0.0.1 is a private address outside the allowed networks"),
])
def test_dns_rebinding_between_the_check_and_the_connect_is_refused(serve, run, policy, answers, reason) -> None:
    """The name passes the check before the hop, then resolves to a refused address when the
    connection is made: the connector refuses it and nothing reaches the server."""
    server = serve(lambda n, i, head: Reply(ok()))

    async def main() -> HttpResult:
        replies = iter(answers)

        async def rebinding(host: str, port: int) -> list[str]:
            return next(replies)

        async with client(resolver=rebinding, **policy) as http:
            return await http.get(server.url(host="rebind.test"))

    assert failure(run(main())) == (Status.REFUSED, reason)
    assert server.accepted == 0


def test_the_connector_checks_the_address_of_every_socket(serve, run) -> None:
    """aiohttp asks no resolver about an IP literal; the socket factory refuses it all the same."""
    server = serve(lambda n, i, head: Reply(ok()))

    async def main(policy: AddressPolicy) -> int:
        connector = aiohttp.TCPConnector(socket_factory=guarded_socket_factory(policy))
        async with aiohttp.ClientSession(connector=connector) as session:
            async with session.get(server.url()) as response:
                return response.status

    with pytest.raises(AddressRefused, match="127.0.0.1 is a loopback address"):
        run(main(AddressPolicy()))
    assert server.accepted == 0
    loopback = AddressPolicy(allow_private=True, allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
    assert run(main(loopback)) == 200


def test_a_redirect_hop_to_a_private_address_is_refused_without_robots(serve, run) -> None:
    """respect_robots=False: nothing else looks at the hop, the SSRF guard still refuses it."""
    targets = {"/to-name": "http://internal.test/admin", "/to-metadata": "http://169.254.169.254/latest/meta-data/",
               "/to-loopback": "http://127.0.0.1:1/"}
    server = serve(lambda n, i, head: Reply(
        f"HTTP/1.1 302 Found\r\nLocation: {targets[path_of(head)]}\r\nContent-Length: 0\r\n\r\n".encode()))

    async def resolver(host: str, port: int) -> list[str]:
        return {"news.test": ["127.0.0.1"], "internal.test": ["10.0.0.5"]}[host]

    async def main() -> list[HttpResult]:
        async with client(resolver=resolver, respect_robots=False) as http:
            return [await http.get(server.url(path, host="news.test")) for path in targets]

    to_name, to_metadata, to_loopback = run(main())
    assert failure(to_name) == (
        Status.REFUSED, "ssrf guard: host internal.test: 10.0.0.5 is a private address outside the allowed networks")
    assert to_name.redirects == [server.url("/to-name", host="news.test")]
    assert to_name.final_url == "http://internal.test/admin"
    assert failure(to_metadata) == (Status.REFUSED, "ssrf guard: 169.254.169.254 is a cloud metadata address")
    assert failure(to_loopback)[0] == Status.HTTP_ERROR  # loopback is allowed here: port 1 refuses the connection
    assert [path_of(head) for _, head in server.requests] == list(targets)


# timeouts across hops


def test_the_total_time_limit_spans_every_redirect_hop(serve, run) -> None:
    """Each hop alone is within the read timeout; together they exceed the total limit."""
    def reply(n: int, i: int, head: bytes) -> Reply:
        if path_of(head) == "/x":
            return Reply(b"HTTP/1.1 302 Found\r\nLocation: /slow\r\nContent-Length: 0\r\n\r\n", delay=0.6)
        return Reply(ok(b"late"), delay=0.6)

    server = serve(reply)

    async def main(total: float) -> tuple[HttpResult, float]:
        started = time.monotonic()
        async with client(total_timeout=total, read_timeout=5.0) as http:
            result = await http.get(server.url())
        return result, time.monotonic() - started

    result, seconds = run(main(1.0))
    assert failure(result) == (Status.TIMEOUT, "total time limit of 1s exceeded")
    assert result.redirects == [server.url()] and result.final_url == server.url("/slow")
    assert 0.9 < seconds < 1.5
    result, _ = run(main(3.0))
    assert result.body == b"late" and result.redirects == [server.url()]


# size caps after decompression


def test_a_gzip_bomb_stops_at_the_cap_with_bounded_memory(serve, run) -> None:
    """128 MB of zeros in ~130 KB of gzip: the body is refused at the 5 MB cap after decompression,
    memory stays near the cap, and the connection (its body unread) is not reused."""
    bomb = gzip_bomb(128 * 1024 * 1024)
    server = serve(lambda n, i, head: Reply(ok(bomb, "Content-Encoding: gzip") if n == 1 else ok(b"next")))

    async def main() -> list[HttpResult]:
        async with client() as http:
            return [await http.get(server.url(), max_bytes=5 * 1024 * 1024) for _ in range(2)]

    tracemalloc.start()
    try:
        bombed, after = run(main())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert failure(bombed) == (Status.TOO_LARGE, "body exceeds limit of 5242880 bytes after decompression")
    assert peak < 3 * 5 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB"
    assert after.body == b"next" and server.accepted == 2


# TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for news.test (its own CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "news.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("news.test")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


async def to_loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def test_tls_with_certificate_and_hostname_verification(serve, run, certificate) -> None:
    cert_path, key_path = certificate
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert_path, key_path)
    server = serve(lambda n, i, head: Reply(ok(b"secret")), tls=server_ctx)
    client_ctx = ssl.create_default_context(cafile=str(cert_path))
    assert client_ctx.check_hostname and client_ctx.verify_mode == ssl.CERT_REQUIRED

    async def main(url: str, ctx: ssl.SSLContext | None) -> list[HttpResult]:
        async with client(resolver=to_loopback, ssl_context=ctx) as http:
            return [await http.get(url) for _ in range(3)]

    assert [r.body for r in run(main(server.url(host="news.test"), client_ctx))] == [b"secret"] * 3
    assert server.accepted == 1  # kept alive over TLS too
    [mismatch, *_] = run(main(server.url(host="other.test"), client_ctx))
    status, reason = failure(mismatch)
    assert status == Status.HTTP_ERROR and reason.startswith("ClientConnectorCertificateError")
    assert re.search("(?i)hostname|match", reason)
    [untrusted, *_] = run(main(server.url(host="news.test"), None))  # the default (certifi) trust store
    assert failure(untrusted)[0] == Status.HTTP_ERROR and "certificate verify failed" in failure(untrusted)[1]


# bounds


def test_concurrency_is_bounded_and_connections_are_reused(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(b"%d" % n), delay=0.02))

    async def main() -> list[int | None]:
        async with client(global_concurrency=4, per_host_concurrency=4) as http:
            results = await asyncio.gather(*(http.get(server.url()) for _ in range(40)))
            return [r.status for r in results]

    assert run(main()) == [200] * 40
    assert server.max_in_flight <= 4
    assert server.accepted == 4
    assert len(server.requests) == 40


def test_idle_connections_expire(serve, run, monkeypatch) -> None:
    monkeypatch.setattr(http_module, "KEEPALIVE_TIMEOUT", 0.3)
    server = serve(lambda n, i, head: Reply(ok()))

    async def main() -> None:
        async with client() as http:
            await http.get(server.url())
            assert await _eventually(lambda: server.closed_by_client == 1)  # closed while idle
            await http.get(server.url())
            assert server.accepted == 2

    run(main())


def test_aclose_closes_every_connection(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(), delay=0.02))

    async def main() -> None:
        http = client(global_concurrency=3, per_host_concurrency=3)
        await asyncio.gather(*(http.get(server.url()) for _ in range(3)))
        await http.aclose()

    run(main())
    assert server.accepted == 3
    assert wait_for(lambda: server.closed_by_client == 3)


def test_a_request_cut_off_by_the_total_limit_gives_back_its_slot_and_its_connection(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(hang=True) if n == 1 else Reply(ok(b"next")))

    async def main() -> list[HttpResult]:
        async with client(global_concurrency=1, per_host_concurrency=1, total_timeout=0.3, read_timeout=5.0) as http:
            return [await http.get(server.url()) for _ in range(2)]

    cut, after = run(main())
    assert failure(cut) == (Status.TIMEOUT, "total time limit of 0.3s exceeded")
    assert after.body == b"next"
    assert server.accepted == 2  # the interrupted connection was not reused
