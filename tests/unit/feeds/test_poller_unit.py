"""Poller logic over pipeline.fetch.testing.MockConnector (an in-process server, no network)."""

import asyncio
import gzip
import zlib
from datetime import UTC, datetime, timedelta

import brotli

from pipeline.config import load_settings
from pipeline.feeds.catalog import FeedConfig
from pipeline.feeds.poller import poll_feeds_async
from pipeline.feeds.state import FeedState, InMemoryFeedStateStore
from pipeline.fetch.http import HttpClient
from pipeline.fetch.testing import MockConnector, Reply, Request
from pipeline.outcomes import Status

SETTINGS = load_settings({}, per_host_delay=0.0, max_feed_failures=3)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


async def _public(host, port):
    return ["93.184.216.34"]


def _rss(*links, ttl=None):
    items = "".join(f"<item><title>{link}</title><link>https://news.example/{link}</link></item>" for link in links)
    ttl_el = f"<ttl>{ttl}</ttl>" if ttl else ""
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{ttl_el}{items}</channel></rss>'.encode()


class Site:
    """A programmable feed server for MockConnector."""

    def __init__(self):
        self.routes = {}
        self.requests = []

    def __call__(self, request: Request) -> Reply:
        self.requests.append(request)
        route = self.routes.get(request.url.path)
        if route is None:
            route = R(404)
        if callable(route):
            route = route(request)
        return route


def R(status, content=b"", headers=None):
    return (status, content, headers or {})


def poll(site, feeds, store, now=NOW):
    async def run():
        async with HttpClient(SETTINGS, connector=MockConnector(site), resolver=_public) as http:
            return await poll_feeds_async(feeds, store, SETTINGS, http=http, now=lambda: now)
    return asyncio.run(run())


FEED = FeedConfig(id="f", name="F", url="https://news.example/feed.xml", min_interval=300, max_interval=7200)


def test_conditional_get_304_and_second_poll_yields_nothing_new():
    site = Site()
    body = _rss("a", "b", "c")

    def feed(request):
        if request.headers.get("if-none-match") == '"v1"':
            return R(304)
        return R(200, content=body, headers={"ETag": '"v1"', "Last-Modified": "Thu, 19 Nov 2026 08:00:00 GMT",
                                                          "Content-Type": "application/rss+xml"})

    site.routes["/feed.xml"] = feed
    store = InMemoryFeedStateStore()
    [first] = poll(site, [FEED], store)
    assert first.outcome.status == Status.OK and len(first.new_entries) == 3
    assert first.counts == {"seen": 3, "new": 3, "duplicates": 0, "skipped": 0}
    [second] = poll(site, [FEED], store)
    assert second.outcome.status == Status.NOT_MODIFIED and second.new_entries == []
    assert site.requests[-1].headers["if-none-match"] == '"v1"'
    assert site.requests[-1].headers["if-modified-since"] == "Thu, 19 Nov 2026 08:00:00 GMT"
    state = store.get("f")
    assert state.consecutive_failures == 0 and state.status == "not_modified"
    assert state.next_poll_at > NOW


def test_lying_etag_is_caught_by_body_hash_and_changes_still_seen():
    site = Site()
    bodies = [_rss("a", "b"), _rss("a", "b"), _rss("c", "a", "b")]
    site.routes["/feed.xml"] = lambda r: R(200, content=bodies.pop(0), headers={"ETag": '"same"'})
    store = InMemoryFeedStateStore()
    results = [poll(site, [FEED], store)[0] for _ in range(3)]
    assert [r.outcome.status for r in results] == [Status.OK, Status.NOT_MODIFIED, Status.OK]
    assert "same hash" in results[1].outcome.reason
    assert [e.url for e in results[2].new_entries] == ["https://news.example/c"]
    assert results[2].duplicates == 2


