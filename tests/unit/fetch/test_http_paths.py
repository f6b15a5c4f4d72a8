"""HttpClient's decisions one by one over MockConnector (a real in-process server): the status that
separates article bodies from error pages, the exact size cap, the HTTP status kept on every
failure, x-gzip and stacked encodings, robots.txt's own cap, redirects (loops, permanence, the hop
limit), the per-call time budget, and the small helpers that word the reasons. (Mutation testing
found these unpinned: scripts/mutation http.)"""

from __future__ import annotations

import asyncio
import gzip
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from pipeline.config import load_settings
from pipeline.fetch import http as http_module
from pipeline.fetch.http import (
    MAX_RETRY_AFTER,
    HttpClient,
    HttpResult,
    _describe,
    _timeout_reason,
    parse_retry_after,
    robots_agent,
    user_agent,
)
from pipeline.fetch.robots import ROBOTS_MAX_BYTES
from pipeline.fetch.testing import MockConnector
from pipeline.outcomes import Status


async def public(host: str, port: int) -> list[str]:
    return ["93.184.216.34"]


def settings(**kw: Any):
    return load_settings({}, **{"per_host_delay": 0.0, "respect_robots": False, "connect_timeout": 2.0,
                                "read_timeout": 2.0, "total_timeout": 5.0, **kw})


def get(routes: dict[str, Any], url: str, *, client_settings: Any = None, **kw: Any) -> HttpResult:
    """One GET through HttpClient; `routes` maps a path to (status, body, headers) or a callable."""
    seen: list[str] = []

    async def handler(request):
        seen.append(request.url.path)
        route = routes[request.url.path]
        return await route(request) if asyncio.iscoroutinefunction(route) else route

    async def main() -> HttpResult:
        async with HttpClient(client_settings or settings(), connector=MockConnector(handler), resolver=public) as http:
            return await http.get(url, **kw)

    result = asyncio.run(main())
    result.seen = seen  # type: ignore[attr-defined]
    return result


def failure(result: HttpResult) -> tuple[Status, str, int | None]:
    assert result.failure is not None, f"expected a failure, got HTTP {result.status}"
    return result.failure.status, result.failure.reason, result.failure.http_status


PDF = {"Content-Type": "application/pdf"}


def not_pdf(kind: str | None) -> bool:
    return kind != "application/pdf"


def test_a_refused_content_type_keeps_the_status():
    result = get({"/a": (200, b"%PDF", PDF)}, "https://news.example/a", accept=not_pdf)
    assert failure(result) == (Status.NOT_ARTICLE, "unexpected content-type 'application/pdf'", 200)
    assert result.body is None


@pytest.mark.parametrize("status", [400, 404, 500])
def test_error_pages_are_not_judged_as_articles(status):
    """From 400 up the body is an error page: no content-type check, no size refusal from the
    Content-Length, read up to 64 KiB only, and an oversized one is simply not kept."""
    big = b"e" * (70 * 1024)
    small = get({"/a": (status, b"oops", PDF)}, "https://news.example/a", accept=not_pdf)
    assert (small.status, small.body, small.failure) == (status, b"oops", None)
    oversized = get({"/a": (status, big, {})}, "https://news.example/a", max_bytes=100_000)
    assert (oversized.status, oversized.body, oversized.failure) == (status, None, None)
    declared = get({"/a": (status, big, {})}, "https://news.example/a", max_bytes=1000)
    assert (declared.status, declared.body, declared.failure) == (status, None, None)
    within = get({"/a": (status, b"x" * (64 * 1024), {})}, "https://news.example/a")
    assert within.body == b"x" * (64 * 1024)


def test_success_bodies_up_to_the_cap_and_not_a_byte_more():
    exact = get({"/a": (200, b"z" * 1000, {})}, "https://news.example/a", max_bytes=1000)
    assert exact.body == b"z" * 1000 and exact.failure is None
    declared = get({"/a": (200, b"z" * 1001, {})}, "https://news.example/a", max_bytes=1000)
    assert failure(declared) == (Status.TOO_LARGE, "content-length 1001 exceeds limit of 1000 bytes", 200)
    packed = gzip.compress(b"z" * 1001)
    streamed = get({"/a": (200, packed, {"Content-Encoding": "gzip"})}, "https://news.example/a", max_bytes=1000)
    assert failure(streamed) == (Status.TOO_LARGE, "body exceeds limit of 1000 bytes after decompression", 200)
    fits = get({"/a": (200, gzip.compress(b"z" * 1000), {"Content-Encoding": "gzip"})}, "https://news.example/a",
               max_bytes=1000)
    assert fits.body == b"z" * 1000


