"""Fetcher behaviour over pipeline.fetch.testing.MockConnector (an in-process server, no network)."""

import asyncio
import time
from urllib.parse import urlsplit

import pytest

from pipeline.config import load_settings
from pipeline.fetch.fetcher import entry_for_url, fetch_pages_async
from pipeline.fetch.http import HttpClient, parse_retry_after
from pipeline.fetch.testing import MockConnector
from pipeline.outcomes import Status

ARTICLE = "<html><head><title>T</title></head><body><article><p>" + "Words here. " * 80 + "</p></article></body></html>"


async def _resolve(host, port):
    if host == "nxdomain.example":
        raise OSError("Name or service not known")
    return {"evil.example": ["10.1.2.3"]}.get(host, ["93.184.216.34"])


class Web:
    def __init__(self, routes, delay=0.0, pair_up=0.0):
        self.routes = routes
        self.delay = delay
        self.pair_up = pair_up  # seconds a request may wait for a second one to its host
        self.requests = []
        self.in_flight = {}
        self.max_in_flight = {}
        self.starts = {}

    async def __call__(self, request):
        host = request.url.host
        self.requests.append(request)
        self.starts.setdefault(host, []).append(time.monotonic())
        self.in_flight[host] = self.in_flight.get(host, 0) + 1
        self.max_in_flight[host] = max(self.max_in_flight.get(host, 0), self.in_flight[host])
        try:
            waited = time.monotonic()
            while self.pair_up and self.in_flight[host] < 2 and time.monotonic() - waited < self.pair_up:
                await asyncio.sleep(0.005)
            if self.delay:
                await asyncio.sleep(self.delay)
            route = self.routes.get(f"{host}{request.url.path}")
            if route is None and request.url.path == "/robots.txt":
                return 404, b"", {}
            if route is None:
                return 200, ARTICLE.encode(), {"Content-Type": "text/html"}
            status, body, headers = route
            return status, body, headers
        finally:
            self.in_flight[host] -= 1


def fetch(web, urls, **overrides):
    settings = load_settings({}, **{"per_host_delay": 0.0, **overrides})

    async def run():
        async with HttpClient(settings, connector=MockConnector(web), resolver=_resolve) as http:
            return await fetch_pages_async([entry_for_url(u) for u in urls], settings, http=http)
    return asyncio.run(run())


def test_robots_disallow_is_refused_and_fetched_once_per_host():
    web = Web({"a.example/robots.txt": (200, b"User-agent: *\nDisallow: /private/\n", {})})
    pages = fetch(web, ["https://a.example/private/x", "https://a.example/ok", "https://a.example/ok2"])
    assert [p.outcome.status for p in pages] == [Status.REFUSED, Status.OK, Status.OK]
    assert "robots.txt disallows /private/x" in pages[0].outcome.reason
    assert [r.url.path for r in web.requests].count("/robots.txt") == 1


def test_robots_server_error_means_disallow_for_now_and_404_means_allow():
    web = Web({"down.example/robots.txt": (503, b"", {})})
    down, free = fetch(web, ["https://down.example/a", "https://free.example/a"])
    assert down.outcome.status == Status.REFUSED and "robots.txt unavailable (HTTP 503)" in down.outcome.reason
    assert free.outcome.status == Status.OK


def test_redirect_to_private_address_is_refused_on_the_hop():
    web = Web({"a.example/go": (302, b"", {"Location": "http://evil.example/admin"}),
               "a.example/meta": (301, b"", {"Location": "http://169.254.169.254/latest/meta-data/"})})
    go, meta = fetch(web, ["https://a.example/go", "https://a.example/meta"])
    assert go.outcome.status == Status.REFUSED and "10.1.2.3 is a private address" in go.outcome.reason
    assert meta.outcome.status == Status.REFUSED and "metadata" in meta.outcome.reason
    assert not any(r.url.host in ("evil.example", "169.254.169.254") for r in web.requests)


def test_unresolvable_host_is_a_retryable_http_error():
    [page] = fetch(Web({}), ["https://nxdomain.example/x"])
    assert page.outcome.status == Status.HTTP_ERROR and page.outcome.retryable
    assert page.outcome.reason.startswith("dns: cannot resolve nxdomain.example")


def test_malformed_urls_end_as_refused_pages_not_internal_errors():
    web = Web({"a.example/go": (302, b"", {"Location": "http://[zz]/next"})})
    pages = fetch(web, ["http://[::1/x", "https://a.example/go"])
    assert [p.outcome.status for p in pages] == [Status.REFUSED, Status.REFUSED]
    assert pages[0].outcome.reason == "ssrf guard: invalid URL: Invalid IPv6 URL"
    assert pages[0].entry.canonical_url == "http://[::1/x" and pages[0].final_url == "http://[::1/x"
    assert pages[1].outcome.reason.startswith("redirect to an invalid URL 'http://[zz]/next': ")