def test_dedupe_by_guid_within_feed_and_by_url_across_feeds():
    site = Site()
    a = b'<rss version="2.0"><channel><title>A</title><item><guid isPermaLink="false">g1</guid><link>https://news.example/x</link></item></channel></rss>'
    a2 = b'<rss version="2.0"><channel><title>A</title><item><guid isPermaLink="false">g1</guid><link>https://news.example/x-updated</link></item></channel></rss>'
    shared = _rss("x?utm_source=other")
    bodies = {"/a.xml": [a, a2]}
    site.routes["/a.xml"] = lambda r: R(200, content=bodies["/a.xml"].pop(0))
    site.routes["/b.xml"] = R(200, content=shared)
    fa = FeedConfig(id="a", name="A", url="https://news.example/a.xml")
    fb = FeedConfig(id="b", name="B", url="https://news.example/b.xml")
    store = InMemoryFeedStateStore()
    ra, rb = poll(site, [fa, fb], store)
    assert len(ra.new_entries) == 1
    assert rb.new_entries == [] and rb.duplicates == 1  # same canonical URL as feed a's item
    [ra2] = poll(site, [fa], store)
    assert ra2.new_entries == [] and ra2.duplicates == 1  # same GUID, new URL: not new


def test_retry_after_and_backoff_then_auto_disable_with_reason():
    site = Site()
    site.routes["/feed.xml"] = R(429, headers={"Retry-After": "900"})
    store = InMemoryFeedStateStore()
    [r] = poll(site, [FEED], store)
    assert r.outcome.status == Status.BLOCKED and r.outcome.http_status == 429
    state = store.get("f")
    assert state.retry_after_until == NOW + timedelta(seconds=900)
    assert state.next_poll_at == NOW + timedelta(seconds=900)
    site.routes["/feed.xml"] = R(503)
    poll(site, [FEED], store)
    assert store.get("f").next_poll_at == NOW + timedelta(seconds=600)  # 300 * 2**(2-1)
    [r3] = poll(site, [FEED], store)
    state = store.get("f")
    assert r3.disabled and state.disabled and state.consecutive_failures == 3
    assert "3 consecutive failures" in state.disabled_reason and "HTTP 503" in state.disabled_reason
    [r4] = poll(site, [FEED], store)
    assert r4.outcome.status == Status.REFUSED and "disabled" in r4.outcome.reason
    assert len(site.requests) == 3  # a disabled feed is not fetched


def test_gone_disables_immediately():
    site = Site()
    site.routes["/feed.xml"] = R(410)
    store = InMemoryFeedStateStore()
    poll(site, [FEED], store)
    assert store.get("f").disabled and "410" in store.get("f").disabled_reason


def test_success_resets_failures():
    site = Site()
    site.routes["/feed.xml"] = R(500)
    store = InMemoryFeedStateStore()
    poll(site, [FEED], store)
    site.routes["/feed.xml"] = R(200, content=_rss("a"))
    poll(site, [FEED], store)
    assert store.get("f").consecutive_failures == 0 and store.get("f").status == "ok"


def test_permanent_redirect_is_remembered_temporary_is_not():
    site = Site()
    site.routes["/feed.xml"] = R(301, headers={"Location": "/new.xml"})
    site.routes["/new.xml"] = R(200, content=_rss("a"))
    site.routes["/tmp.xml"] = R(302, headers={"Location": "/new.xml"})
    store = InMemoryFeedStateStore()
    tmp = FeedConfig(id="t", name="T", url="https://news.example/tmp.xml")
    poll(site, [FEED, tmp], store)
    assert store.get("f").permanent_url == "https://news.example/new.xml"
    assert store.get("t").permanent_url is None
    site.requests.clear()
    poll(site, [FEED], store)
    assert [r.url.path for r in site.requests] == ["/new.xml"]


def test_compressed_feeds_are_decoded():
    body = _rss("a", "b")
    site = Site()
    site.routes["/gz.xml"] = R(200, content=gzip.compress(body), headers={"Content-Encoding": "gzip"})
    site.routes["/br.xml"] = R(200, content=brotli.compress(body), headers={"Content-Encoding": "br"})
    raw = zlib.compressobj(wbits=-15)
    site.routes["/deflate.xml"] = R(200, content=raw.compress(body) + raw.flush(),
                                                 headers={"Content-Encoding": "deflate"})
    feeds = [FeedConfig(id=n, name=n, url=f"https://news.example/{n}.xml") for n in ("gz", "br", "deflate")]
    results = poll(site, feeds, InMemoryFeedStateStore())
    assert [len(r.new_entries) for r in results] == [2, 0, 0]  # same items: deduped across feeds
    assert all(r.outcome.status == Status.OK for r in results)
    assert [r.duplicates for r in results] == [0, 2, 2]
    assert site.requests[0].headers["accept-encoding"] == "gzip, deflate, br"


