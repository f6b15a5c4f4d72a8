"""The one HTTP path for feeds, robots.txt and articles.

`HttpClient.get` follows redirects itself (SSRF check and, for articles, robots.txt on every hop),
enforces connect/read/total timeouts, a size cap after decompression while streaming (a gzip bomb
stops at the cap), and a content-type check. It never raises for network trouble: the result carries
an HTTP status, or a failure `Outcome` with the reason.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from pipeline.config import Settings
from pipeline.fetch.decode import BoundedDecoder, DecodeError, TooLarge
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
from pipeline.fetch.transport import LeanTransport
from pipeline.outcomes import Outcome, Status

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
ERROR_BODY_BYTES = 64 * 1024
MAX_RETRY_AFTER = 7 * 24 * 3600.0
RAW_CHUNK = 16 * 1024
_NO_BODY = httpx.ByteStream(b"")
# parsed once per URL and process (a feed is fetched every cycle); an invalid URL raises, not cached
_parse_url = functools.lru_cache(maxsize=8192)(httpx.URL)


@dataclass
class HttpResult:
    url: str
    final_url: str
    status: int | None = None
    headers: httpx.Headers = field(default_factory=httpx.Headers)
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
    return settings.user_agent.split("/")[0].split()[0] or "newswatch"


Accept = Callable[[str | None], bool]


class HttpClient:
    """Shared by the poller and the fetcher; use as `async with HttpClient(settings) as http:`."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None,
                 resolver: Resolver | None = None, politeness: Politeness | None = None) -> None:
        self.settings = settings
        self.policy = AddressPolicy.from_settings(settings)
        self.resolver = resolver or CachingResolver(system_resolver)
        self.politeness = politeness or Politeness(settings.per_host_concurrency, settings.per_host_delay,
                                                   settings.global_concurrency)
        if transport is None:
            # the transport re-checks the address it connects to (no DNS-rebinding window)
            slots = max(4, settings.global_concurrency)
            transport = LeanTransport(policy=self.policy, resolver=self.resolver, max_connections=slots,
                                      max_idle=slots, max_idle_per_origin=slots)
        headers = {"User-Agent": user_agent(settings), "Accept-Encoding": "gzip, deflate, br"}
        if "@" in settings.contact:
            headers["From"] = settings.contact
        # The transport is used directly: redirects, cookies and auth are not wanted here (redirects
        # are followed above, hop by hop), and skipping AsyncClient's layers makes a 304 cheaper.
        self._transport = transport
        self._headers = headers
        self._timeout = httpx.Timeout(connect=settings.connect_timeout, read=settings.read_timeout,
                                      write=settings.read_timeout, pool=settings.total_timeout).as_dict()
        self.robots = RobotsCache(self._fetch_robots, robots_agent(settings))

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def _fetch_robots(self, url: str) -> HttpResult:
        return await self.get(url, max_bytes=ROBOTS_MAX_BYTES, check_robots=False)

    async def get(self, url: str, *, headers: dict[str, str] | None = None, max_bytes: int | None = None,
                  accept: Accept | None = None, check_robots: bool = False) -> HttpResult:
        """GET with redirects. The total time limit covers the requests themselves (all hops),
        not the wait for a politeness slot."""
        started = time.monotonic()
        result = await self._get(url, headers or {}, max_bytes or self.settings.max_bytes, accept, check_robots)
        result.elapsed_ms = (time.monotonic() - started) * 1000
        return result

    async def _get(self, url: str, headers: dict[str, str], max_bytes: int, accept: Accept | None,
                   check_robots: bool) -> HttpResult:
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
            result = await self._one(current, headers, max_bytes, accept, budget)
            result.url = url
            result.redirects = hops
            if result.failure is None and result.status in REDIRECT_CODES and "location" in result.headers:
                permanent = permanent and result.status in PERMANENT_REDIRECTS
                hops.append(current)
                current = urljoin(current, result.headers["location"].strip())
                continue
            if hops and permanent and result.failure is None and result.status is not None and result.status < 400:
                result.permanent_url = current
            return result
        return HttpResult(url, current, redirects=hops, failure=Outcome.failure(
            Status.HTTP_ERROR, f"too many redirects (more than {self.settings.max_redirects})"))

    async def _one(self, url: str, headers: dict[str, str], max_bytes: int, accept: Accept | None,
                   budget: list[float]) -> HttpResult:
        async with self.politeness.slot(_host_key(url)):
            started = time.monotonic()
            try:
                async with asyncio.timeout(max(0.0, budget[0])):
                    return await self._request(url, headers, max_bytes, accept)
            except TimeoutError:
                return HttpResult(url, url, failure=Outcome.failure(
                    Status.TIMEOUT, f"total time limit of {self.settings.total_timeout:g}s exceeded"))
            finally:
                budget[0] -= time.monotonic() - started

    async def _request(self, url: str, headers: dict[str, str], max_bytes: int,
                       accept: Accept | None) -> HttpResult:
        try:
            # a GET has no body: an empty stream skips httpx's body encoding (the transport adds Host)
            request = httpx.Request("GET", _parse_url(url), headers={**self._headers, **headers},
                                    stream=_NO_BODY, extensions={"timeout": self._timeout})
            response = await self._transport.handle_async_request(request)
            response.request = request
        except AddressRefused as exc:
            return HttpResult(url, url, failure=Outcome.failure(Status.REFUSED, f"ssrf guard: {exc}"))
        except httpx.TimeoutException as exc:
            return HttpResult(url, url, failure=Outcome.failure(Status.TIMEOUT, _timeout_reason(exc)))
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return HttpResult(url, url, failure=Outcome.failure(Status.REFUSED, f"invalid URL: {exc}"))
        except httpx.HTTPError as exc:
            return HttpResult(url, url, failure=Outcome.failure(
                Status.HTTP_ERROR, f"{type(exc).__name__}: {exc or 'connection failed'}"))
        try:
            return await self._read(url, response, max_bytes, accept)
        finally:
            await response.aclose()

    async def _read(self, url: str, response: httpx.Response, max_bytes: int, accept: Accept | None) -> HttpResult:
        result = HttpResult(url, url, status=response.status_code, headers=response.headers,
                            retry_after=parse_retry_after(response.headers.get("retry-after")))
        status = response.status_code
        if status == 304:
            return result  # no body by definition
        if status in REDIRECT_CODES:
            # drain the (tiny) body so the connection goes back to the pool instead of being closed
            await _drain(response, ERROR_BODY_BYTES)
            return result
        limit = max_bytes if status < 400 else min(max_bytes, ERROR_BODY_BYTES)
        if status < 400 and accept is not None and not accept(response.headers.get("content-type")):
            result.failure = Outcome.failure(
                Status.NOT_ARTICLE, f"unexpected content-type {response.headers.get('content-type')!r}",
                http_status=status)
            return result
        declared = response.headers.get("content-length", "")
        if status < 400 and declared.isdigit() and int(declared) > max_bytes \
                and "content-encoding" not in response.headers:
            result.failure = Outcome.failure(
                Status.TOO_LARGE, f"content-length {int(declared)} exceeds limit of {max_bytes} bytes",
                http_status=status)
            return result
        try:
            result.body = await _read_capped(response, limit)
        except TooLarge:
            if status >= 400:
                return result  # an oversized error page: the status says enough
            result.failure = Outcome.failure(
                Status.TOO_LARGE, f"body exceeds limit of {max_bytes} bytes after decompression",
                http_status=status)
        except httpx.TimeoutException as exc:
            result.failure = Outcome.failure(Status.TIMEOUT, _timeout_reason(exc), http_status=status)
        except DecodeError as exc:
            result.failure = Outcome.failure(Status.PARSE_ERROR, f"content decoding failed: {exc}",
                                             http_status=status)
        except httpx.HTTPError as exc:
            result.failure = Outcome.failure(Status.HTTP_ERROR, f"{type(exc).__name__} while reading: {exc}",
                                             http_status=status)
        return result


