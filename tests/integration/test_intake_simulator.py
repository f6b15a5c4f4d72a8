"""The poller, fetcher and extractor against the news-site simulator on 127.0.0.1 (real HTTP).

Each hostile case must end in the right status, with the process healthy and the other feeds
unaffected. The well-behaved site runs on its own port (its own politeness host), like a real
separate publisher.
"""

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pipeline.config import load_settings
from pipeline.extract.extractor import extract_article
from pipeline.feeds.catalog import FeedConfig
from pipeline.feeds.poller import poll_feeds
from pipeline.feeds.schedule import due_feeds
from pipeline.feeds.state import InMemoryFeedStateStore
from pipeline.fetch.fetcher import entry_for_url, fetch_pages
from pipeline.outcomes import Status
from simulator import HOSTILE, Simulator

pytestmark = pytest.mark.integration

SETTINGS = load_settings({}, allow_private_addresses=True, allowed_private_networks="127.0.0.0/8",
                         per_host_delay=0.0, connect_timeout=1.0, read_timeout=1.0, total_timeout=2.5,
                         max_feed_failures=3)


@pytest.fixture(scope="module")
def hostile():
    with Simulator(name="Hostile Herald") as sim:
        sim.add_hostile_fixtures()
        yield sim


@pytest.fixture()
def good():
    with Simulator(name="Good Gazette") as sim:
        for feed in ("world", "business", "science"):
            for j in range(2):
                sim.add_article(feed, f"{feed} story {j}", author="Ann Writer",
                                published=datetime(2026, 11, 1, 8, j, tzinfo=UTC))
        sim.add_feed("atom", format="atom")
        sim.add_article("atom", "An atom story", slug="atom-1")
        yield sim


def _feeds(sim, paths):
    return [FeedConfig(id=name.replace("_", "-"), name=name, url=sim.url(path)) for name, path in paths.items()]


HOSTILE_FEED_STATUS = {
    "unchanged_feed": Status.OK,
    "lying_etag_feed": Status.OK,
    "slow_feed": Status.TIMEOUT,
    "rate_limited_feed": Status.BLOCKED,
    "server_error_feed": Status.HTTP_ERROR,
    "redirect_loop_feed": Status.HTTP_ERROR,
    "moved_feed": Status.OK,
    "huge_feed": Status.TOO_LARGE,
    "gzip_bomb_feed": Status.TOO_LARGE,
    "malformed_feed": Status.OK,
    "xml_bomb_feed": Status.PARSE_ERROR,
    "ssrf_feed": Status.OK,
}


def test_hostile_feeds_end_in_the_right_status_and_good_feeds_are_unaffected(hostile, good):
    hostile_feeds = _feeds(hostile, {k: HOSTILE[k] for k in HOSTILE_FEED_STATUS})
    good_feeds = [FeedConfig(id=f"good-{f}", name=f, url=good.feed_url(f)) for f in ("world", "business", "science", "atom")]
    store = InMemoryFeedStateStore()
    started = datetime.now(UTC)
    results = {r.feed_id: r for r in poll_feeds(hostile_feeds + good_feeds, store, SETTINGS)}

    got = {name: results[name.replace("_", "-")].outcome.status for name in HOSTILE_FEED_STATUS}
    assert got == HOSTILE_FEED_STATUS
    for r in results.values():
        assert r.outcome.ok or r.outcome.reason, f"{r.feed_id} failed without a reason"
    assert "retry after 120s" in results["rate-limited-feed"].outcome.reason
    assert "redirect loop" in results["redirect-loop-feed"].outcome.reason
    assert "after decompression" in results["gzip-bomb-feed"].outcome.reason
    assert "entity" in results["xml-bomb-feed"].outcome.reason
    assert results["malformed-feed"].warning and len(results["malformed-feed"].new_entries) == 2
    assert store.get("malformed-feed").parse_warning
    assert store.get("moved-feed").permanent_url == hostile.url("/feeds/hostile-moved-target.xml")
    assert store.get("rate-limited-feed").retry_after_until >= started + timedelta(seconds=119)
    assert [len(results[f.id].new_entries) for f in good_feeds] == [2, 2, 2, 1]
    assert all(results[f.id].outcome.status == Status.OK for f in good_feeds)

    # second cycle: unchanged feeds cost a 304 (or a hash compare), nothing is new
    moved_hits = hostile.hits(HOSTILE["moved_feed"])
    good.add_article("world", "Breaking: a new world story")
    second = {r.feed_id: r for r in poll_feeds(hostile_feeds + good_feeds, store, SETTINGS)}
    assert second["unchanged-feed"].outcome.status == Status.NOT_MODIFIED
    assert second["unchanged-feed"].http_status == 304
    assert second["lying-etag-feed"].outcome.status == Status.NOT_MODIFIED
    assert "same hash" in second["lying-etag-feed"].outcome.reason
    assert second["moved-feed"].outcome.status == Status.NOT_MODIFIED
    assert hostile.hits(HOSTILE["moved_feed"]) == moved_hits  # the permanent redirect was remembered
    assert [e.title for e in second["good-world"].new_entries] == ["Breaking: a new world story"]
    assert all(second[f"good-{f}"].outcome.status == Status.NOT_MODIFIED for f in ("business", "science", "atom"))

    # the lying server changes its content but not its ETag: the change is still seen
    hostile.add_article("hostile-lying-etag", "Changed behind the same ETag")
    third = poll_feeds([f for f in hostile_feeds if f.id == "lying-etag-feed"], store, SETTINGS)[0]
    assert [e.title for e in third.new_entries] == ["Changed behind the same ETag"]

    # the process and both servers are healthy
    assert httpx.get(good.url("/opml.xml"), timeout=5).status_code == 200
    assert httpx.get(hostile.url("/robots.txt"), timeout=5).status_code == 200


