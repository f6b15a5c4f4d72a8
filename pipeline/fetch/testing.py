"""A stand-in web for tests of HttpClient users, in the spirit of httpx's MockTransport.

    def handler(request: Request) -> Reply:          # or an async def
        return 200, b"<rss/>", {"Content-Type": "application/rss+xml"}

    async with HttpClient(settings, connector=MockConnector(handler), resolver=...) as http:
        ...

`MockConnector` is an aiohttp connector that sends every connection, whatever the host, to a small
HTTP/1.1 server of its own on 127.0.0.1 that answers each request with `handler(request)`: a status,
the body exactly as sent on the wire (still content-encoded, if the headers say so) and the headers
(nothing is added but Content-Length). Requests to port 443 reach its TLS listener (a throwaway
certificate, trusted by this connector only), any other port its plain one. So the client's whole
HTTP path runs (real sockets, keep-alive, Content-Encoding, timeouts) and nothing leaves the machine.
The connector checks no address: the SSRF check before every hop is HttpClient's; the check at
connect time is the guarded connector's and has its own tests.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import inspect
import socket
import ssl
import tempfile
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path

import aiohttp
from aiohttp import AddrInfoType
from aiohttp.abc import AbstractResolver, ResolveResult
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

__all__ = ["Handler", "MockConnector", "Reply", "Request"]


@dataclass(frozen=True)
class Request:
    method: str
    url: URL  # scheme, the Host header, and the request target
    headers: CIMultiDictProxy[str]


Reply = tuple[int, bytes, Mapping[str, str]]
Handler = Callable[[Request], Reply | Awaitable[Reply]]


class MockConnector(aiohttp.TCPConnector):
    def __init__(self, handler: Handler) -> None:
        self.web = _LocalWeb(handler)
        super().__init__(resolver=_LocalResolver(self.web), use_dns_cache=False, ssl=_certificate()[0],
                         socket_factory=_loopback_only)

    async def close(self, *, abort_ssl: bool = False) -> None:
        await super().close(abort_ssl=abort_ssl)
        await self.web.close()


class _LocalWeb:
    """The server, started on first use: a plain and a TLS listener on 127.0.0.1."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._listeners: dict[bool, asyncio.Server] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    async def port(self, tls: bool) -> int:
        async with self._lock:
            listener = self._listeners.get(tls)
            if listener is None:
                listener = await asyncio.start_server(
                    functools.partial(self._serve, tls=tls), "127.0.0.1", 0,
                    ssl=_certificate()[1] if tls else None)
                self._listeners[tls] = listener
        return listener.sockets[0].getsockname()[1]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, tls: bool) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                request = _parse(head, tls)
                try:
                    reply = self._handler(request)
                    if inspect.isawaitable(reply):
                        reply = await reply
                except Exception:
                    reply = (500, traceback.format_exc().encode(), {"Content-Type": "text/plain"})
                data, close = _render(request, *reply)
                writer.write(data)
                await writer.drain()
                if close:
                    return
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            return  # a cancelled connection task ends quietly (Python 3.11 would log it)
        finally:
            self._tasks.discard(task)
            writer.close()

    async def close(self) -> None:
        for listener in self._listeners.values():
            listener.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for listener in self._listeners.values():
            await listener.wait_closed()
        self._listeners.clear()


def _parse(head: bytes, tls: bool) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers: CIMultiDict[str] = CIMultiDict()
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.add(name.strip(), value.strip())
    url = URL(f"{'https' if tls else 'http'}://{headers.get('host', '127.0.0.1')}{target}")
    return Request(method, url, CIMultiDictProxy(headers))


def _render(request: Request, status: int, body: bytes, headers: Mapping[str, str]) -> tuple[bytes, bool]:
    """The response on the wire, and whether to close the connection after it (a Content-Length the
    handler set that is not the body's, or Connection: close)."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    fields = CIMultiDict(headers)
    bodiless = status < 200 or status in (204, 304) or request.method == "HEAD"
    if bodiless:
        body = b""
    elif "content-length" not in fields:
        fields["Content-Length"] = str(len(body))
    close = fields.get("content-length", str(len(body))) != str(len(body)) \
        or fields.get("connection", "").lower() == "close"
    head = f"HTTP/1.1 {status} {phrase}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
    return head.encode("latin-1") + body, close


class _LocalResolver(AbstractResolver):
    def __init__(self, local: _LocalWeb) -> None:
        self._local = local

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        local_port = await self._local.port(tls=port == 443)
        return [{"hostname": host, "host": "127.0.0.1", "port": local_port, "family": socket.AF_INET,
                 "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


def _loopback_only(addr_info: AddrInfoType) -> socket.socket:
    """aiohttp asks no resolver about an IP literal: never let one leave the machine."""
    family, kind, proto, _, address = addr_info
    if address[0] != "127.0.0.1":
        raise ConnectionRefusedError(f"MockConnector connects to its own server only, not {address[0]}")
    return socket.socket(family=family, type=kind, proto=proto)


@functools.cache
def _certificate() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(client, server) TLS contexts around a throwaway self-signed certificate. The client checks
    the chain, not the host name, so any host name works."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "newswatch MockConnector")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    client.check_hostname = False
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = Path(folder) / "cert.pem", Path(folder) / "key.pem"
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        server.load_cert_chain(cert_path, key_path)
    return client, server