@functools.lru_cache(maxsize=8192)
def _host_key(url: str) -> str:
    return urlsplit(url).netloc.lower()


async def _drain(response: httpx.Response, limit: int) -> None:
    """Read and drop a body we do not need, up to `limit` raw bytes (beyond that, closing is cheaper)."""
    if response.is_stream_consumed:
        return
    size = 0
    try:
        async for raw in response.aiter_raw():
            size += len(raw)
            if size > limit:
                return
    except httpx.HTTPError:
        pass


async def _read_capped(response: httpx.Response, limit: int) -> bytes:
    if response.is_stream_consumed:  # a transport that pre-read (and decoded) the body
        if len(response.content) > limit:
            raise TooLarge
        return response.content
    decoder = BoundedDecoder(response.headers.get("content-encoding"), limit)
    chunks: list[bytes] = []
    async for raw in response.aiter_raw(RAW_CHUNK):
        chunks.append(decoder.feed(raw))
    chunks.append(decoder.flush())
    return b"".join(chunks)


def _timeout_reason(exc: httpx.TimeoutException) -> str:
    kind = {httpx.ConnectTimeout: "connect", httpx.ReadTimeout: "read", httpx.WriteTimeout: "write",
            httpx.PoolTimeout: "pool"}.get(type(exc), "request")
    return f"{kind} timeout"