def test_failing_feeds_are_backed_off_then_disabled_with_the_reason(hostile):
    feeds = _feeds(hostile, {"server_error_feed": HOSTILE["server_error_feed"],
                             "rate_limited_feed": HOSTILE["rate_limited_feed"]})
    store = InMemoryFeedStateStore()
    for _ in range(3):
        poll_feeds(feeds, store, SETTINGS)
    broken = store.get("server-error-feed")
    assert broken.disabled and broken.consecutive_failures == 3
    assert broken.disabled_reason.startswith("3 consecutive failures; last: http_error: HTTP 503")
    limited = store.get("rate-limited-feed")
    assert limited.retry_after_until > datetime.now(UTC) + timedelta(seconds=100)
    assert due_feeds(feeds, store) == []  # one disabled, one waiting for Retry-After


HOSTILE_ARTICLE_STATUS = {
    "ok_article": Status.OK,
    "robots_disallowed_article": Status.REFUSED,
    "wrong_charset_article": Status.OK,
    "huge_article": Status.TOO_LARGE,
    "gzip_bomb_article": Status.TOO_LARGE,
    "slow_article": Status.TIMEOUT,
    "forbidden_article": Status.BLOCKED,
    "challenge_article": Status.BLOCKED,
    "paywalled_article": Status.PAYWALLED,
    "short_article": Status.TOO_SHORT,
    "listing_page": Status.NOT_ARTICLE,
    "pdf_document": Status.NOT_ARTICLE,
    "missing_article": Status.HTTP_ERROR,
    "server_error_article": Status.HTTP_ERROR,
    "redirect_loop_article": Status.HTTP_ERROR,
    "redirect_to_metadata_article": Status.REFUSED,
}


def test_hostile_articles_end_in_the_right_status_and_good_articles_are_unaffected(hostile, good):
    hostile.reset_hits()
    good_urls = [good.url(f"/articles/{s}.html") for s in ("atom-1",)] + [
        good.add_article("world", f"Fresh world story {i}") for i in range(3)]
    entries = [entry_for_url(hostile.url(HOSTILE[k])) for k in HOSTILE_ARTICLE_STATUS]
    entries += [entry_for_url(u) for u in good_urls]
    pages = fetch_pages(entries, SETTINGS)
    articles = [extract_article(p) for p in pages]
    got = dict(zip(HOSTILE_ARTICLE_STATUS, (a.outcome.status for a in articles), strict=False))
    assert got == HOSTILE_ARTICLE_STATUS
    for a in articles:
        assert a.outcome.ok or a.outcome.reason, f"{a.url} failed without a reason"
    good_articles = articles[len(HOSTILE_ARTICLE_STATUS):]
    assert [a.outcome.status for a in good_articles] == [Status.OK] * 4
    assert all(len(a.text) > 500 and a.site == "Good Gazette" for a in good_articles)
    by_key = dict(zip(HOSTILE_ARTICLE_STATUS, articles, strict=False))
    assert "café" in by_key["wrong_charset_article"].text and "crêpes" in by_key["wrong_charset_article"].text
    assert by_key["wrong_charset_article"].language == "fr"
    assert by_key["ok_article"].authors == ["Jane Doe"]
    assert "metadata" in by_key["redirect_to_metadata_article"].outcome.reason
    assert hostile.hits("/robots.txt") == 1  # cached per host
    assert hostile.hits("/private/hostile-secret.html") == 0  # never requested


