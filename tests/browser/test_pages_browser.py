"""The plugin pages in a real browser against a real Airflow API server: anonymous callers are refused by
the server, a viewer signs in through Airflow's own login page and lands on the page they asked for,
every page shows what it should (labels, local times, charts, links, sorting, paging, the detail page,
claim search) without being cut off in the 1,328 px iframe, and the pages work inside the Airflow UI.
Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from airflow_server import get, sign_in

pytestmark = pytest.mark.integration

FRAME_WIDTH = 1328  # the Airflow UI's plugin iframe at a 1,600 px window (the measurement)
TIMEZONE = "America/New_York"  # not UTC, so localised times differ from the server's


def _token(server: Any, user: str) -> str:
    return sign_in(server.url, user, server.passwords[user])


def test_the_real_server_refuses_anonymous_and_unauthorised_callers(api_server):
    status, headers, _ = get(f"{api_server.url}/newswatch/feeds?show=failing")
    assert status == 303
    login = urlsplit(headers["location"])
    assert login.path == "/auth/login" and parse_qs(login.query)["next"] == ["/newswatch/feeds?show=failing"]
    status, headers, body = get(f"{api_server.url}/newswatch/health")
    assert status == 401 and json.loads(body) == {"detail": "Not authenticated"}
    status, _, body = get(f"{api_server.url}/newswatch/feeds", _token(api_server, "nobody"))
    assert status == 403 and "Signed in as nobody" in body
    status, _, body = get(f"{api_server.url}/newswatch/health", _token(api_server, "viewer"))
    assert status == 200 and json.loads(body)["elasticsearch"] == "ok"


def _fits(page: Any) -> None:
    """Nothing wider than the frame: no horizontal scrolling and no table wider than its box."""
    widths = page.evaluate("""() => ({doc: document.documentElement.scrollWidth,
        tables: [...document.querySelectorAll('table')].map(t => t.scrollWidth - t.clientWidth)})""")
    assert widths["doc"] <= FRAME_WIDTH and all(extra <= 0 for extra in widths["tables"]), widths


def _local_clock(iso: str) -> str:
    return datetime.fromisoformat(iso).astimezone(ZoneInfo(TIMEZONE)).strftime("%H:%M")


def _new_page(browser: Any) -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": FRAME_WIDTH, "height": 900}, locale="en-GB",
                                  timezone_id=TIMEZONE)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _sign_in_with_the_form(page: Any, api_server: Any, screenshot: Path | None = None) -> None:
    """Asked for a page, an anonymous reader gets Airflow's login page and, signed in, the page asked for."""
    page.goto(f"{api_server.url}/newswatch/feeds")
    page.wait_for_url(re.compile(r"/auth/login\?next="))
    page.locator("input[name=username]").fill("viewer")
    page.locator("input[name=password]").fill(api_server.passwords["viewer"])
    if screenshot is not None:
        page.screenshot(path=screenshot)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{api_server.url}/newswatch/feeds")


@pytest.fixture(scope="module")
def viewer_page(browser, api_server):
    """A viewer's page, signed in (each test can run on its own)."""
    context, page = _new_page(browser)
    _sign_in_with_the_form(page, api_server)
    yield page
    context.close()


def test_sign_in_and_read_feed_health(browser, api_server, screenshots: Path):
    context, page = _new_page(browser)
    try:
        _sign_in_with_the_form(page, api_server, screenshots / "01-login.png")
        _read_feed_health(page, screenshots)
    finally:
        context.close()


def _read_feed_health(page: Any, screenshots: Path) -> None:
    assert page.locator("h1").inner_text() == "Feed health"
    assert page.locator(".who").inner_text() == "Signed in as viewer"
    assert page.locator("svg.chart").count() == 2
    assert page.locator("svg.chart").first.locator("g").count() == 48
    assert page.locator("#feeds ~ table tbody tr").count() == 50
    headers = page.locator("#feeds ~ table th").all_inner_texts()
    assert [h.rstrip(" ▲▼") for h in headers] == ["Feed", "Status", "Problem", "Last poll", "Last success",
                                                   "Failures in a row", "Next poll", "New articles"]
    clock = page.locator("#feeds ~ table time[data-only=clock]").first
    assert clock.inner_text() == _local_clock(clock.get_attribute("datetime"))  # the reader's time zone
    _fits(page)
    page.screenshot(path=screenshots / "02-feed-health.png", full_page=True)


def test_feeds_sort_and_page_in_the_browser(viewer_page, api_server, screenshots: Path):
    page = viewer_page
    page.goto(f"{api_server.url}/newswatch/feeds")
    page.get_by_role("link", name="Failures in a row").click()
    page.wait_for_url(re.compile(r"sort=failures&order=desc"))
    failures = [int(t) for t in page.locator("#feeds ~ table tbody tr td:nth-child(6)").all_inner_texts()]
    assert failures == sorted(failures, reverse=True) and failures[0] == 10
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert "Page 2 of 2" in page.locator(".pager").last.inner_text()
    assert page.locator("#feeds ~ table tbody tr").count() == 10
    page.get_by_role("link", name=re.compile(r"^Failing \(\d+\)$")).click()
    page.wait_for_url(re.compile(r"show=failing"))
    statuses = set(page.locator("#feeds ~ table tbody tr td:nth-child(2) .badge").all_inner_texts())
    assert statuses and statuses <= {"HTTP error", "Timed out"}
    page.screenshot(path=screenshots / "03-feed-health-failing.png", full_page=True)


