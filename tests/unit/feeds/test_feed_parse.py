from datetime import UTC, datetime

import pytest

from pipeline.feeds.catalog import FeedConfig
from pipeline.feeds.parse import parse_feed
from pipeline.outcomes import Status
from simulator.hostile import MALFORMED_RSS, XML_ENTITY_BOMB

FEED = FeedConfig(id="f", name="F", url="https://news.example/feed.xml", tags=["local"])
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)

RSS2 = b"""<?xml version="1.0"?><rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel><title>Example</title><link>https://news.example/</link><ttl>30</ttl>
<item><title>One &amp; only</title><link>https://news.example/a?utm_source=rss</link><guid>id-1</guid>
<pubDate>Thu, 19 Nov 2026 08:00:00 GMT</pubDate><author>desk@news.example (Ann Writer)</author>
<category>Politics</category><description>&lt;p&gt;Summary &lt;b&gt;one&lt;/b&gt;&lt;/p&gt;</description></item>
<item><title>Relative</title><link>/b</link></item>
<item><title>From the future</title><link>https://news.example/c</link><pubDate>Fri, 20 Nov 2099 08:00:00 GMT</pubDate></item>
<item><title>No link at all</title></item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Atom news</title><id>urn:x</id><updated>2026-11-19T10:00:00Z</updated>
<entry><title>Atom entry</title><link rel="alternate" href="https://news.example/atom-1"/><id>urn:e1</id>
<updated>2026-11-19T10:00:00Z</updated><author><name>Bo Reporter</name></author><summary>S</summary></entry>
</feed>"""

RDF = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
 xmlns="http://purl.org/rss/1.0/" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">
<channel rdf:about="https://news.example/"><title>RDF news</title><link>https://news.example/</link>
<sy:updatePeriod>hourly</sy:updatePeriod><sy:updateFrequency>2</sy:updateFrequency></channel>
<item rdf:about="https://news.example/rdf-1"><title>RDF item</title><link>https://news.example/rdf-1</link></item>
</rdf:RDF>"""

RSS091 = b"""<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
 "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"><channel><title>Old</title>
<link>https://news.example/</link><description>d</description><language>fr</language>
<item><title>Old item</title><link>https://news.example/old</link></item></channel></rss>"""


def test_rss2_entries_with_canonical_urls_dates_authors_tags():
    parsed = parse_feed(RSS2, FEED, now=NOW)
    assert parsed.failure is None and parsed.warning is None
    assert parsed.title == "Example"
    assert parsed.hint_interval == 30 * 60
    assert parsed.skipped == 1
    first, relative, future = parsed.entries
    assert first.canonical_url == "https://news.example/a"
    assert first.guid and first.guid.endswith("id-1")
    assert first.title == "One & only"
    assert first.summary == "Summary one"
    assert first.published_at == datetime(2026, 11, 19, 8, tzinfo=UTC)
    assert first.tags == ["local", "politics"]
    assert first.authors
    assert relative.url == "https://news.example/b"
    assert future.published_at is None  # dates in the future are rejected


@pytest.mark.parametrize(("body", "title", "hint"), [(ATOM, "Atom entry", None), (RDF, "RDF item", 1800),
                                                    (RSS091, "Old item", None)])
def test_atom_rdf_and_rss091(body, title, hint):
    parsed = parse_feed(body, FEED, now=NOW)
    assert parsed.failure is None
    assert [e.title for e in parsed.entries] == [title]
    assert parsed.hint_interval == hint


def test_atom_author_and_language_from_feed_when_config_has_none():
    parsed = parse_feed(RSS091, FEED, now=NOW)
    assert parsed.entries[0].language == "fr"
    atom = parse_feed(ATOM, FEED, now=NOW).entries[0]
    assert atom.authors == ["Bo Reporter"]


def test_malformed_feed_is_recovered_and_the_problem_recorded():
    parsed = parse_feed(MALFORMED_RSS.format(base="https://news.example").encode(), FEED, now=NOW)
    assert parsed.failure is None
    assert parsed.warning and "not well-formed" in parsed.warning
    assert [e.url for e in parsed.entries] == ["https://news.example/articles/malformed-one.html",
                                               "https://news.example/articles/malformed-two.html"]


def test_entity_expansion_bomb_is_refused_without_parsing():
    parsed = parse_feed(XML_ENTITY_BOMB.encode(), FEED, now=NOW)
    assert parsed.failure is not None and parsed.failure.status == Status.PARSE_ERROR
    assert "entity" in parsed.failure.reason


@pytest.mark.parametrize("body", [b"<html><body><p>Not a feed</p></body></html>", b"", b"\x00\x01garbage"])
def test_non_feeds_are_parse_errors(body):
    parsed = parse_feed(body, FEED, now=NOW)
    assert parsed.failure is not None and parsed.failure.status == Status.PARSE_ERROR
    assert parsed.entries == []


def test_known_items_are_dropped_before_parsing_and_counted():
    known = {"https://news.example/a"}
    parsed = parse_feed(RSS2, FEED, now=NOW, known_url_hash=lambda canonical: canonical in known)
    assert parsed.known == 1
    assert [e.url for e in parsed.entries] == ["https://news.example/b", "https://news.example/c"]
    atom = parse_feed(ATOM, FEED, now=NOW, known_url_hash=lambda c: c == "https://news.example/atom-1")
    assert (atom.known, atom.entries, atom.failure) == (1, [], None)


def test_an_item_is_known_by_its_first_direct_link_child_only():
    body = b"""<rss version="2.0"><channel><title>T</title><link>https://news.example/a</link>
<item><title>1</title><link></link><link>https://news.example/a</link></item>
<item><title>2</title><x><link>https://news.example/a</link></x></item>
<item><title>3</title><link> https://news.example/a </link></item>
</channel></rss>"""
    parsed = parse_feed(body, FEED, now=NOW, known_url_hash=lambda c: c == "https://news.example/a")
    assert parsed.known == 1
    assert [e.title for e in parsed.entries] == ["1", "2"]


def test_malformed_feeds_are_never_trimmed():
    body = MALFORMED_RSS.format(base="https://news.example").encode()
    parsed = parse_feed(body, FEED, now=NOW, known_url_hash=lambda c: True)
    assert parsed.known == 0 and len(parsed.entries) == 2  # feedparser sees (and recovers) the whole document
