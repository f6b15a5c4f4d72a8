"""LeanTransport against real sockets on 127.0.0.1: a scripted HTTP/1.1 server in threads decides,
request by request, what goes back on the wire (or that nothing does), and records connections.
Every test runs on the standard event loop and on uvloop (the one the pipeline uses)."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipeline.fetch import aio
from pipeline.fetch.guard import AddressPolicy, AddressRefused
from pipeline.fetch.transport import LeanTransport

pytestmark = pytest.mark.integration

LOOPBACK = AddressPolicy(allow_private=True, allowed_networks=(ipaddress.ip_network("127.0.0.0/8"),))
TIMEOUTS = {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}


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


def transport(**kw: Any) -> LeanTransport:
    return LeanTransport(**{"policy": LOOPBACK, **kw})


async def get(t: LeanTransport, url: str, **timeouts: float) -> tuple[int, bytes, httpx.Headers]:
    request = httpx.Request("GET", url, extensions={"timeout": {**TIMEOUTS, **timeouts}})
    response = await t.handle_async_request(request)
    try:
        body = b"".join([chunk async for chunk in response.aiter_raw()])
    finally:
        await response.aclose()
    return response.status_code, body, response.headers


def wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


# keep-alive and framing


def test_sequential_requests_share_one_connection(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(b"hello %d" % i)))

    async def main() -> list[tuple[int, bytes]]:
        async with transport() as t:
            return [(status, body) for status, body, _ in [await get(t, server.url()) for _ in range(5)]]

    assert run(main()) == [(200, b"hello %d" % i) for i in range(1, 6)]
    assert server.accepted == 1
    head = server.requests[0][1].lower()
    assert head.startswith(b"get /x http/1.1") and f"host: 127.0.0.1:{server.port}".encode() in head


def test_chunked_and_content_length_bodies_both_keep_the_connection(serve, run) -> None:
    replies = {1: chunked(b"abc", b"defgh"), 2: ok(b"plain"), 3: chunked(b"x" * 70000)}
    server = serve(lambda n, i, head: Reply(replies[i]))

    async def main() -> list[bytes]:
        async with transport() as t:
            return [(await get(t, server.url()))[1] for _ in range(3)]

    assert run(main()) == [b"abcdefgh", b"plain", b"x" * 70000]
    assert server.accepted == 1


def test_body_is_passed_on_still_content_encoded(serve, run) -> None:
    import gzip

    packed = gzip.compress(b"<rss/>" * 100)
    server = serve(lambda n, i, head: Reply(ok(packed, "Content-Encoding: gzip")))

    async def main() -> tuple[int, bytes, httpx.Headers]:
        async with transport() as t:
            return await get(t, server.url())

    status, body, headers = run(main())
    assert status == 200 and body == packed and headers["content-encoding"] == "gzip"


def test_connection_close_is_honoured(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(b"bye", "Connection: close")))

    async def main() -> list[bytes]:
        async with transport() as t:
            return [(await get(t, server.url()))[1] for _ in range(3)]

    assert run(main()) == [b"bye"] * 3
    assert server.accepted == 3


def test_body_delimited_by_close(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", close=True))

    async def main() -> list[bytes]:
        async with transport() as t:
            return [(await get(t, server.url()))[1] for _ in range(2)]

    assert run(main()) == [b"until the end"] * 2
    assert server.accepted == 2


def test_unread_body_closes_the_connection_instead_of_reusing_it(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(b"z" * 2_000_000)))

    async def main() -> bytes:
        async with transport() as t:
            request = httpx.Request("GET", server.url(), extensions={"timeout": TIMEOUTS})
            response = await t.handle_async_request(request)
            async for _ in response.aiter_raw():
                break
            await response.aclose()
            return (await get(t, server.url()))[1]

    assert run(main()) == b"z" * 2_000_000
    assert server.accepted == 2
    assert wait_for(lambda: server.closed_by_client >= 1)


def test_closing_a_response_whose_rest_already_arrived_keeps_the_connection(serve, run) -> None:
    """A 304 (never a body) or a small body that is already in: closing unread loses nothing."""
    replies = {1: b"HTTP/1.1 304 Not Modified\r\n\r\n", 2: ok(b"small"), 3: ok(b"read")}
    server = serve(lambda n, i, head: Reply(replies[i]))

    async def main() -> bytes:
        async with transport() as t:
            for _ in range(2):
                request = httpx.Request("GET", server.url(), extensions={"timeout": TIMEOUTS})
                response = await t.handle_async_request(request)
                await asyncio.sleep(0.05)  # let the whole response arrive
                await response.aclose()
            return (await get(t, server.url()))[1]

    assert run(main()) == b"read"
    assert server.accepted == 1


def test_304_and_head_responses_have_no_body_and_keep_the_connection(serve, run) -> None:
    def reply(n: int, i: int, head: bytes) -> Reply:
        if head.startswith(b"HEAD"):
            return Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n")  # the length of what GET would send
        return Reply(b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n")

    server = serve(reply)

    async def main() -> list[tuple[int, bytes]]:
        async with transport() as t:
            out = [(status, body) for status, body, _ in [await get(t, server.url()) for _ in range(2)]]
            request = httpx.Request("HEAD", server.url(), extensions={"timeout": TIMEOUTS})
            response = await t.handle_async_request(request)
            out.append((response.status_code, await response.aread()))
            await response.aclose()
            out.append((await get(t, server.url()))[:2])
            return out

    assert run(main()) == [(304, b""), (304, b""), (200, b""), (304, b"")]
    assert server.accepted == 1


# the keep-alive race and broken servers


def test_idle_connection_closed_by_the_server_is_not_reused(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(), close=True))  # no Connection: close, just closes

    async def main() -> list[int]:
        async with transport() as t:
            out = []
            for _ in range(3):
                out.append((await get(t, server.url()))[0])
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

    async def main() -> list[bytes]:
        async with transport() as t:
            return [(await get(t, server.url()))[1] for _ in range(2)]

    assert run(main()) == [b"conn 1", b"conn 2"]
    assert server.accepted == 2
    assert [n for n, _ in server.requests] == [1, 1, 2]


def test_a_new_connection_closed_unanswered_is_an_error_not_a_retry(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(drop=True))

    async def main() -> None:
        async with transport() as t:
            await get(t, server.url())

    with pytest.raises(httpx.RemoteProtocolError, match="without sending a response"):
        run(main())
    assert server.accepted == 1


def test_retry_happens_at_most_once(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok()) if n == 1 and i == 1 else Reply(drop=True))

    async def main() -> None:
        async with transport() as t:
            await get(t, server.url())
            await get(t, server.url())

    with pytest.raises(httpx.RemoteProtocolError):
        run(main())
    assert server.accepted == 2


def test_body_cut_short_is_a_remote_protocol_error(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", close=True))

    async def main() -> None:
        async with transport() as t:
            await get(t, server.url())

    with pytest.raises(httpx.RemoteProtocolError, match="incomplete|complete message body"):
        run(main())


def test_read_timeout(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(hang=True))

    async def main() -> float:
        started = time.monotonic()
        async with transport() as t:
            with pytest.raises(httpx.ReadTimeout):
                await get(t, server.url(), read=0.2)
        return time.monotonic() - started

    assert 0.15 < run(main()) < 1.5


def test_read_timeout_while_the_body_trickles(serve, run) -> None:
    # two of ten bytes, then the server waits for a next request that never comes
    server = serve(lambda n, i, head: Reply(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nab"))

    async def main() -> None:
        async with transport() as t:
            await get(t, server.url(), read=0.2)

    with pytest.raises(httpx.ReadTimeout):
        run(main())


def test_connect_refused(run) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening

        async def main() -> None:
            async with transport() as t:
                await get(t, f"http://127.0.0.1:{port}/")

        with pytest.raises(httpx.ConnectError):
            run(main())


@pytest.mark.parametrize("garbage", [b"NOT HTTP AT ALL\r\n\r\n", b"HTTP/1.1 abc Fine\r\n\r\n",
                                     b"HTTP/1.1 200 OK\r\nBad Header Line\r\n\r\n"])
def test_malformed_response_head_is_a_remote_protocol_error(serve, run, garbage) -> None:
    server = serve(lambda n, i, head: Reply(garbage, close=True))

    async def main() -> None:
        async with transport() as t:
            await get(t, server.url())

    with pytest.raises(httpx.RemoteProtocolError):
        run(main())


def test_oversized_response_head_is_refused(serve, run) -> None:
    huge = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-Filler-%d: %s\r\n" % (i, b"y" * 1000) for i in range(20))
    server = serve(lambda n, i, head: Reply(huge + b"Content-Length: 2\r\n\r\nok"))

    async def main(limit: int) -> int:
        async with transport(max_header_bytes=limit) as t:
            return (await get(t, server.url()))[0]

    with pytest.raises(httpx.RemoteProtocolError):
        run(main(8 * 1024))
    assert run(main(64 * 1024)) == 200


# the SSRF guard at connect time


def test_refused_address_is_never_connected(run) -> None:
    asked = []

    async def resolver(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["10.0.0.1"]

    async def main(policy: AddressPolicy) -> None:
        async with LeanTransport(policy=policy, resolver=resolver, ssl_context=None) as t:
            await get(t, "http://intranet.example:8080/admin", connect=0.5)

    with pytest.raises(AddressRefused, match="host intranet.example: 10.0.0.1 is a private address"):
        run(main(AddressPolicy()))
    with pytest.raises(AddressRefused, match="outside the allowed networks"):
        run(main(LOOPBACK))
    assert asked == [("intranet.example", 8080)] * 2


def test_literal_and_mixed_answers_are_checked(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok()))

    async def mixed(host: str, port: int) -> list[str]:
        return ["127.0.0.1", "169.254.169.254"]

    async def main(t: LeanTransport, url: str) -> int:
        async with t:
            return (await get(t, url))[0]

    with pytest.raises(AddressRefused, match="127.0.0.1 is a loopback address"):
        run(main(LeanTransport(), server.url()))
    with pytest.raises(AddressRefused, match="metadata"):
        run(main(LeanTransport(policy=LOOPBACK, resolver=mixed), server.url(host="news.test")))
    assert server.accepted == 0
    assert run(main(transport(), server.url())) == 200


def test_resolved_name_connects_to_the_checked_address(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok()))

    async def resolver(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def main() -> int:
        async with LeanTransport(policy=LOOPBACK, resolver=resolver) as t:
            return (await get(t, server.url(host="news.test")))[0]

    assert run(main()) == 200
    assert f"host: news.test:{server.port}".encode() in server.requests[0][1].lower()


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

    async def main(url: str, ctx: ssl.SSLContext | None) -> list[bytes]:
        async with LeanTransport(policy=LOOPBACK, resolver=to_loopback, ssl_context=ctx) as t:
            return [(await get(t, url))[1] for _ in range(3)]

    assert run(main(server.url(host="news.test"), client_ctx)) == [b"secret"] * 3
    assert server.accepted == 1  # kept alive over TLS too
    with pytest.raises(httpx.ConnectError, match="(?i)hostname|match"):
        run(main(server.url(host="other.test"), client_ctx))
    with pytest.raises(httpx.ConnectError, match="(?i)certificate verify failed"):
        run(main(server.url(host="news.test"), None))  # the default (certifi) trust store


# bounds


def test_concurrency_is_bounded_and_connections_are_reused(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(b"%d" % n), delay=0.02))

    async def main() -> list[int]:
        async with transport(max_connections=4) as t:
            results = await asyncio.gather(*(get(t, server.url()) for _ in range(40)))
            return [status for status, _, _ in results]

    assert run(main()) == [200] * 40
    assert server.max_in_flight <= 4
    assert server.accepted == 4
    assert len(server.requests) == 40


def test_waiting_for_a_slot_is_bounded_by_the_pool_timeout(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok()))

    async def main() -> None:
        async with transport(max_connections=1) as t:
            request = httpx.Request("GET", server.url(), extensions={"timeout": TIMEOUTS})
            held = await t.handle_async_request(request)  # not closed: holds the only slot
            try:
                await get(t, server.url(), pool=0.1)
            finally:
                await held.aclose()
            assert (await get(t, server.url()))[0] == 200  # the slot came back

    with pytest.raises(httpx.PoolTimeout):
        run(main())


def test_idle_connections_are_capped_per_origin_and_expire(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(), delay=0.05))

    async def main() -> None:
        async with transport(max_connections=5, max_idle_per_origin=2, idle_expiry=0.3) as t:
            await asyncio.gather(*(get(t, server.url()) for _ in range(5)))
            assert await _eventually(lambda: server.closed_by_client == 3)  # 2 of 5 kept
            await asyncio.sleep(0.4)  # both kept connections expire
            await get(t, server.url())
            assert server.accepted == 6

    run(main())
    assert wait_for(lambda: server.closed_by_client == 6)


async def _eventually(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    return condition()


def test_aclose_closes_every_connection(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(ok(), delay=0.02))

    async def main() -> None:
        t = transport(max_connections=3)
        await asyncio.gather(*(get(t, server.url()) for _ in range(3)))
        await t.aclose()

    run(main())
    assert server.accepted == 3
    assert wait_for(lambda: server.closed_by_client == 3)


def test_idle_connection_closed_by_the_server_is_dropped_before_a_post(serve, run) -> None:
    """A POST is never retried, so it only succeeds if the closed idle connection was noticed."""
    server = serve(lambda n, i, head: Reply(ok(), close=True))

    async def main() -> list[int]:
        async with transport() as t:
            first = (await get(t, server.url()))[0]
            await asyncio.sleep(0.05)
            request = httpx.Request("POST", server.url(), content=b"{}", extensions={"timeout": TIMEOUTS})
            response = await t.handle_async_request(request)
            await response.aread()
            await response.aclose()
            return [first, response.status_code]

    assert run(main()) == [200, 200]
    assert server.accepted == 2
    assert server.requests[1][1].startswith(b"POST /x HTTP/1.1")


def test_a_request_cancelled_mid_read_gives_back_its_slot_and_its_connection(serve, run) -> None:
    server = serve(lambda n, i, head: Reply(hang=True) if n == 1 else Reply(ok(b"next")))

    async def main() -> bytes:
        async with transport(max_connections=1) as t:
            with pytest.raises(TimeoutError):
                async with asyncio.timeout(0.2):  # the caller's own time limit, as HttpClient's total one
                    await get(t, server.url(), read=5.0)
            return (await get(t, server.url(), pool=0.5))[1]

    assert run(main()) == b"next"
    assert server.accepted == 2  # the interrupted connection was not reused
