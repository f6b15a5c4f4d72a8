"""Hypothesis: the feed list survives a round trip through the feeds file (YAML) and through OPML.

YAML keeps every field. OPML keeps id, name, URL, language (lower-cased: language tags are
case-insensitive), tags and enabled; it has no place for the polling intervals, which come back as
the defaults. Names, tags and URLs are drawn from wide alphabets (accents, quotes, markup, XML
metacharacters), so escaping on either side is part of what is checked."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.feeds.catalog import (
    DEFAULT_MAX_INTERVAL,
    DEFAULT_MIN_INTERVAL,
    FeedConfig,
    dump_feeds_yaml,
    export_opml,
    import_opml,
    load_feeds,
    validate_entries,
)

PROPERTY = settings(database=None, deadline=None, max_examples=150,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# printable text, XML- and YAML-hostile characters included; no control characters (XML 1.0 has no
# place for them) and no surrogates
TEXT = st.characters(blacklist_categories=("Cs", "Cc", "Co", "Cn"), blacklist_characters="\ufeff")
NAMES = st.text(TEXT, min_size=1, max_size=20).filter(lambda s: s.strip())
TAGS = st.lists(st.text(st.sampled_from("abcdéz09-_ &<>\"'"), min_size=1, max_size=8)
                .map(lambda t: t.strip().lower()).filter(bool), max_size=3, unique=True)
LANGUAGES = st.one_of(st.none(), st.from_regex(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?", fullmatch=True))
INTERVALS = st.tuples(st.integers(1, 10 * 86400), st.integers(1, 10 * 86400)).map(sorted)


@st.composite
def feeds(draw: st.DrawFn) -> list[FeedConfig]:
    count = draw(st.integers(0, 5))
    ids = draw(st.lists(st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True), min_size=count, max_size=count,
                        unique=True))
    paths = draw(st.lists(st.text(st.sampled_from("abc/?=&%~é+;"), max_size=12), min_size=count, max_size=count,
                          unique=True))
    out = []
    for n, (feed_id, path) in enumerate(zip(ids, paths, strict=True)):
        low, high = draw(INTERVALS)
        out.append(FeedConfig(id=feed_id, name=draw(NAMES), url=f"https://feeds{n}.example/{path}",
                              language=draw(LANGUAGES), tags=draw(TAGS), enabled=draw(st.booleans()),
                              min_interval=low, max_interval=high))
    return out


@PROPERTY
@given(feeds())
def test_the_feeds_file_round_trip_keeps_every_field(tmp_path_factory, original):
    path = Path(tmp_path_factory.mktemp("feeds")) / "feeds.yaml"
    path.write_text(dump_feeds_yaml(original), encoding="utf-8")
    loaded = load_feeds(path)
    assert loaded.errors == []
    assert loaded.feeds == original


@PROPERTY
@given(feeds())
def test_the_opml_round_trip_keeps_what_opml_can_carry(original):
    loaded = import_opml(export_opml(original))
    assert loaded.errors == []
    expected = [f.model_copy(update={"language": f.language.lower() if f.language else None,
                                     "min_interval": DEFAULT_MIN_INTERVAL, "max_interval": DEFAULT_MAX_INTERVAL})
                for f in original]
    assert loaded.feeds == expected
    # and OPML -> feeds file -> OPML changes nothing more
    assert import_opml(export_opml(loaded.feeds)).feeds == expected


@PROPERTY
@given(feeds())
def test_a_feed_list_validates_to_itself(original):
    """What dump_feeds_yaml and export_opml are built from: validating the feeds' own fields again."""
    again = validate_entries([f.model_dump() for f in original])
    assert again.errors == [] and again.feeds == original