@pytest.mark.parametrize("coding", ["x-gzip", "X-Gzip", "x-gzip, identity", "identity,x-gzip", " x-gzip ,"])
def test_x_gzip_is_decoded_here_identity_ignored(coding):
    body = b"<rss>" + b"x" * 5000 + b"</rss>"
    result = get({"/a": (200, gzip.compress(body), {"Content-Encoding": coding})}, "https://news.example/a")
    assert result.body == body and result.failure is None


def test_x_gzip_over_the_cap_and_broken_x_gzip():
    bomb = gzip.compress(b"\0" * 200_000)
    big = get({"/a": (200, bomb, {"Content-Encoding": "x-gzip"})}, "https://news.example/a", max_bytes=100_000)
    assert failure(big) == (Status.TOO_LARGE, "body exceeds limit of 100000 bytes after decompression", 200)
    broken = get({"/a": (200, b"not gzip at all", {"Content-Encoding": "x-gzip"})}, "https://news.example/a")
    status, reason, http_status = failure(broken)
    assert (status, http_status) == (Status.PARSE_ERROR, 200)
    assert reason.startswith("content decoding failed: invalid x-gzip data: Error -3 ")


@pytest.mark.parametrize("coding", ["gzip, x-gzip", "x-gzip, gzip", "br,gzip"])
def test_stacked_encodings_are_refused(coding):
    result = get({"/a": (200, b"whatever", {"Content-Encoding": coding})}, "https://news.example/a")
    assert failure(result) == (Status.PARSE_ERROR,
                               f"content decoding failed: unsupported stacked content-encoding {coding!r}", 200)


def test_a_body_that_is_not_what_its_encoding_says_keeps_the_status():
    result = get({"/a": (200, b"not gzip", {"Content-Encoding": "gzip"})}, "https://news.example/a")
    status, reason, http_status = failure(result)
    assert (status, http_status) == (Status.PARSE_ERROR, 200) and reason.startswith("content decoding failed: ")


def test_robots_txt_has_its_own_cap():
    web = {"/robots.txt": (200, b"User-agent: *\nDisallow: /private\n" + b"#" * ROBOTS_MAX_BYTES, {}),
           "/a": (200, b"article", {})}

    async def handler(request):
        return web[request.url.path]

    async def main() -> HttpResult:
        async with HttpClient(settings(max_bytes=10 * ROBOTS_MAX_BYTES), connector=MockConnector(handler),
                              resolver=public) as http:
            return await http._fetch_robots("https://news.example/robots.txt")

    result = asyncio.run(main())
    assert failure(result)[0] == Status.TOO_LARGE and f"limit of {ROBOTS_MAX_BYTES} bytes" in failure(result)[1]


def redirect(to: str, status: int = 302) -> tuple[int, bytes, dict[str, str]]:
    return status, b"", {"Location": to}


def test_permanent_url_only_when_every_hop_was_permanent():
    routes = {"/a": redirect("/b", 301), "/b": redirect("/c", 308), "/c": (200, b"ok", {}),
              "/t": redirect("/b", 307), "/p": redirect("/gone", 301), "/gone": (410, b"", {}),
              "/q": redirect("/bad", 308), "/bad": (400, b"", {}), "/r": redirect("/fine", 301), "/fine": (399, b"", {})}
    moved = get(routes, "https://news.example/a")
    assert (moved.permanent_url, moved.final_url) == ("https://news.example/c", "https://news.example/c")
    assert moved.redirects == ["https://news.example/a", "https://news.example/b"] and moved.url == "https://news.example/a"
    assert get(routes, "https://news.example/t").permanent_url is None  # one temporary hop
    assert get(routes, "https://news.example/p").permanent_url is None  # ends in an error
    assert get(routes, "https://news.example/q").permanent_url is None  # ... from 400 up
    assert get(routes, "https://news.example/r").permanent_url == "https://news.example/fine"
    assert get(routes, "https://news.example/c").permanent_url is None  # no redirect at all


def test_a_redirect_without_location_is_the_answer():
    result = get({"/a": (302, b"", {})}, "https://news.example/a")
    assert (result.status, result.failure, result.redirects) == (302, None, [])