def test_feed_detail_page(viewer_page, api_server, screenshots: Path):
    page = viewer_page
    failing = api_server.sample.failing
    page.goto(f"{api_server.url}/newswatch/feeds?show=failing")
    page.get_by_role("link", name=failing, exact=True).click()
    page.wait_for_url(f"{api_server.url}/newswatch/feeds/{failing}")
    assert page.locator("h1").inner_text() == f"Feed {failing}"
    assert page.locator("dl.facts").inner_text().startswith("Status\nHTTP error")
    polls = page.locator("h2:has-text('Recent polls') ~ table").first.locator("tbody tr")
    assert polls.count() == 8 and polls.first.locator(".badge").inner_text() == "HTTP error"
    assert page.locator("svg.chart").count() == 1
    _fits(page)
    page.screenshot(path=screenshots / "04-feed-detail.png", full_page=True)
    page.get_by_role("link", name="‹ All feeds").click()
    page.wait_for_url(f"{api_server.url}/newswatch/feeds")


def test_claim_search(viewer_page, api_server, screenshots: Path):
    page = viewer_page
    page.goto(f"{api_server.url}/newswatch/feeds")
    page.get_by_role("link", name="Claim search").click()
    page.wait_for_url(f"{api_server.url}/newswatch/search")
    page.get_by_label("Words in the claim").fill("artillery shells")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"search\?q=artillery\+shells"))
    assert page.locator("#found").inner_text().startswith("30 claims found")
    first = page.locator("tbody tr").first
    assert first.locator("td").nth(1).inner_text() == "unattributed"
    assert first.locator("mark").all_inner_texts() == ["artillery", "shells"]
    article = first.locator("td").nth(3).locator("a").first
    assert article.get_attribute("href") in api_server.sample.article_urls
    assert article.get_attribute("target") == "_blank"
    _fits(page)
    page.screenshot(path=screenshots / "05-claim-search.png", full_page=True)
    first.locator("td").nth(4).locator("a").first.click()  # the claim's feed
    page.wait_for_url(re.compile(r"/newswatch/feeds/[a-z0-9-]+$"))
    assert page.locator("h1").inner_text().startswith("Feed ")


def test_claim_search_sorts_by_clicking_column_headers(viewer_page, api_server, screenshots: Path):
    page = viewer_page
    page.goto(f"{api_server.url}/newswatch/search?q=ceasefire")
    header = page.locator("th", has_text="Article")

    def days() -> list[int]:  # the sample's article titles say "day N": N hours and a half ago, roughly
        return [int(re.search(r"day (\d+):", t).group(1))
                for t in page.locator("tbody tr td:nth-child(4)").all_inner_texts()]

    assert page.locator("th[aria-sort]").inner_text().startswith("Claim")  # most relevant first
    header.get_by_role("link").click()
    page.wait_for_url(re.compile(r"q=ceasefire&sort=published&order=desc$"))
    assert days() == list(range(25)) and header.get_attribute("aria-sort") == "descending"
    header.get_by_role("link").click()
    page.wait_for_url(re.compile(r"q=ceasefire&sort=published&order=asc$"))
    assert days() == list(range(29, 4, -1)) and header.get_attribute("aria-sort") == "ascending"
    assert page.locator("#found").inner_text() == "30 claims found, oldest first."
    page.get_by_role("link", name="Next ›").click()
    page.wait_for_url(re.compile(r"sort=published&order=asc&page=2$"))
    assert days() == [4, 3, 2, 1, 0]
    _fits(page)
    page.screenshot(path=screenshots / "05b-claim-search-sorted.png", full_page=True)


def test_watches(viewer_page, api_server, screenshots: Path):
    page = viewer_page
    page.goto(f"{api_server.url}/newswatch/watches")
    assert [c.split("\n")[0] for c in page.locator("tbody tr td:first-child").all_inner_texts()] == \
        ["harbour-fees", "stoltenberg-nk"]
    assert page.locator("tbody tr").first.locator(".badge").inner_text() == "Paused"
    _fits(page)
    page.screenshot(path=screenshots / "06-watches.png", full_page=True)


def test_pages_inside_the_airflow_ui(viewer_page, api_server, screenshots: Path):
    page = viewer_page
    page.set_viewport_size({"width": 1600, "height": 1000})
    try:
        page.goto(f"{api_server.url}/plugin/newswatch-feeds")
        frame = page.frame_locator("iframe")
        frame.locator("h1").wait_for()
        assert frame.locator("h1").inner_text() == "Feed health"
        width = page.locator("iframe").evaluate("f => f.clientWidth")
        inner = frame.locator("html").evaluate("d => d.scrollWidth")
        assert inner <= width, (inner, width)
        page.screenshot(path=screenshots / "07-airflow-ui-feed-health.png")
        page.goto(f"{api_server.url}/plugin/newswatch-search")
        page.frame_locator("iframe").locator("input[name=q]").wait_for()
        page.screenshot(path=screenshots / "08-airflow-ui-claim-search.png")
    finally:
        page.set_viewport_size({"width": FRAME_WIDTH, "height": 900})
