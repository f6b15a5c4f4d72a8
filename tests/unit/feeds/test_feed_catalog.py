from pathlib import Path

import pytest

from pipeline.config import REPO_ROOT
from pipeline.feeds.catalog import (
    FeedConfig,
    dump_feeds_yaml,
    export_opml,
    import_opml,
    load_feeds,
    merge_feeds,
    parse_interval,
)

GOOD = """
feeds:
  - id: good-one
    name: Good One
    url: https://example.com/rss.xml
    language: en
    tags: [World, Politics]
    min_interval: 10m
    max_interval: 2h
  - name: Derived Id Feed
    url: https://example.org/atom.xml
  - id: bad-url
    name: Bad URL
    url: ftp://example.com/feed
  - id: bad-interval
    name: Bad interval
    url: https://example.net/feed
    min_interval: soon
  - id: inverted
    name: Inverted bounds
    url: https://example.net/inverted
    min_interval: 2h
    max_interval: 1h
  - id: good-one
    name: Duplicate id
    url: https://example.com/other.xml
  - just a string
  - id: unknown-field
    name: Typo
    url: https://example.com/typo
    enabeld: false
"""


def _load(tmp_path: Path, text: str):
    p = tmp_path / "feeds.yaml"
    p.write_text(text)
    return load_feeds(p)


def test_bad_entries_are_named_and_the_rest_load(tmp_path):
    load = _load(tmp_path, GOOD)
    assert [f.id for f in load.feeds] == ["good-one", "derived-id-feed"]
    good = load.feeds[0]
    assert (good.min_interval, good.max_interval, good.tags) == (600, 7200, ["world", "politics"])
    errors = {(e.entry, e.field) for e in load.errors}
    assert ("#3 (bad-url)", "url") in errors
    assert ("#4 (bad-interval)", "min_interval") in errors
    assert ("#5 (inverted)", "(entry)") in errors
    assert ("#6 (good-one)", "id") in errors
    assert ("#7", "(entry)") in errors
    assert ("#8 (unknown-field)", "enabeld") in errors
    assert len(load.errors) == 6
    assert "must be an http(s) URL" in str(next(e for e in load.errors if e.field == "url"))


def test_unreadable_and_invalid_files_are_errors_not_exceptions(tmp_path):
    assert load_feeds(tmp_path / "missing.yaml").errors[0].field == "(file)"
    assert _load(tmp_path, "feeds: [unclosed").errors[0].message.startswith("invalid YAML")
    assert _load(tmp_path, "feeds: 3").errors[0].field == "feeds"


@pytest.mark.parametrize(("raw", "seconds"), [(90, 90), ("90", 90), ("15m", 900), ("2h", 7200), ("1d", 86400)])
def test_parse_interval(raw, seconds):
    assert parse_interval(raw) == seconds


def test_seed_feed_list_is_valid():
    load = load_feeds(REPO_ROOT / "seeds" / "feeds.yaml")
    assert load.errors == []
    assert len(load.feeds) >= 15
    assert {f.language for f in load.feeds} >= {"en", "de", "fr"}


def test_opml_round_trip_keeps_everything():
    feeds = [
        FeedConfig(id="a", name="Feed A & Co", url="https://a.example/rss", language="en", tags=["world"]),
        FeedConfig(id="b", name="Feed B", url="https://b.example/atom", enabled=False),
    ]
    back = import_opml(export_opml(feeds))
    assert back.errors == []
    assert [(f.id, f.name, f.url, f.language, f.tags, f.enabled) for f in back.feeds] == [
        ("a", "Feed A & Co", "https://a.example/rss", "en", ["world"], True),
        ("b", "Feed B", "https://b.example/atom", None, [], False),
    ]


def test_opml_folders_become_tags_and_bad_outlines_are_reported():
    opml = """<?xml version="1.0"?><opml version="1.0"><head><title>x</title></head><body>
      <outline text="Europe"><outline text="DW" type="rss" xmlUrl="https://rss.dw.com/xml/rss-en-all"/>
        <outline text="Broken" type="rss" xmlUrl="not a url"/></outline>
      <outline text="Top" title="Top" type="rss" xmlUrl="https://top.example/rss" category="/News/World"/>
    </body></opml>"""
    load = import_opml(opml)
    assert [(f.name, f.tags) for f in load.feeds] == [("DW", ["europe"]), ("Top", ["news", "world"])]
    assert [(e.entry, e.field) for e in load.errors] == [("#2 (Broken)", "url")]


def test_opml_with_entities_is_refused():
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body/></opml>'
    load = import_opml(evil)
    assert load.feeds == [] and "ENTITY" in load.errors[0].message


def test_merge_and_dump(tmp_path):
    a = FeedConfig(id="a", name="A", url="https://a.example/rss")
    b = FeedConfig(id="b", name="B", url="https://b.example/rss", min_interval=60)
    merged, added = merge_feeds([a], [a, b])
    assert added == 1 and [f.id for f in merged] == ["a", "b"]
    p = tmp_path / "out.yaml"
    p.write_text(dump_feeds_yaml(merged))
    assert load_feeds(p).feeds == merged