def test_redirect_loops_and_the_hop_limit():
    loop = get({"/a": redirect("/b"), "/b": redirect("/a")}, "https://news.example/a")
    assert failure(loop) == (Status.HTTP_ERROR, "redirect loop via https://news.example/a", None)
    assert loop.redirects == ["https://news.example/a", "https://news.example/b"]
    assert (loop.url, loop.final_url) == ("https://news.example/a", "https://news.example/a")
    chain = {f"/{n}": redirect(f"/{n + 1}") for n in range(10)} | {"/10": (200, b"end", {})}
    limited = settings(max_redirects=3)
    assert get(chain, "https://news.example/7", client_settings=limited).body == b"end"  # exactly 3 hops
    over = get(chain, "https://news.example/6", client_settings=limited)
    assert failure(over) == (Status.HTTP_ERROR, "too many redirects (more than 3)", None)
    assert over.final_url == "https://news.example/10" and over.seen == ["/6", "/7", "/8", "/9"]
    assert over.url == "https://news.example/6" and over.redirects == [f"https://news.example/{n}" for n in (6, 7, 8, 9)]


MALFORMED = ["http://[::1/", "http://[zz]/a", "https://news.example]/a", "http://[::1"]


@pytest.mark.parametrize("url", MALFORMED)
def test_a_malformed_url_is_refused_with_the_reason_not_raised(url):
    result = get({}, url)
    status, reason, http_status = failure(result)
    assert (status, http_status, result.final_url, result.seen) == (Status.REFUSED, None, url, [])
    assert reason.startswith("ssrf guard: invalid URL: ")


@pytest.mark.parametrize("location", MALFORMED + ["//[zz]/b"])
def test_a_redirect_to_a_malformed_url_is_refused_with_the_reason_not_raised(location):
    result = get({"/a": redirect("/b", 301), "/b": redirect(location)}, "https://news.example/a")
    status, reason, http_status = failure(result)
    assert (status, http_status, result.seen) == (Status.REFUSED, 302, ["/a", "/b"])
    assert reason.startswith(f"redirect to an invalid URL {location!r}: ")
    assert (result.final_url, result.redirects) == ("https://news.example/b", ["https://news.example/a"])
    assert result.permanent_url is None


def test_relative_locations_and_whitespace():
    result = get({"/news/a": redirect("  ../b?x=1 "), "/b": (200, b"ok", {})}, "https://news.example/news/a")
    assert result.final_url == "https://news.example/b?x=1" and result.body == b"ok"


def test_retry_after_is_read_from_the_answer():
    result = get({"/a": (429, b"", {"Retry-After": "120"})}, "https://news.example/a")
    assert (result.status, result.retry_after) == (429, 120.0)


def test_the_total_time_limit_is_per_call_and_reported_with_its_setting():
    async def slow(request):
        await asyncio.sleep(0.5)
        return 200, b"late", {}

    quick = settings(total_timeout=0.2, read_timeout=5.0)
    result = get({"/a": slow}, "https://news.example/a", client_settings=quick)
    assert failure(result) == (Status.TIMEOUT, "total time limit of 0.2s exceeded", None)
    assert 150 <= result.elapsed_ms < 2000  # milliseconds, of this call

    async def main() -> list[HttpResult]:
        async def handler(request):
            await asyncio.sleep(0.15)
            return 200, b"ok", {}

        async with HttpClient(settings(total_timeout=0.3, read_timeout=5.0), connector=MockConnector(handler),
                              resolver=public) as http:
            return [await http.get("https://news.example/a") for _ in range(3)]

    assert [r.body for r in asyncio.run(main())] == [b"ok"] * 3  # each call has the whole budget


def test_a_host_that_asked_to_wait_is_skipped_when_asked_to():
    async def main() -> list[HttpResult]:
        async def handler(request):
            return 429, b"", {"Retry-After": "600"}

        async with HttpClient(settings(), connector=MockConnector(handler), resolver=public) as http:
            first = await http.get("https://news.example/a")
            http.politeness.pause("news.example", first.retry_after or 0)
            skipped = await http.get("https://news.example/b", skip_paused=True)
            return [first, skipped]

    first, skipped = asyncio.run(main())
    assert first.status == 429
    status, reason, _ = failure(skipped)
    assert status == Status.BLOCKED and reason.startswith("host news.example asked us to wait ")
    assert reason.endswith("s more (Retry-After)")


def test_a_closed_client_refuses_to_open_again():
    async def main() -> None:
        http = HttpClient(settings(), connector=MockConnector(lambda request: (200, b"", {})), resolver=public)
        await http.aclose()
        with pytest.raises(RuntimeError, match="^the HTTP client is closed$"):
            await http.get("https://news.example/a")

    asyncio.run(main())


def test_invalid_urls_are_refused():
    result = get({}, "https://news.example:80a/")
    assert result.failure is not None and result.failure.status == Status.REFUSED


