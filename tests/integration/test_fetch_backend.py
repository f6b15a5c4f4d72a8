"""HttpClient over its default (guarded aiohttp) connector against real sockets on 127.0.0.1: connection
reuse, a server that drops idle connections, refused connections and silent servers."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest

from pipeline.config import Settings, load_settings
from pipeline.fetch.http import HttpClient, HttpResult
from pipeline.outcomes import Status

pytestmark = pytest.mark.integration

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class RawServer:
    """Counts accepted connections; answers each request with RESPONSE, then either keeps the
    connection (keep_alive) or closes it; `silent` never answers."""

    def __init__(self, keep_alive: bool = True, silent: bool = False) -> None:
        self.keep_alive = keep_alive
        self.silent = silent
        self.accepted = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        with conn:
            buffer = b""
            while not self._stop.is_set():
                try:
                    data = conn.recv(65536)
                except OSError:
                    return
                if not data:
                    return
                buffer += data
                while b"\r\n\r\n" in buffer:
                    _, buffer = buffer.split(b"\r\n\r\n", 1)
                    if self.silent:
                        continue
                    conn.sendall(RESPONSE)
                    if not self.keep_alive:
                        return

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/x"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def server_factory() -> Iterator[type[RawServer]]:
    made: list[RawServer] = []

    class Factory(RawServer):
        def __init__(self, **kw: bool) -> None:
            super().__init__(**kw)
            made.append(self)

    yield Factory
    for s in made:
        s.close()


def _settings(**kw: float) -> Settings:
    limits = {"connect_timeout": 1.0, "read_timeout": 1.0, "total_timeout": 3.0, **kw}
    return load_settings({}, allow_private_addresses=True, per_host_delay=0.0, respect_robots=False, **limits)


def _get_many(url: str, n: int, **kw: float) -> list[HttpResult]:
    async def run() -> list[HttpResult]:
        async with HttpClient(_settings(**kw)) as http:
            return [await http.get(url) for _ in range(n)]

    return asyncio.run(run())


def test_keep_alive_connection_is_reused(server_factory: type[RawServer]) -> None:
    server = server_factory(keep_alive=True)
    results = _get_many(server.url(), 5)
    assert [r.status for r in results] == [200] * 5
    assert [r.body for r in results] == [b"ok"] * 5
    assert server.accepted == 1


def test_server_closing_idle_connections_does_not_fail_the_next_request(server_factory: type[RawServer]) -> None:
    server = server_factory(keep_alive=False)

    async def run() -> list[HttpResult]:
        async with HttpClient(_settings()) as http:
            out = []
            for _ in range(3):
                out.append(await http.get(server.url()))
                await asyncio.sleep(0.05)  # the close reaches us while the connection is idle
            return out

    results = asyncio.run(run())
    assert [(r.status, r.failure) for r in results] == [(200, None)] * 3
    assert server.accepted == 3


def test_refused_connection_is_an_http_error_with_the_reason() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: the connection is refused
        [result] = _get_many(f"http://127.0.0.1:{port}/x", 1)
    assert result.failure is not None and result.failure.status == Status.HTTP_ERROR
    assert result.failure.reason.startswith("ClientConnectorError: Cannot connect to host 127.0.0.1")


def test_silent_server_ends_in_a_read_timeout(server_factory: type[RawServer]) -> None:
    server = server_factory(silent=True)
    [result] = _get_many(server.url(), 1, read_timeout=0.3)
    assert result.failure is not None and result.failure.status == Status.TIMEOUT
    assert result.failure.reason == "read timeout"