def test_redirect_limit():
    routes = {f"a.example/r{i}": (302, b"", {"Location": f"/r{i + 1}"}) for i in range(10)}
    [page] = fetch(Web(routes), ["https://a.example/r0"], max_redirects=3)
    assert page.outcome.status == Status.HTTP_ERROR and "too many redirects" in page.outcome.reason


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected", "words"),
    [(403, {}, b"nope", Status.BLOCKED, "forbidden"),
     (429, {"Retry-After": "30"}, b"", Status.BLOCKED, "retry after 30s"),
     (402, {}, b"", Status.PAYWALLED, "402"),
     (503, {}, b"<title>Just a moment...</title>", Status.BLOCKED, "challenge"),
     (404, {}, b"", Status.HTTP_ERROR, "HTTP 404"),
     (200, {"Content-Type": "application/pdf"}, b"%PDF", Status.NOT_ARTICLE, "application/pdf"),
     (200, {"Content-Length": "999999999"}, b"", Status.TOO_LARGE, "content-length")],
)
def test_status_mapping(status, headers, body, expected, words):
    [page] = fetch(Web({"a.example/x": (status, body, headers)}), ["https://a.example/x"])
    assert page.outcome.status == expected and words in page.outcome.reason
    assert page.body is None


def test_body_over_the_cap_is_too_large():
    [page] = fetch(Web({"a.example/big": (200, b"a" * 20000, {"Content-Type": "text/html"})}),
                   ["https://a.example/big"], max_bytes=10000)
    assert page.outcome.status == Status.TOO_LARGE


def test_user_agent_and_contact_are_sent():
    web = Web({})
    fetch(web, ["https://a.example/x"], user_agent="newswatch-test/1.0", contact="ops@example.org")
    req = web.requests[-1]
    assert req.headers["user-agent"] == "newswatch-test/1.0 contact: ops@example.org"
    assert req.headers["from"] == "ops@example.org"


def test_rate_limited_host_is_paused_for_the_rest_of_the_batch():
    web = Web({"a.example/limited": (429, b"", {"Retry-After": "120"})})
    pages = fetch(web, ["https://a.example/limited"] + [f"https://a.example/p{i}" for i in range(3)],
                  per_host_concurrency=1)
    assert [p.outcome.status for p in pages] == [Status.BLOCKED] * 4
    assert "asked us to wait" in pages[1].outcome.reason
    assert len([r for r in web.requests if r.url.path != "/robots.txt"]) == 1


class SendTimes(HttpClient):
    """Notes when each request leaves its politeness slot for the network, per host: the moment the
    per-host delay spaces. The server's own clock adds the transit time, which a loaded machine
    stretches for one request and not the next, so starts seen there can come closer than the delay."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.sent: dict[str, list[tuple[float, str]]] = {}
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}

    async def _request(self, url, *args):
        parts = urlsplit(url)
        host = parts.hostname
        self.sent.setdefault(host, []).append((time.monotonic(), parts.path))
        self.in_flight[host] = self.in_flight.get(host, 0) + 1
        self.max_in_flight[host] = max(self.max_in_flight.get(host, 0), self.in_flight[host])
        try:
            return await super()._request(url, *args)
        finally:
            self.in_flight[host] -= 1


def test_per_host_concurrency_and_delay():
    delay = 0.1
    # a request waits (up to 5 s) for a second one to its host before it is held: two in flight are
    # then seen however slowly the machine runs, and a third one allowed in would be seen too
    web = Web({}, delay=0.3, pair_up=5.0)
    urls = [f"http://a.example/{i}" for i in range(6)] + [f"http://b.example/{i}" for i in range(6)]
    settings = load_settings({}, per_host_concurrency=2, per_host_delay=delay, respect_robots=False)

    async def run():
        async with SendTimes(settings, connector=MockConnector(web), resolver=_resolve) as http:
            return http, await fetch_pages_async([entry_for_url(u) for u in urls], settings, http=http)

    http, pages = asyncio.run(run())
    assert all(p.outcome.status == Status.OK for p in pages)
    assert web.max_in_flight == {"a.example": 2, "b.example": 2}
    assert http.max_in_flight == {"a.example": 2, "b.example": 2}
    for host in ("a.example", "b.example"):
        sent = http.sent[host]
        assert len(sent) == 6
        gaps = [b - a for (a, _), (b, _) in zip(sent, sent[1:], strict=False)]
        # 10%: the few statements between the slot's clock reading and ours (no await between them)
        assert min(gaps) >= delay * 0.9, gaps
        # each start the server saw is one the client sent, and not before it was sent
        seen = dict(zip((r.url.path for r in web.requests if r.url.host == host), web.starts[host], strict=True))
        assert sorted(seen) == sorted(path for _, path in sent)
        assert all(seen[path] >= at for at, path in sent)


def test_parse_retry_after():
    assert parse_retry_after("120") == 120
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2099 07:28:00 GMT") == 7 * 24 * 3600  # capped
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