def test_adaptive_interval_uses_ttl_and_new_ratio():
    site = Site()
    site.routes["/feed.xml"] = R(200, content=_rss("a", "b", ttl=60))
    store = InMemoryFeedStateStore()
    poll(site, [FEED], store)
    assert store.get("f").hint_interval == 3600
    assert store.get("f").interval == 3600  # never sooner than the ttl


def test_a_feed_url_change_resets_validators():
    store = InMemoryFeedStateStore()
    store.put(FeedState(feed_id="f", url="https://old.example/feed.xml", etag='"x"', disabled=True))
    site = Site()
    site.routes["/feed.xml"] = R(200, content=_rss("a"))
    [r] = poll(site, [FEED], store)
    assert r.outcome.status == Status.OK
    assert "if-none-match" not in site.requests[0].headers
    assert store.get("f").url == FEED.url and not store.get("f").disabled


def test_a_broken_feed_keeps_failing_instead_of_hiding_behind_304():
    site = Site()
    bomb = b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss version="2.0"><channel><title>&a;</title></channel></rss>'

    def feed(request):
        if request.headers.get("if-none-match") == '"b1"':
            return R(304)
        return R(200, content=bomb, headers={"ETag": '"b1"'})

    site.routes["/feed.xml"] = feed
    store = InMemoryFeedStateStore()
    results = [poll(site, [FEED], store)[0] for _ in range(3)]
    assert [r.outcome.status for r in results] == [Status.PARSE_ERROR] * 3
    assert "if-none-match" not in site.requests[-1].headers
    assert store.get("f").disabled


def test_a_vanished_redirect_target_sends_us_back_to_the_configured_url():
    site = Site()
    site.routes["/feed.xml"] = R(301, headers={"Location": "/new.xml"})
    site.routes["/new.xml"] = R(200, content=_rss("a"))
    store = InMemoryFeedStateStore()
    poll(site, [FEED], store)
    del site.routes["/new.xml"]
    site.routes["/feed.xml"] = R(200, content=_rss("a", "b"))
    [gone] = poll(site, [FEED], store)
    assert gone.outcome.status == Status.HTTP_ERROR and store.get("f").permanent_url is None
    [back] = poll(site, [FEED], store)
    assert back.outcome.status == Status.OK and [e.url for e in back.new_entries] == ["https://news.example/b"]


def test_each_poll_is_kept_for_the_operators_page_up_to_the_last_twenty():
    from pipeline.feeds.state import RECENT_POLLS

    site = Site()
    site.routes["/feed.xml"] = lambda request: (
        R(503) if len(site.requests) == 2 else
        R(200, content=_rss("a", "b", *(["c"] if len(site.requests) > 2 else [])),
          headers={"Content-Type": "application/rss+xml"}))
    store = InMemoryFeedStateStore()
    for i in range(RECENT_POLLS + 5):
        poll(site, [FEED], store, now=NOW + timedelta(hours=3 * i))
    polls = store.get("f").recent_polls
    assert len(polls) == RECENT_POLLS and polls[-1].at == NOW + timedelta(hours=3 * (RECENT_POLLS + 4))
    assert {p.status for p in polls[-3:]} == {"not_modified"}  # the same body again
    fresh = InMemoryFeedStateStore()
    site.requests.clear()
    for i in range(3):
        poll(site, [FEED], fresh, now=NOW + timedelta(hours=3 * i))
    assert [(p.status, p.http_status, p.new_entries, p.entries_seen) for p in fresh.get("f").recent_polls] == [
        ("ok", 200, 2, 2), ("http_error", 503, 0, 0), ("ok", 200, 1, 3)]