def test_the_headers_sent():
    seen: list[Any] = []

    async def handler(request):
        seen.append(request.headers)
        return 200, b"ok", {}

    async def main(**kw: Any) -> None:
        async with HttpClient(settings(**kw), connector=MockConnector(handler), resolver=public) as http:
            await http.get("https://news.example/a", headers={"If-None-Match": '"v1"'})

    asyncio.run(main(user_agent="newswatch/9.9", contact="desk@example.org"))
    asyncio.run(main(user_agent="newswatch/9.9", contact="https://example.org/bot"))
    with_mail, with_url = seen
    assert with_mail["User-Agent"] == "newswatch/9.9 contact: desk@example.org" and with_mail["From"] == "desk@example.org"
    assert with_url["User-Agent"] == "newswatch/9.9 contact: https://example.org/bot" and "From" not in with_url
    assert with_mail["Accept-Encoding"] == "gzip, deflate, br" and with_mail["If-None-Match"] == '"v1"'


def test_agents():
    assert user_agent(settings(user_agent="nw/1", contact="")) == "nw/1"
    assert robots_agent(settings(user_agent="NewsBot/2.0 (+https://x)")) == "NewsBot"
    assert robots_agent(settings(user_agent="News Bot 3")) == "News"


@pytest.mark.parametrize("agent", ["", "   ", "/2.0", " /2.0 (+https://x)"])
def test_an_agent_without_a_product_token_is_asked_for_as_newswatch(agent):
    assert robots_agent(settings(user_agent=agent)) == "newswatch"


