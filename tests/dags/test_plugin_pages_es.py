"""The plugin's pages over real data in a real Elasticsearch: `/newswatch/search` finds indexed
claims (with speaker, certainty and article), `/newswatch/feeds` lists feed states and the last
day's failure events. The app is the one Airflow mounts at /newswatch (see test_plugin.py)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

pytestmark = pytest.mark.integration

JS = ("person:jens-stoltenberg", "Jens Stoltenberg", "PERSON")
TEXT = ('North Korea may supply more artillery shells, officials warned on Monday.\n\n'
        '"There is no doubt that North Korea is arming Russia," Jens Stoltenberg said.\n\n'
        'Harbour fees rose by 40 percent last year.')


@pytest.fixture
def indexed(es_url, es_client, monkeypatch):
    """A prefix with two articles, their claims, two feed states and three events; the plugin reads it."""
    from pipeline.config import load_settings
    from pipeline.feeds.state import ElasticsearchFeedStateStore, FeedState
    from pipeline.index.names import IndexNames
    from pipeline.index.setup import drop_prefix, ensure_indices
    from pipeline.index.synthetic import ClaimSpec, EntitySpec, tagged_article
    from pipeline.index.writer import IndexWriter
    from pipeline.records import Event

    prefix = f"t18p-{uuid.uuid4().hex[:10]}"
    settings = load_settings({}, es_url=es_url, index_prefix=prefix)
    ensure_indices(es_client, settings)
    stoltenberg = EntitySpec(*JS)
    articles = [
        tagged_article("https://example.org/shells", TEXT, title="Shells from North Korea", entities=[stoltenberg],
                       claims=[ClaimSpec("There is no doubt that North Korea is arming Russia", speaker=stoltenberg),
                               ClaimSpec("North Korea may supply more artillery shells", certainty="low",
                                         kind="assertion")]),
        tagged_article("https://example.org/harbour", TEXT, title="Harbour fees",
                       claims=[ClaimSpec("Harbour fees rose by 40 percent last year", kind="assertion")]),
    ]
    writer = IndexWriter(es_client, settings, refresh="wait_for")
    assert writer.write(articles).ok
    now = datetime.now(UTC)
    events = [Event(event_id=f"ev-{i}", at=now - timedelta(minutes=i), stage=stage, status=status, reason="r",
                    retryable=False, url=f"https://example.org/{i}")
              for i, (stage, status) in enumerate([("fetch", "timeout"), ("fetch", "timeout"), ("extract", "too_short")])]
    events.append(Event(event_id="ev-old", at=now - timedelta(days=3), stage="fetch", status="refused", reason="r",
                        retryable=False, url="https://example.org/old"))  # older than a day: not listed
    assert writer.record_events(events).indexed == 4
    names = IndexNames(prefix)
    store = ElasticsearchFeedStateStore(es_client, index=names.feeds)
    store.put(FeedState(feed_id="zz-wire", url="https://example.org/wire.xml", status="ok", http_status=200,
                        consecutive_failures=0, total_new_entries=7, last_polled_at=now))
    store.put(FeedState(feed_id="aa-broken", url="https://example.org/broken.xml", status="http_error",
                        reason="HTTP 503", http_status=503, consecutive_failures=4, disabled=True,
                        disabled_reason="too many failures"))
    for kind in ("feeds", "events", "claims", "articles"):
        es_client.indices.refresh(index=names.alias(kind))
    monkeypatch.setenv("NEWSWATCH_ES_URL", es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", prefix)
    monkeypatch.delenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", raising=False)
    yield articles
    drop_prefix(es_client, prefix)


def _client():
    from fastapi.testclient import TestClient
    from newswatch_airflow.web import app

    return TestClient(app)


def _rows(html: str) -> list[list[str]]:
    """The cells of every table row after the header, as text."""
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", html, flags=re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S)
        if cells:
            rows.append([unescape(c) for c in cells])
    return rows


def test_search_page_lists_the_matching_claims(indexed):
    client = _client()
    r = client.get("/search", params={"q": "North Korea"})
    assert r.status_code == 200
    assert "<p>2 claim(s)</p>" in r.text
    rows = {row[3]: row for row in _rows(r.text)}
    assert set(rows) == {"There is no doubt that North Korea is arming Russia",
                         "North Korea may supply more artillery shells"}
    quote = rows["There is no doubt that North Korea is arming Russia"]
    assert quote == ["Jens Stoltenberg", "direct_quote", "high", quote[3], "Shells from North Korea",
                     "https://example.org/shells"]
    assert rows["North Korea may supply more artillery shells"][:3] == ["", "assertion", "low"]
    assert 'value="North Korea"' in r.text  # the form keeps the query


def test_search_page_filters_by_speaker_and_escapes_input(indexed):
    client = _client()
    r = client.get("/search", params={"speaker": "Jens Stoltenberg"})
    assert r.status_code == 200 and "<p>1 claim(s)</p>" in r.text
    assert [row[0] for row in _rows(r.text)] == ["Jens Stoltenberg"]
    r = client.get("/search", params={"q": "harbour fees"})
    assert [row[3] for row in _rows(r.text)] == ["Harbour fees rose by 40 percent last year"]
    r = client.get("/search", params={"q": "<script>zzz</script>"})
    assert r.status_code == 400 and "Cannot parse" in r.text  # query syntax: a message, not a 500
    assert "<script>" not in r.text and 'value="&lt;script&gt;zzz&lt;/script&gt;"' in r.text
    r = client.get("/search", params={"q": "zzzunmatched"})
    assert r.status_code == 200 and "<p>0 claim(s)</p>" in r.text and _rows(r.text) == [["none"]]
    r = client.get("/search", params={"q": "nosuchfield:x"})
    assert r.status_code == 400 and "unknown field(s) &#x27;nosuchfield&#x27;" in r.text


def test_feeds_page_lists_feed_states_and_the_last_days_failures(indexed):
    client = _client()
    r = client.get("/feeds")
    assert r.status_code == 200 and "<h3>Feeds (2)</h3>" in r.text
    feeds_table, failures_table = r.text.split("<h3>Failures in the last 24 hours</h3>")
    feeds = _rows(feeds_table)
    assert [row[0] for row in feeds] == ["aa-broken", "zz-wire"]  # sorted by feed id
    broken = dict(zip(["feed_id", "status", "reason", "http_status"], feeds[0][:4], strict=True))
    assert broken == {"feed_id": "aa-broken", "status": "http_error", "reason": "HTTP 503", "http_status": "503"}
    assert feeds[0][6] == "4" and feeds[0][8:10] == ["True", "too many failures"]
    assert feeds[1][1] == "ok" and feeds[1][10] == "7"
    assert sorted(map(tuple, _rows(failures_table))) == [("extract", "too_short", "1"), ("fetch", "timeout", "2")]
