"""The one HTTP path for feeds, robots.txt and articles, on aiohttp.

`HttpClient.get` follows redirects itself (SSRF check and, for articles, robots.txt on every hop),
enforces connect/read/total timeouts, a size cap after decompression while streaming (a gzip bomb
stops at the cap), and a content-type check. It never raises for network trouble: the result carries
an HTTP status, or a failure `Outcome` with the reason.

One aiohttp session (one keep-alive pool) per client. Its connector resolves through
`pipeline.fetch.connect`, so a connection only ever goes to an address the SSRF policy checked.
aiohttp decodes gzip, deflate and br in bounded steps, pausing while its buffer is full, so reading
the decoded stream up to the cap costs at most the cap in memory, whatever the compression ratio.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.http_exceptions import ContentEncodingError
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from pipeline.config import Settings
from pipeline.fetch.connect import GuardedResolver, default_tls_context, guarded_socket_factory
from pipeline.fetch.guard import (
    AddressPolicy,
    AddressRefused,
    CachingResolver,
    ResolutionFailed,
    Resolver,
    check_url,
    system_resolver,
)
from pipeline.fetch.politeness import Politeness
from pipeline.fetch.robots import ROBOTS_MAX_BYTES, RobotsCache
from pipeline.outcomes import Outcome, Status

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
ERROR_BODY_BYTES = 64 * 1024
MAX_RETRY_AFTER = 7 * 24 * 3600.0
KEEPALIVE_TIMEOUT = 15.0  # seconds an idle connection is kept for reuse
MAX_FIELD_BYTES = 16 * 1024  # one response header line; aiohttp also caps their number (128)
Headers = CIMultiDictProxy[str]
_NO_HEADERS: Headers = CIMultiDictProxy(CIMultiDict())
# parsed once per URL and process (a feed is fetched every cycle); an invalid URL raises, not cached
_parse_url = functools.lru_cache(maxsize=8192)(URL)


@dataclass
class HttpResult:
    url: str
    final_url: str
    status: int | None = None
    headers: Headers = field(default_factory=lambda: _NO_HEADERS)  # case-insensitive, read-only
    body: bytes | None = None
    failure: Outcome | None = None
    permanent_url: str | None = None  # the target when every hop was a permanent redirect
    redirects: list[str] = field(default_factory=list)
    elapsed_ms: float = 0.0
    retry_after: float | None = None

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(delta, 0.0), MAX_RETRY_AFTER)


def user_agent(settings: Settings) -> str:
    ua = settings.user_agent
    if settings.contact:
        ua = f"{ua} contact: {settings.contact}"
    return ua


def robots_agent(settings: Settings) -> str:
    """The product token robots.txt groups are matched against: the user agent's first word, before
    any '/'; "newswatch" when the user agent has none (empty, or starting with '/')."""
    words = settings.user_agent.split("/", 1)[0].split()
    return words[0] if words else "newswatch"


Accept = Callable[[str | None], bool]


class TooLarge(Exception):
    """The decoded body would exceed the limit."""


class DecodeError(Exception):
    """The body is not valid for its declared Content-Encoding."""


class HttpClient:
    """Shared by the poller and the fetcher; use as `async with HttpClient(settings) as http:`.

    `ssl_context` replaces the default trust (certifi's CA bundle). `connector` replaces the guarded
    aiohttp connector, for tests only (`pipeline.fetch.testing.MockConnector`): the SSRF check
    before every hop still runs, the check at connect time is the guarded connector's."""

    def __init__(self, settings: Settings, *, resolver: Resolver | None = None,
                 politeness: Politeness | None = None, ssl_context: ssl.SSLContext | None = None,
                 connector: aiohttp.BaseConnector | None = None) -> None:
        self.settings = settings
        self.policy = AddressPolicy.from_settings(settings)
        self.resolver = resolver or CachingResolver(system_resolver)
        self.politeness = politeness or Politeness(settings.per_host_concurrency, settings.per_host_delay,
                                                   settings.global_concurrency)
        headers = {"User-Agent": user_agent(settings), "Accept-Encoding": "gzip, deflate, br"}
        if "@" in settings.contact:
            headers["From"] = settings.contact
        self._headers = headers
        self._ssl_context = ssl_context
        self._connector = connector
        self._session: aiohttp.ClientSession | None = None
        self._closed = False
        self.robots = RobotsCache(self._fetch_robots, robots_agent(settings))

    def _open(self) -> aiohttp.ClientSession:
        """The session and its pool, made on first use (aiohttp wants a running event loop)."""
        if self._closed:
            raise RuntimeError("the HTTP client is closed")
        settings = self.settings
        connector = self._connector or aiohttp.TCPConnector(
            limit=max(4, settings.global_concurrency), limit_per_host=max(1, settings.per_host_concurrency),
            keepalive_timeout=KEEPALIVE_TIMEOUT, use_dns_cache=False,  # the resolver caches (and checks)
            resolver=GuardedResolver(self.policy, self.resolver, settings.connect_timeout),
            socket_factory=guarded_socket_factory(self.policy),
            ssl=self._ssl_context or default_tls_context())
        # Redirects are followed above, hop by hop; no cookies, no proxies from the environment, and
        # one timeout configuration for every request (the total limit is kept per call, in `_one`).
        self._session = aiohttp.ClientSession(
            connector=connector, headers=self._headers, skip_auto_headers=("Accept",),
            cookie_jar=aiohttp.DummyCookieJar(), raise_for_status=False, trust_env=False,
            timeout=aiohttp.ClientTimeout(total=None, connect=None, sock_connect=settings.connect_timeout,
                                          sock_read=settings.read_timeout),
            max_field_size=MAX_FIELD_BYTES)
        return self._session

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
        elif self._connector is not None:
            await self._connector.close()

    async def _fetch_robots(self, url: str) -> HttpResult:
        return await self.get(url, max_bytes=ROBOTS_MAX_BYTES, check_robots=False)

    async def get(self, url: str, *, headers: dict[str, str] | None = None, max_bytes: int | None = None,
                  accept: Accept | None = None, check_robots: bool = False,
                  skip_paused: bool = False) -> HttpResult:
        """GET with redirects. The total time limit covers the requests themselves (all hops),
        not the wait for a politeness slot. With `skip_paused`, a host that asked us to back off
        while this request waited for its slot is not asked (BLOCKED, with the time left)."""
        started = time.monotonic()
        result = await self._get(url, headers, max_bytes or self.settings.max_bytes, accept, check_robots,
                                 skip_paused)
        result.elapsed_ms = (time.monotonic() - started) * 1000
        return result

    async def _get(self, url: str, headers: dict[str, str] | None, max_bytes: int, accept: Accept | None,
                   check_robots: bool, skip_paused: bool) -> HttpResult:
        current = url
        visited: set[str] = set()
        hops: list[str] = []
        permanent = True
        budget = [self.settings.total_timeout]
        for _ in range(self.settings.max_redirects + 1):
            if current in visited:
                return HttpResult(url, current, redirects=hops, failure=Outcome.failure(
                    Status.HTTP_ERROR, f"redirect loop via {current}"))
            visited.add(current)
            try:
                reason = await check_url(current, self.policy, self.resolver)
            except ResolutionFailed as exc:
                return HttpResult(url, current, redirects=hops,
                                  failure=Outcome.failure(Status.HTTP_ERROR, f"dns: {exc}"))
            if reason:
                return HttpResult(url, current, redirects=hops,
                                  failure=Outcome.failure(Status.REFUSED, f"ssrf guard: {reason}"))
            if check_robots and self.settings.respect_robots:
                reason = await self.robots.refusal(current)
                if reason:
                    return HttpResult(url, current, redirects=hops,
                                      failure=Outcome.failure(Status.REFUSED, reason))
            result = await self._one(current, headers, max_bytes, accept, budget, skip_paused)
            result.url = url
            result.redirects = hops
            if result.failure is None and result.status in REDIRECT_CODES and "location" in result.headers:
                location = result.headers["location"].strip()
                try:
                    target = urljoin(current, location)
                except ValueError as exc:  # a malformed IP literal in the Location
                    result.failure = Outcome.failure(
                        Status.REFUSED, f"redirect to an invalid URL {location[:200]!r}: {exc}",
                        http_status=result.status)
                    return result
                permanent = permanent and result.status in PERMANENT_REDIRECTS
                hops.append(current)
                current = target
                continue
            if hops and permanent and result.failure is None and result.status is not None and result.status < 400:
                result.permanent_url = current
            return result
        return HttpResult(url, current, redirects=hops, failure=Outcome.failure(
            Status.HTTP_ERROR, f"too many redirects (more than {self.settings.max_redirects})"))

    async def _one(self, url: str, headers: dict[str, str] | None, max_bytes: int, accept: Accept | None,
                   budget: list[float], skip_paused: bool) -> HttpResult:
        host = _host_key(url)
        async with self.politeness.slot(host):
            if skip_paused and (paused := self.politeness.paused_for(host)) > 0:
                return HttpResult(url, url, failure=Outcome.failure(
                    Status.BLOCKED, f"host {host} asked us to wait {paused:.0f}s more (Retry-After)"))
            started = time.monotonic()
            try:
                async with asyncio.timeout(max(0.0, budget[0])):
                    return await self._request(url, headers, max_bytes, accept)
            except TimeoutError:
                return HttpResult(url, url, failure=Outcome.failure(
                    Status.TIMEOUT, f"total time limit of {self.settings.total_timeout:g}s exceeded"))
            finally:
                budget[0] -= time.monotonic() - started

    async def _request(self, url: str, headers: dict[str, str] | None, max_bytes: int,
                       accept: Accept | None) -> HttpResult:
        session = self._session or self._open()
        try:
            target = _parse_url(url)
        except (ValueError, TypeError) as exc:
            return HttpResult(url, url, failure=Outcome.failure(Status.REFUSED, f"invalid URL: {exc}"))
        try:
            async with session.get(target, headers=headers, allow_redirects=False) as response:
                return await self._read(url, response, max_bytes, accept)
        except AddressRefused as exc:
            return HttpResult(url, url, failure=Outcome.failure(Status.REFUSED, f"ssrf guard: {exc}"))
        except ResolutionFailed as exc:
            return HttpResult(url, url, failure=Outcome.failure(Status.HTTP_ERROR, f"dns: {exc}"))
        except aiohttp.ServerTimeoutError as exc:
            return HttpResult(url, url, failure=Outcome.failure(Status.TIMEOUT, _timeout_reason(exc)))
        except aiohttp.InvalidURL as exc:
            return HttpResult(url, url, failure=Outcome.failure(Status.REFUSED, f"invalid URL: {exc}"))
        except aiohttp.ClientError as exc:
            return HttpResult(url, url, failure=Outcome.failure(Status.HTTP_ERROR, _describe(exc)))

    async def _read(self, url: str, response: aiohttp.ClientResponse, max_bytes: int,
                    accept: Accept | None) -> HttpResult:
        headers = response.headers
        status = response.status
        result = HttpResult(url, url, status=status, headers=headers,
                            retry_after=parse_retry_after(headers.get("retry-after")))
        if status == 304:
            return result  # no body by definition
        if status in REDIRECT_CODES:
            # drain the (tiny) body so the connection goes back to the pool instead of being closed
            await _drain(response.content, ERROR_BODY_BYTES)
            return result
        limit = max_bytes if status < 400 else min(max_bytes, ERROR_BODY_BYTES)
        if status < 400 and accept is not None and not accept(headers.get("content-type")):
            result.failure = Outcome.failure(
                Status.NOT_ARTICLE, f"unexpected content-type {headers.get('content-type')!r}",
                http_status=status)
            return result
        declared = headers.get("content-length", "")
        coding = headers.get("content-encoding")
        if status < 400 and declared.isdigit() and int(declared) > max_bytes and coding is None:
            result.failure = Outcome.failure(
                Status.TOO_LARGE, f"content-length {int(declared)} exceeds limit of {max_bytes} bytes",
                http_status=status)
            return result
        try:
            result.body = await _read_capped(response.content, coding, limit)
        except TooLarge:
            if status >= 400:
                return result  # an oversized error page: the status says enough
            result.failure = Outcome.failure(
                Status.TOO_LARGE, f"body exceeds limit of {max_bytes} bytes after decompression",
                http_status=status)
        except aiohttp.ServerTimeoutError as exc:
            result.failure = Outcome.failure(Status.TIMEOUT, _timeout_reason(exc), http_status=status)
        except DecodeError as exc:
            result.failure = Outcome.failure(Status.PARSE_ERROR, f"content decoding failed: {exc}",
                                             http_status=status)
        except aiohttp.ClientPayloadError as exc:
            if isinstance(exc.__cause__, ContentEncodingError):
                result.failure = Outcome.failure(
                    Status.PARSE_ERROR, f"content decoding failed: {exc.__cause__.message}", http_status=status)
            else:
                result.failure = Outcome.failure(Status.HTTP_ERROR, _describe(exc, " while reading"),
                                                 http_status=status)
        except aiohttp.ClientError as exc:
            result.failure = Outcome.failure(Status.HTTP_ERROR, _describe(exc, " while reading"),
                                             http_status=status)
        return result


@functools.lru_cache(maxsize=8192)
def _host_key(url: str) -> str:
    return urlsplit(url).netloc.lower()


async def _drain(content: aiohttp.StreamReader, limit: int) -> None:
    """Read and drop a body we do not need, up to `limit` bytes (beyond that, closing is cheaper)."""
    size = 0
    try:
        while size <= limit:
            chunk = await content.readany()
            if not chunk:
                return
            size += len(chunk)
    except aiohttp.ClientError:
        pass


async def _read_capped(content: aiohttp.StreamReader, coding: str | None, limit: int) -> bytes:
    """The body, decoded, or TooLarge as soon as more than `limit` decoded bytes arrived."""
    gunzip = _decoder(coding) if coding else None
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await content.readany()
        if not chunk:
            break
        if gunzip is not None:
            chunk = _inflate(gunzip, chunk, limit - size)
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _decoder(content_encoding: str) -> zlib._Decompress | None:
    """None when aiohttp decodes the body (gzip, deflate, br) or it is not encoded; a zlib decoder for
    x-gzip, which aiohttp passes on as it is. Stacked codings are refused (DecodeError); an unknown
    one is taken as the identity, as servers that send a charset there mean it."""
    codings = [c.strip().lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if len(codings) > 1:
        raise DecodeError(f"unsupported stacked content-encoding {content_encoding!r}")
    if codings == ["x-gzip"]:
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    return None


def _inflate(decoder: zlib._Decompress, data: bytes, room: int) -> bytes:
    """Decode `data`, producing at most `room` + 1 bytes (enough to tell that the cap is exceeded)."""
    try:
        return decoder.decompress(data, max(0, room) + 1)
    except zlib.error as exc:
        raise DecodeError(f"invalid x-gzip data: {exc}") from exc


def _describe(exc: aiohttp.ClientError, when: str = "") -> str:
    """A one-line reason: the error's type and message (aiohttp's span several lines)."""
    if isinstance(exc, aiohttp.ClientResponseError):  # raised for a response that is not valid HTTP
        head, detail = f"invalid response{when}", str(exc.message)
    else:
        head, detail = f"{type(exc).__name__}{when}", str(exc)
    text = f"{head}: {detail}" if detail.strip() else head  # many aiohttp errors carry no message
    return " ".join(text.split())[:500]


def _timeout_reason(exc: aiohttp.ServerTimeoutError) -> str:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "connect timeout"
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return "read timeout"
    return "request timeout"