def test_parse_retry_after_edges():
    now = datetime(2026, 11, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after(None) is None and parse_retry_after("") is None
    assert parse_retry_after(" 30 ") == 30.0
    assert parse_retry_after(str(10 * 24 * 3600)) == MAX_RETRY_AFTER == 7 * 24 * 3600.0
    assert parse_retry_after("Sun, 01 Nov 2026 12:01:30 GMT", now) == 90.0
    assert parse_retry_after("Sun, 01 Nov 2026 12:01:30", now) == 90.0  # no zone: taken as UTC
    assert parse_retry_after("Sun, 01 Nov 2026 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("-5") is None


def test_reasons_are_one_short_line():
    assert _describe(aiohttp.ClientConnectionError("a\n   b"), " while reading") == (
        "ClientConnectionError while reading: a b")
    assert len(_describe(aiohttp.ClientError("x" * 1000))) == 500
    assert _describe(aiohttp.ClientPayloadError(), " while reading") == "ClientPayloadError while reading"
    assert _describe(aiohttp.ClientOSError("  ")) == "ClientOSError"
    assert _describe(aiohttp.ClientResponseError(None, ())) == "invalid response"
    assert _timeout_reason(aiohttp.ConnectionTimeoutError()) == "connect timeout"
    assert _timeout_reason(aiohttp.SocketTimeoutError()) == "read timeout"
    assert _timeout_reason(aiohttp.ServerTimeoutError()) == "request timeout"


def test_host_keys_are_per_host_and_port():
    assert http_module._host_key("https://News.Example:8443/a") == "news.example:8443"
    assert http_module._host_key("https://news.example/b") == "news.example"


def test_any_other_client_error_while_reading_keeps_the_status(monkeypatch):
    async def reset(content, coding, limit):
        raise aiohttp.ClientOSError(104, "Connection reset by peer")

    monkeypatch.setattr(http_module, "_read_capped", reset)
    result = get({"/a": (200, b"body", {})}, "https://news.example/a")
    assert failure(result) == (Status.HTTP_ERROR, "ClientOSError while reading: [Errno 104] Connection reset by peer",
                               200)


def test_a_url_the_http_layer_cannot_encode_is_refused():
    url = "https://n\u00e9\u200d.example/a"  # passes the address check (it resolves here), not the URL parser
    result = get({"/a": (200, b"ok", {})}, url)
    status, reason, _ = failure(result)
    assert (status, result.final_url, result.seen) == (Status.REFUSED, url, [])
    assert reason == "invalid URL: Host 'n\u00e9\\u200d.example' cannot contain '\\u200d' (at position 2)"


def test_cookies_are_never_kept():
    seen: list[Any] = []

    async def handler(request):
        seen.append(request.headers.get("Cookie"))
        return 200, b"ok", {"Set-Cookie": "session=abc; Path=/"}

    async def main() -> None:
        async with HttpClient(settings(), connector=MockConnector(handler), resolver=public) as http:
            for _ in range(2):
                await http.get("https://news.example/a")

    asyncio.run(main())
    assert seen == [None, None]


def test_a_long_response_header_line_up_to_16_kib_is_accepted():
    result = get({"/a": (200, b"ok", {"X-Long": "v" * 12_000})}, "https://news.example/a")
    assert result.body == b"ok" and len(result.headers["x-long"]) == 12_000


def test_even_a_short_pause_is_respected():
    async def main() -> HttpResult:
        async with HttpClient(settings(), connector=MockConnector(lambda request: (200, b"", {})),
                              resolver=public) as http:
            http.politeness.pause("news.example", 0.5)
            return await http.get("https://news.example/a", skip_paused=True)

    status, reason, _ = failure(asyncio.run(main()))
    assert status == Status.BLOCKED and reason == "host news.example asked us to wait 0s more (Retry-After)"


def test_politeness_slots_are_per_host():
    """One request at a time per host: two hosts are still fetched side by side."""
    in_flight: list[int] = [0]
    most: list[int] = [0]

    async def handler(request):
        in_flight[0] += 1
        most[0] = max(most[0], in_flight[0])
        await asyncio.sleep(0.2)
        in_flight[0] -= 1
        return 200, b"ok", {}

    async def main() -> None:
        async with HttpClient(settings(per_host_concurrency=1, global_concurrency=8), connector=MockConnector(handler),
                              resolver=public) as http:
            await asyncio.gather(http.get("https://one.example/a"), http.get("https://two.example/a"))

    asyncio.run(main())
    assert most == [2]


def test_exactly_these_headers_are_sent():
    seen: list[Any] = []

    async def handler(request):
        seen.append(sorted(k.lower() for k in request.headers))
        return 200, b"ok", {}

    async def main() -> None:
        async with HttpClient(settings(contact="desk@example.org"), connector=MockConnector(handler),
                              resolver=public) as http:
            await http.get("https://news.example/a")

    asyncio.run(main())
    assert seen == [["accept-encoding", "from", "host", "user-agent"]]


def test_robots_rules_for_our_own_agent_apply():
    robots = b"User-agent: *\nAllow: /\n\nUser-agent: newsbot\nDisallow: /private/\n"

    async def handler(request):
        return (200, robots, {}) if request.url.path == "/robots.txt" else (200, b"page", {})

    async def main() -> list[HttpResult]:
        async with HttpClient(settings(user_agent="NewsBot/1.0", respect_robots=True),
                              connector=MockConnector(handler), resolver=public) as http:
            return [await http.get(f"https://news.example/{p}", check_robots=True) for p in ("private/a", "public/b")]

    private, public_page = asyncio.run(main())
    assert failure(private)[0] == Status.REFUSED and public_page.body == b"page"


def test_a_paused_host_is_still_asked_unless_the_caller_says_skip():
    async def main() -> HttpResult:
        async with HttpClient(settings(), connector=MockConnector(lambda request: (200, b"asked", {})),
                              resolver=public) as http:
            http.politeness.pause("news.example", 600)
            return await http.get("https://news.example/a")

    assert asyncio.run(main()).body == b"asked"


def test_refusals_on_a_later_hop_keep_the_chain():
    """Robots, the address check and name resolution can each stop a chain at its second hop: the
    result names the first URL, the hops taken and the one refused."""
    robots = b"User-agent: *\nDisallow: /private/\n"

    async def handler(request):
        return {"/robots.txt": (200, robots, {}), "/a": redirect("/private/x"), "/b": redirect("https://intranet.example/"),
                "/c": redirect("https://nowhere.example/")}[request.url.path]

    async def resolver(host: str, port: int) -> list[str]:
        if host == "nowhere.example":
            raise OSError("Name or service not known")
        return {"intranet.example": ["10.0.0.1"]}.get(host, ["93.184.216.34"])

    async def main() -> list[HttpResult]:
        async with HttpClient(settings(respect_robots=True), connector=MockConnector(handler), resolver=resolver) as http:
            return [await http.get(f"https://news.example/{p}", check_robots=True) for p in "abc"]

    by_robots, by_address, by_dns = asyncio.run(main())
    assert failure(by_robots)[0] == Status.REFUSED and by_robots.final_url == "https://news.example/private/x"
    assert failure(by_address) == (Status.REFUSED, "ssrf guard: host intranet.example: 10.0.0.1 is a private address",
                                   None)
    assert failure(by_dns)[0] == Status.HTTP_ERROR and failure(by_dns)[1].startswith("dns: cannot resolve nowhere")
    for result, start in ((by_robots, "a"), (by_address, "b"), (by_dns, "c")):
        assert (result.url, result.redirects) == (f"https://news.example/{start}", [f"https://news.example/{start}"])
    assert (by_address.final_url, by_dns.final_url) == ("https://intranet.example/", "https://nowhere.example/")