def test_ssrf_links_in_a_feed_are_refused(hostile):
    [polled] = poll_feeds(_feeds(hostile, {"ssrf_feed": HOSTILE["ssrf_feed"]}), InMemoryFeedStateStore(), SETTINGS)
    pages = {p.entry.title: p for p in fetch_pages(polled.new_entries, SETTINGS)}
    assert pages["Metadata service"].outcome.status == Status.REFUSED
    assert "169.254.169.254 is a cloud metadata address" in pages["Metadata service"].outcome.reason
    assert pages["Private admin"].outcome.status == Status.REFUSED
    assert "10.0.0.1 is a private address" in pages["Private admin"].outcome.reason
    assert pages["Redirect to metadata"].outcome.status == Status.REFUSED
    assert pages["Fine story"].outcome.status == Status.OK


def test_default_settings_refuse_the_simulator_itself(hostile):
    strict = load_settings({}, per_host_delay=0.0)
    [page] = fetch_pages([entry_for_url(hostile.url(HOSTILE["ok_article"]))], strict)
    assert page.outcome.status == Status.REFUSED and "loopback" in page.outcome.reason


def test_total_time_limit_stops_a_trickling_server(hostile):
    settings = load_settings({}, allow_private_addresses=True, per_host_delay=0.0, read_timeout=2.0,
                             total_timeout=0.6, respect_robots=False)
    [page] = fetch_pages([entry_for_url(hostile.url(HOSTILE["trickle_article"]))], settings)
    assert page.outcome.status == Status.TIMEOUT and "total time limit" in page.outcome.reason
    relaxed = load_settings({}, allow_private_addresses=True, per_host_delay=0.0, read_timeout=2.0,
                            total_timeout=5.0, respect_robots=False)
    [page] = fetch_pages([entry_for_url(hostile.url(HOSTILE["trickle_article"]))], relaxed)
    assert page.outcome.status == Status.OK


def test_dns_rebinding_between_check_and_connect_is_refused(hostile):
    """The name resolves to a public address for the check, then to loopback for the connection."""
    import asyncio

    from pipeline.fetch.http import HttpClient

    answers = iter([["8.8.8.8"], ["127.0.0.1"]])

    async def rebinding(host, port):
        return next(answers)

    strict = load_settings({}, per_host_delay=0.0)
    url = f"http://rebind.test:{hostile.port}{HOSTILE['ok_article']}"
    before = hostile.hits(HOSTILE["ok_article"])

    async def run():
        async with HttpClient(strict, resolver=rebinding) as http:
            return await http.get(url)

    result = asyncio.run(run())
    assert result.failure is not None and result.failure.status == Status.REFUSED
    assert "127.0.0.1 is a loopback address" in result.failure.reason
    assert hostile.hits(HOSTILE["ok_article"]) == before


def test_bombs_and_huge_bodies_cost_bounded_memory(hostile):
    """A 128 MB gzip bomb and a 64 MB body stop at the 5 MB cap: peak allocation stays small."""
    import tracemalloc

    entries = [entry_for_url(hostile.url(HOSTILE[k])) for k in ("gzip_bomb_article", "huge_article")]
    tracemalloc.start()
    try:
        pages = fetch_pages(entries, SETTINGS)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p.outcome.status for p in pages] == [Status.TOO_LARGE, Status.TOO_LARGE]
    assert peak < 4 * SETTINGS.max_bytes, f"peak {peak / 1e6:.1f} MB"
