"""The plugin's pages over real data in a real Elasticsearch, through Airflow's own app as a signed-in
viewer: Feed health (counts, charts, sorting, paging, filters), a feed's detail page, Claim search
(links, unattributed claims, filters, paging) and Watches. The data: tests/plugin_sample.py."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import UTC, datetime
from html import unescape

import pytest
from plugin_client import client
from plugin_sample import feed_states, index_sample

from pipeline.ops.feeds import health_of

pytestmark = pytest.mark.integration

SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")


@pytest.fixture(scope="module")
def sample(es_url, es_client, airflow_db):
    from pipeline.config import load_settings
    from pipeline.index.setup import drop_prefix

    prefix = f"t15p-{uuid.uuid4().hex[:8]}"
    data = index_sample(es_client, load_settings({}, es_url=es_url, index_prefix=prefix))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NEWSWATCH_ES_URL", es_url)
        mp.setenv("NEWSWATCH_INDEX_PREFIX", prefix)
        mp.delenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", raising=False)
        yield data
    drop_prefix(es_client, prefix)


@pytest.fixture(scope="module")
def viewer():
    return client("viewer")


def _rows(html: str, table: int = -1) -> list[list[str]]:
    """The cells (as text) of the body rows of the page's `table`-th table."""
    tables = re.findall(r"<tbody>(.*?)</tbody>", html, flags=re.S)
    return [[_text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", tables[table], flags=re.S)]


def _text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _visible(html: str) -> str:
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return _text(re.sub(r'title="[^"]*"', "", body))


def _section(html: str, heading: str) -> str:
    return html.split(heading, 1)[1].split("<h2", 1)[0]


def test_feed_health_summarises_charts_and_lists_feeds(sample, viewer):
    r = viewer.get("/newswatch/feeds")
    assert r.status_code == 200
    cards = re.findall(r'<a class="card[^"]*" href="[^"]*"><b>([\d,]+)</b><span>([^<]+)</span>', r.text)
    health = Counter(health_of(s) for s in feed_states(sample.feed_ids, datetime.now(UTC)))
    assert health == {"ok": 45, "failing": 10, "disabled": 3, "new": 2}  # every class is shown
    assert dict((label, int(n)) for n, label in cards) == {"Feeds": 60, "OK": health["ok"], "Failing": health["failing"],
                                                          "Disabled": health["disabled"], "Not polled yet": health["new"]}
    assert "<b>16</b><span>Articles, last 24 h</span>" in r.text  # 30 articles, one per 1.5 h
    volume = _section(r.text, "Articles and failures per hour, last 48 hours")
    assert volume.count("<title>") == 48 and "Articles (30)" in volume and "Failures (90)" in volume
    reasons = _section(r.text, "Failures by reason, last 48 hours")
    assert "<svg" in reasons and "Download: timed out (30)" in reasons
    by_reason = {row[0]: (int(row[1]), int(row[2])) for row in _rows(reasons)}
    assert {k: v[1] for k, v in by_reason.items()} == {
        "Download: timed out": 30, "Download: HTTP error": 23, "Extraction: too short": 15,
        "Feed poll: HTTP error": 8, "Download: refused": 7, "Extraction: paywalled": 7}
    assert all(0 < last_day < last_two for last_day, last_two in by_reason.values())
    feeds = _rows(r.text)
    assert len(feeds) == 50 and "Page 1 of 2 · 60 feeds" in r.text
    assert [row[0].split()[0] for row in feeds] == sorted(sample.feed_ids)[:50]
    assert not SNAKE.findall(_visible(r.text))  # labels, not field names or status codes
    assert 'href="feeds/' + sample.failing + '"' in r.text and 'href="/' not in r.text  # relative links only


def test_feed_rows_read_as_people_say_it(sample, viewer):
    rows = {row[0].split()[0]: row for row in _rows(viewer.get("/newswatch/feeds", params={"show": "failing"}).text)}
    failing = rows[sample.failing]
    assert failing[1] == "HTTP error HTTP 503" and failing[2].startswith("HTTP 503 Service Unavailable")
    assert re.fullmatch(r"\d+ min ago (\d\d? \w{3} )?\d\d:\d\d UTC", failing[3])
    assert re.fullmatch(r"\d+ h ago (\d\d? \w{3} )?\d\d:\d\d UTC", failing[4]) and failing[5] == "4"
    disabled = _rows(viewer.get("/newswatch/feeds", params={"show": "disabled"}).text)
    assert {row[1] for row in disabled} == {"Disabled"} and {row[6] for row in disabled} == {"not while disabled"}
    assert "10 failed polls in a row" in disabled[0][2]


def test_feeds_sort_and_page_on_the_server(sample, viewer):
    by_failures = _rows(viewer.get("/newswatch/feeds", params={"sort": "failures", "order": "desc"}).text)
    counts = [int(row[5]) for row in by_failures]
    assert counts == sorted(counts, reverse=True) and counts[0] == 10
    r = viewer.get("/newswatch/feeds", params={"sort": "failures", "order": "desc", "page": 2})
    assert len(_rows(r.text)) == 10 and "Page 2 of 2" in r.text and 'rel="prev"' in r.text
    assert 'href="feeds?sort=failures&amp;order=desc&amp;page=1"' in r.text  # the pager keeps the sort
    assert 'aria-sort="descending"' in r.text
    by_name = [row[0].split()[0] for row in _rows(viewer.get("/newswatch/feeds", params={"order": "desc"}).text)]
    assert by_name == sorted(sample.feed_ids, reverse=True)[:50]
    filtered = _rows(viewer.get("/newswatch/feeds", params={"q": "BBC-"}).text)
    assert {row[0].split()[0] for row in filtered} == {f for f in sample.feed_ids if f.startswith("bbc-")}
    never = _rows(viewer.get("/newswatch/feeds", params={"show": "new"}).text)
    assert len(never) == 2 and {row[3] for row in never} == {"never"}


def test_feed_detail_shows_state_polls_failures_and_articles(sample, viewer):
    r = viewer.get(f"/newswatch/feeds/{sample.busy}")
    assert r.status_code == 200 and f"Feed {sample.busy}" in r.text
    assert '<a href="../feeds">‹ All feeds</a>' in r.text and 'href="../search"' in r.text
    assert "Polled every</dt><dd>15 min" in r.text and "Feed URL" in r.text
    assert re.search(r"<svg class=\"chart\".*?</svg>", r.text, flags=re.S)
    polls = _rows(_section(r.text, "Recent polls"))
    assert polls[0][1] == "OK" and polls[0][3] == "20 entries in the feed"
    failed = _rows(_section(r.text, "Articles that failed"))
    assert failed and all(row[1] in {"Download", "Extraction"} for row in failed)
    articles = _section(r.text, "Recent articles")
    assert f'href="{sample.article_urls[0]}"' in articles and 'target="_blank"' in articles
    assert "articles from this feed in all" in articles
    poll_failures = _rows(_section(viewer.get(f"/newswatch/feeds/{sample.failing}").text, "Recent polls"))
    assert poll_failures and {row[1] for row in poll_failures} == {"HTTP error"}
    missing = viewer.get("/newswatch/feeds/no-such-feed")
    assert missing.status_code == 404 and "No feed with the id" in missing.text


def test_search_links_claims_to_article_and_feed(sample, viewer):
    r = viewer.get("/newswatch/search", params={"q": "arming Russia"})
    assert r.status_code == 200 and "30 claims found, most relevant first." in r.text
    first = re.findall(r"<tr>(.*?)</tr>", r.text.split("<tbody>")[1], flags=re.S)[0]
    assert "<mark>arming</mark> <mark>Russia</mark>" in first
    assert 'href="search?speaker=Jens+Stoltenberg"' in first
    (article,) = re.findall(r'<a href="(https://[^"]+)" target="_blank"', first)
    assert article in sample.article_urls
    assert re.search(r'href="feeds/[a-z0-9-]+"', first)
    cells = _rows(r.text)[0]
    assert cells[1] == "Jens Stoltenberg" and cells[2] == "Direct quote high certainty"


def test_unattributed_claims_say_so(sample, viewer):
    r = viewer.get("/newswatch/search", params={"q": "artillery shells"})
    rows = {row[0]: row for row in _rows(r.text)}
    assert rows["North Korea may supply more artillery shells"][1] == "unattributed"
    assert rows["North Korea may supply more artillery shells"][2] == "Assertion low certainty"
    ministry = _rows(viewer.get("/newswatch/search", params={"q": "exports cut"}).text)[0]
    assert ministry[0] == "exports would be cut by half next year" and ministry[1] == "unattributed “The ministry”"


def test_search_filters_and_pages(sample, viewer):
    r = viewer.get("/newswatch/search", params={"speaker": "Antonio Guterres", "certainty": "medium"})
    assert "30 claims found, newest first." in r.text and '<option value="medium" selected>' in r.text
    assert {row[1] for row in _rows(r.text)} == {"Antonio Guterres"} and len(_rows(r.text)) == 25
    second = viewer.get("/newswatch/search", params={"speaker": "Antonio Guterres", "certainty": "medium", "page": 2})
    assert len(_rows(second.text)) == 5 and "Page 2 of 2" in second.text
    assert 'href="search?speaker=Antonio+Guterres&amp;certainty=medium&amp;page=1"' in second.text
    none = viewer.get("/newswatch/search", params={"q": "zzzunmatched"})
    assert none.status_code == 200 and "0 claims found" in none.text and "No claim matches" in none.text


def _days(rows: list[list[str]]) -> list[int]:
    """The sample article's day number ("Shells from North Korea, day 7: ...") of each row."""
    return [int(re.search(r"day (\d+):", row[3]).group(1)) for row in rows]


def _header(html: str, label: str) -> str:
    (th,) = re.findall(rf"<th[^>]*>(?:<a [^>]*>)?{label}.*?</th>", html)
    return th


def test_search_sorts_by_column_and_keeps_the_order_when_paging(sample, viewer):
    r = viewer.get("/newswatch/search", params={"certainty": "medium"})
    assert "60 claims found, newest first." in r.text and _days(_rows(r.text))[:3] == [0, 0, 1]
    assert 'aria-sort="descending"' in _header(r.text, "Article")
    assert 'href="search?certainty=medium&amp;sort=published&amp;order=asc"' in _header(r.text, "Article")
    assert 'href="search?certainty=medium&amp;sort=speaker&amp;order=asc"' in _header(r.text, "Speaker")
    assert "<a " not in _header(r.text, "Claim")  # no words, no relevance to sort by
    by_speaker = {"certainty": "medium", "sort": "speaker", "order": "asc"}
    first = viewer.get("/newswatch/search", params=by_speaker)
    assert "60 claims found, by speaker from A to Z, unattributed last." in first.text
    assert 'aria-sort="ascending"' in _header(first.text, "Speaker")
    assert 'href="search?certainty=medium&amp;sort=speaker&amp;order=asc"' in _header(first.text, "Speaker")
    assert {row[1] for row in _rows(first.text)} == {"Antonio Guterres"}
    assert 'href="search?certainty=medium&amp;sort=speaker&amp;order=asc&amp;page=2"' in first.text
    assert '<input type="hidden" name="sort" value="speaker">' in first.text  # a new search keeps the order
    second = viewer.get("/newswatch/search", params={**by_speaker, "page": 2})
    assert [row[1] for row in _rows(second.text)] == ["Antonio Guterres"] * 5 + ["unattributed “The ministry”"] * 20
    assert 'href="search?certainty=medium&amp;sort=speaker&amp;order=asc&amp;page=3"' in second.text


def test_search_sorts_words_by_relevance_date_and_checkworthiness(sample, viewer):
    r = viewer.get("/newswatch/search", params={"q": "ceasefire"})
    assert "30 claims found, most relevant first." in r.text
    assert 'aria-sort="descending"' in _header(r.text, "Claim")
    assert 'href="search?q=ceasefire&amp;sort=published&amp;order=desc"' in _header(r.text, "Article")
    oldest = viewer.get("/newswatch/search", params={"q": "ceasefire", "sort": "published", "order": "asc"})
    assert "30 claims found, oldest first." in oldest.text and _days(_rows(oldest.text)) == list(range(29, 4, -1))
    assert 'aria-sort="ascending"' in _header(oldest.text, "Article")
    assert 'href="search?q=ceasefire&amp;sort=published&amp;order=desc"' in _header(oldest.text, "Article")
    assert 'href="search?q=ceasefire&amp;sort=relevance&amp;order=desc"' in _header(oldest.text, "Claim")
    newest = viewer.get("/newswatch/search", params={"q": "ceasefire", "sort": "published", "order": "desc"})
    assert _days(_rows(newest.text)) == list(range(25))
    worthy = viewer.get("/newswatch/search", params={"q": "ceasefire", "sort": "checkworthiness"})
    assert "most check-worthy first." in worthy.text and 'aria-sort="descending"' in _header(worthy.text, "Check-worthy")
    assert {row[5] for row in _rows(worthy.text)} == {"0.50"}  # the sample tags every claim 0.5
    unknown = viewer.get("/newswatch/search", params={"q": "ceasefire", "sort": "popularity"})
    assert unknown.status_code == 200 and "most relevant first." in unknown.text


def test_search_errors_keep_the_form_and_escape_input(sample, viewer):
    r = viewer.get("/newswatch/search", params={"q": "<script>zzz</script> AND ("})
    assert r.status_code == 400 and "This search cannot run." in r.text and "<form" in r.text
    assert "<script>zzz" not in r.text and 'value="&lt;script&gt;zzz&lt;/script&gt; AND ("' in r.text
    r = viewer.get("/newswatch/search", params={"q": "nosuchfield:x"})
    assert r.status_code == 400 and "nosuchfield" in r.text


def test_watches_page_lists_and_sorts_watches(sample, viewer):
    r = viewer.get("/newswatch/watches")
    assert r.status_code == 200
    rows = _rows(r.text)
    assert [row[0].split()[0] for row in rows] == ["harbour-fees", "stoltenberg-nk"]
    harbour, stoltenberg = rows
    assert harbour[1].startswith("Paused the mail server refused the login")
    assert harbour[3] == "email:desk@example.org digest every 24 h"
    assert harbour[8].startswith("3 failures in a row, the first 1 day ago") and "535 authentication" in harbour[8]
    assert stoltenberg[1] == "Active" and stoltenberg[2] == "“North Korea”, said by Jens Stoltenberg claims"
    assert re.fullmatch(r"3 h ago (\d\d? \w{3} )?\d\d:\d\d UTC", stoltenberg[4])
    by_match = _rows(viewer.get("/newswatch/watches", params={"sort": "last_match", "order": "desc"}).text)
    assert [row[0].split()[0] for row in by_match] == ["stoltenberg-nk", "harbour-fees"]
    assert not SNAKE.findall(_visible(r.text).replace("news_alerts", ""))
