"""Stories on a real Elasticsearch node: pages written for the test go through the real extractor and
tagger, then through the ingest sink (clustering, writer) in different orders and batches."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import stories_pages as pages

from pipeline.records import FeedEntry, FetchedPage, Processed, TaggedArticle, article_id_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


def _fetched(url: str, html: str, at: datetime) -> FetchedPage:
    from pipeline.outcomes import Outcome

    entry = FeedEntry(feed_id="test", url=url, canonical_url=url, article_id=article_id_for(url))
    return FetchedPage(entry=entry, final_url=url, outcome=Outcome.success(), http_status=200,
                       content_type="text/html", body=html, fetched_at=at)


@pytest.fixture(scope="module")
def tagged() -> dict[str, TaggedArticle]:
    """name -> the tagged article (extracted and tagged once for the module)."""
    from pipeline.jobs.steps import extract_and_tag

    named: dict[str, tuple[str, str]] = {}
    for i, (url, (html, _)) in enumerate(pages.syndicated_copies().items()):
        named[f"copy{i}"] = (url, html)
    named["same_site"] = pages.same_site_other()
    named["same_event"] = pages.same_event_other_reporter()
    fetched = [_fetched(url, html, T0 + timedelta(minutes=10 * i)) for i, (url, html) in enumerate(named.values())]
    processed = extract_and_tag(fetched, run_id="stories-test")
    assert not processed.events, processed.events
    by_url = {t.article.url: t for t in processed.articles}
    return {name: by_url[url] for name, (url, _) in named.items()}


@pytest.fixture
def cluster(es_url, es_client):
    """(settings, es) on a throwaway index prefix, with the indices set up."""
    from pipeline.config import load_settings
    from pipeline.index.setup import drop_prefix, ensure_indices

    settings = load_settings(es_url=es_url, index_prefix=f"nw-stories-{uuid.uuid4().hex[:8]}")
    ensure_indices(es_client, settings)
    yield settings, es_client
    drop_prefix(es_client, settings.index_prefix)


def _ingest(settings, es, batches: list[list[TaggedArticle]]) -> None:
    from pipeline.index.writer import IndexWriter
    from pipeline.jobs.sink import IndexSink
    from pipeline.stories.assign import Stories

    for batch in batches:  # one sink per batch: as separate tasks would
        sink = IndexSink(IndexWriter(es, settings), "r", Stories(es, settings))
        sink.submit(Processed(articles=batch))
        report = sink.close()
        assert report.articles_indexed == len(batch) and not report.events, report
    es.indices.refresh(index=f"{settings.index_prefix}-*")


def _stories(settings, es) -> dict[str, dict]:
    """article url -> its story fields as stored."""
    resp = es.search(index=f"{settings.index_prefix}-articles", size=100, _source=["url", "story"])
    return {h["_source"]["url"]: h["_source"]["story"] for h in resp["hits"]["hits"]}


def _partition(stories: dict[str, dict]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for url, story in stories.items():
        groups.setdefault(story["id"], set()).add(url)
    return {frozenset(g) for g in groups.values()}


def test_three_outlets_join_one_story_and_others_stay_apart(cluster, tagged):
    settings, es = cluster
    _ingest(settings, es, [[tagged[n]] for n in ("copy0", "copy1", "copy2", "same_site", "same_event")])
    stories = _stories(settings, es)
    copies = {tagged[f"copy{i}"].article.url for i in range(3)}
    assert _partition(stories) == {frozenset(copies), frozenset({tagged["same_site"].article.url}),
                                   frozenset({tagged["same_event"].article.url})}
    first = tagged["copy0"].article
    for url in copies:  # every copy carries the whole story's fields, kept up to date as copies joined
        story = stories[url]
        assert story["id"] == first.article_id
        assert story["size"] == 3 and story["outlet_count"] == 3
        assert sorted(story["outlets"]) == sorted(o for _, o in pages.syndicated_copies().values())
        assert story["first_url"] == first.url
        assert datetime.fromisoformat(story["first_seen_at"]) == first.fetched_at
    assert stories[tagged["same_site"].article.url]["size"] == 1
    # claims carry their article's story, and the same statement in every copy has one key
    claims = es.search(index=f"{settings.index_prefix}-claims", size=500, _source=["url", "story", "text"],
                       query={"terms": {"url": sorted(copies)}})["hits"]["hits"]
    assert claims and all(c["_source"]["story"]["id"] == first.article_id for c in claims)
    keys_per_copy = [{c["_source"]["story"]["claim_key"] for c in claims if c["_source"]["url"] == u}
                     for u in sorted(copies)]
    assert set.intersection(*keys_per_copy), "no statement shared by the three copies got one key"


@pytest.mark.parametrize("order", list(itertools.permutations(range(5)))[::17])
def test_order_of_arrival_does_not_change_the_grouping(cluster, tagged, order):
    settings, es = cluster
    names = ["copy0", "copy1", "copy2", "same_site", "same_event"]
    _ingest(settings, es, [[tagged[names[i]]] for i in order])
    expected = {frozenset(tagged[f"copy{i}"].article.url for i in range(3)),
                frozenset({tagged["same_site"].article.url}), frozenset({tagged["same_event"].article.url})}
    assert _partition(_stories(settings, es)) == expected


def test_copies_in_one_batch_and_rerun_keep_their_story_ids(cluster, tagged):
    settings, es = cluster
    everything = [tagged[n] for n in ("copy2", "same_event", "copy0", "same_site", "copy1")]
    _ingest(settings, es, [everything])
    before = _stories(settings, es)
    assert len(_partition(before)) == 3
    _ingest(settings, es, [everything[::-1]])  # a re-run (and a re-tag) of the same articles
    _ingest(settings, es, [[t] for t in everything])
    assert {u: s["id"] for u, s in _stories(settings, es).items()} == {u: s["id"] for u, s in before.items()}


def test_one_task_of_many_batches_writes_every_copy_with_the_whole_story(cluster, tagged):
    """Within a task the sink looks stories up without reading every member back (only to tell a story of
    one from the rest); the copies it holds are written at its end with the whole story's fields, also
    when the task re-runs articles of a stored story."""
    from pipeline.index.writer import IndexWriter
    from pipeline.jobs.sink import IndexSink
    from pipeline.stories.assign import Stories

    settings, es = cluster
    _ingest(settings, es, [[tagged["copy0"]]])

    def task(*names: str) -> None:
        sink = IndexSink(IndexWriter(es, settings), "r", Stories(es, settings))
        for name in names:  # one batch each, as the pool hands them over
            sink.submit(Processed(articles=[tagged[name]]))
        report = sink.close()
        assert report.articles_indexed == len(names) and not report.events, report
        es.indices.refresh(index=f"{settings.index_prefix}-*")

    copies = {tagged[f"copy{i}"].article.url for i in range(3)}
    for names in (("copy1", "same_site", "copy2"), ("copy2", "copy0")):
        task(*names)
        stories = _stories(settings, es)
        assert {stories[u]["id"] for u in copies} == {tagged["copy0"].article.article_id}
        assert all(stories[u]["size"] == 3 and stories[u]["outlet_count"] == 3 for u in copies), stories
        assert stories[tagged["same_site"].article.url]["size"] == 1


def test_two_stories_bridged_by_a_later_copy_become_one(cluster, tagged):
    """copy1 (last paragraph dropped) and copy2 (edited) both match copy0; seen without it first they
    may start apart, and copy0 arriving later merges them, claims included."""
    settings, es = cluster
    _ingest(settings, es, [[tagged["copy1"]], [tagged["copy2"]], [tagged["copy0"]]])
    stories = _stories(settings, es)
    assert len({stories[tagged[f"copy{i}"].article.url]["id"] for i in range(3)}) == 1
    story_id = stories[tagged["copy0"].article.url]["id"]
    claims = es.search(index=f"{settings.index_prefix}-claims", size=500, _source=["story"],
                       query={"terms": {"article_id": [tagged[f"copy{i}"].article.article_id for i in range(3)]}})
    assert {c["_source"]["story"]["id"] for c in claims["hits"]["hits"]} == {story_id}


def test_search_shows_one_row_per_story_and_counts_it_once(cluster, tagged):
    from pipeline.search.api import search
    from pipeline.search.query import SearchQuery

    settings, es = cluster
    _ingest(settings, es, [[tagged[n] for n in ("copy0", "copy1", "copy2", "same_site", "same_event")]])
    copies = {tagged[f"copy{i}"].article.url for i in range(3)}

    grouped = search(es, SearchQuery(text="grain ports strike"), settings)
    story_rows = [a for a in grouped.articles if a.url in copies]
    assert len(story_rows) == 1 and story_rows[0].story.size == 3 and story_rows[0].story.outlet_count == 3
    assert grouped.stories == len(grouped.articles)
    every = search(es, SearchQuery(text="grain ports strike", all_copies=True), settings)
    assert {a.url for a in every.articles} >= copies and every.stories is None

    claims = search(es, SearchQuery(speakers=["Marta Kowalczyk"], claims=True, size=50), settings)
    all_claims = search(es, SearchQuery(speakers=["Marta Kowalczyk"], claims=True, size=50, all_copies=True),
                        settings)
    in_copies = [c for c in all_claims.claims if c.url in copies]
    assert len(in_copies) >= 3  # her quote, once per copy ...
    texts = [c.text for c in claims.claims]
    assert len(texts) == len(set(texts)), texts  # ... shown once
    shared = [c for c in claims.claims if c.story and c.story.size == 3]
    assert shared and all(c.story.outlet_count == 3 for c in shared)
    # facets count the statement once, not once per copy
    per_copy = {b.key: b.count for b in all_claims.facets["speakers"]}
    once = {b.key: b.count for b in claims.facets["speakers"]}
    assert once["Marta Kowalczyk"] == claims.stories < per_copy["Marta Kowalczyk"]


def _outlet_copies(base: TaggedArticle, n: int, start: datetime) -> list[TaggedArticle]:
    """`base` as published by n outlets, a minute apart."""
    out = []
    for i in range(n):
        url = f"https://outlet{i}.example/world/grain-ports"
        article = base.article.model_copy(update={"url": url, "canonical_url": url, "article_id": article_id_for(url),
                                                  "domain": f"outlet{i}.example", "site": f"outlet{i}.example",
                                                  "fetched_at": start + timedelta(minutes=i)})
        out.append(base.model_copy(update={"article": article}))
    return out


def test_search_without_the_fingerprints_index_shows_each_copys_own_story_fields(cluster, tagged):
    from pipeline.search.api import search
    from pipeline.search.query import SearchQuery

    settings, es = cluster
    _ingest(settings, es, [[tagged[n] for n in ("copy0", "copy1", "copy2", "same_event")]])
    es.indices.delete(index=list(es.indices.get_alias(name=f"{settings.index_prefix}-fingerprints").body))

    grouped = search(es, SearchQuery(text="grain ports strike"), settings)
    copies = {tagged[f"copy{i}"].article.url for i in range(3)}
    rows = [a for a in grouped.articles if a.url in copies]
    assert len(rows) == 1 and rows[0].story.size == 3 and rows[0].story.outlet_count == 3


def test_a_growing_story_keeps_each_copys_work_bounded_and_settles_when_quiet(cluster, tagged):
    """Past EXACT_UP_TO copies, an earlier copy is rewritten only when the story grew GROWTH times past what
    it carries: its size is then a lower bound within that factor (exact below), the newest copies are
    exact, search shows the exact story, and once the story is quiet every copy gets the exact fields."""
    from pipeline.index.writer import IndexWriter
    from pipeline.jobs.sink import IndexSink
    from pipeline.search.api import search
    from pipeline.search.query import SearchQuery
    from pipeline.stories.assign import Stories
    from pipeline.stories.cluster import summarize
    from pipeline.stories.freshness import EXACT_UP_TO, GROWTH

    settings, es = cluster
    copies = _outlet_copies(tagged["copy0"], 70, T0)
    stories = Stories(es, settings)
    updates = []
    original = stories.finish

    def finish(*args, **kwargs):
        updates.append(original(*args, **kwargs))
        return updates[-1]

    stories.finish = finish
    for start in range(0, len(copies), 10):  # seven tasks of ten copies each
        sink = IndexSink(IndexWriter(es, settings), "r", stories)
        sink.submit(Processed(articles=copies[start:start + 10]))
        report = sink.close()
        assert report.articles_indexed == 10 and not report.events, report
        es.indices.refresh(index=f"{settings.index_prefix}-*")
        size = start + 10
        stored = _stories(settings, es)
        assert len({s["id"] for s in stored.values()}) == 1
        for c in copies[:size]:
            carried = stored[c.article.url]["size"]
            assert carried <= size and (carried == size if size <= EXACT_UP_TO else GROWTH * carried > size), \
                (c.article.url, carried, size)
        assert all(stored[c.article.url]["size"] == size for c in copies[start:size])  # this task's copies
    # rewriting every earlier copy at every task would be 10 + 20 + ... + 60 = 210 updates (the rule: 10)
    assert sum(updates) <= 30, updates
    assert any(s["size"] < 70 for s in _stories(settings, es).values())  # some copies lag, as designed

    every = search(es, SearchQuery(text="grain ports strike", all_copies=True, size=100), settings)
    assert len(every.articles) == 70  # the copies that lag included: search reads the story as it is
    assert {(a.story.size, a.story.outlet_count, a.story.first_url) for a in every.articles} == {
        (70, 70, copies[0].article.url)}
    grouped = search(es, SearchQuery(text="grain ports strike"), settings)
    assert [a.story.size for a in grouped.articles] == [70]

    # the index's count of a story (what ingest writes) is what summarising every member gives
    store = stories.store
    story_id = every.articles[0].story.id
    members = store.members([story_id])[story_id]
    assert store.summaries([story_id]) == {story_id: summarize(story_id, members)}

    last_seen = T0 + timedelta(minutes=69)
    assert stories.settle(timedelta(minutes=15), now=last_seen + timedelta(minutes=5)) == 0  # still growing
    assert stories.settle(timedelta(minutes=15), now=last_seen + timedelta(minutes=16)) > 0
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    settled = _stories(settings, es)
    assert {(s["size"], s["outlet_count"]) for s in settled.values()} == {(70, 70)}
    es.indices.refresh(index=f"{settings.index_prefix}-fingerprints")
    assert stories.settle(timedelta(minutes=15)) == 0  # nothing left behind
    es.indices.refresh(index=f"{settings.index_prefix}-fingerprints")
    marked = es.count(index=f"{settings.index_prefix}-fingerprints", query={"term": {"stale": True}})["count"]
    assert marked == 0


def test_documents_from_before_stories_are_listed_one_by_one(cluster, tagged):
    from pipeline.search.api import search
    from pipeline.search.query import SearchQuery

    settings, es = cluster
    _ingest(settings, es, [[tagged["copy0"]], [tagged["same_site"]]])
    for hit in es.search(index=f"{settings.index_prefix}-articles", size=10)["hits"]["hits"]:
        doc = {k: v for k, v in hit["_source"].items() if k != "story"}  # as an older version stored it
        es.index(index=f"{settings.index_prefix}-articles", id=hit["_id"], document=doc, refresh=True)
    resp = search(es, SearchQuery(), settings)
    assert len(resp.articles) == 2 and "no story yet" in resp.notice


def test_backfill_gives_an_existing_index_its_stories_and_is_idempotent(cluster, tagged):
    from pipeline.index.writer import IndexWriter
    from pipeline.stories.backfill import backfill

    settings, es = cluster
    arts = [tagged[n] for n in ("copy0", "copy1", "copy2", "same_site", "same_event")]
    IndexWriter(es, settings).write(arts)  # indexed as before stories: no fingerprints, no story fields
    for t in arts:
        doc = es.get(index=f"{settings.index_prefix}-articles", id=t.article.article_id)["_source"]
        es.index(index=f"{settings.index_prefix}-articles", id=t.article.article_id,
                 document={k: v for k, v in doc.items() if k != "story"})
    es.indices.refresh(index=f"{settings.index_prefix}-*")

    first = backfill(es, settings, only_missing=True)
    assert (first.articles, first.stories) == (5, 1)
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    stories = _stories(settings, es)
    copies = frozenset(tagged[f"copy{i}"].article.url for i in range(3))
    assert copies in _partition(stories) and len(_partition(stories)) == 3
    assert {stories[u]["size"] for u in copies} == {3}
    claims = es.search(index=f"{settings.index_prefix}-claims", size=500, _source=["story", "url"])["hits"]["hits"]
    story_of_url = {u: s["id"] for u, s in stories.items()}
    assert claims and all(c["_source"]["story"]["id"] == story_of_url[c["_source"]["url"]] for c in claims)
    assert len({c["_source"]["story"]["id"] for c in claims if c["_source"]["url"] in copies}) == 1

    again = backfill(es, settings)
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    assert again.articles == 5 and {u: s["id"] for u, s in _stories(settings, es).items()} == \
        {u: s["id"] for u, s in stories.items()}


def test_a_watch_tells_of_a_story_once_whatever_the_number_of_copies(cluster, tagged, es_url):
    from alerts_servers import WebhookReceiver

    from pipeline.alerts.model import Target, Watch, WatchSearch
    from pipeline.alerts.run import add_watch, deliver_watches, evaluate_watches

    settings, es = cluster
    receiver = WebhookReceiver()
    try:
        settings = type(settings)(**{**settings.__dict__, "alert_webhooks": f"ops={receiver.url}",
                                     "alert_retry_initial_seconds": 0.05, "alert_timeout": 3.0})
        for search in (WatchSearch(text="grain strike"), WatchSearch(speakers=["Marta Kowalczyk"], claims=True)):
            add_watch(settings, Watch.new("claims" if search.claims else "articles", search, Target.parse("webhook:ops"),
                                          now=datetime.now(UTC) - timedelta(hours=1)), es=es)

        def run() -> None:
            manifest = evaluate_watches(settings, es=es, setup=False)
            deliver_watches(settings, [w for batch in manifest["deliver"] for w in batch], es=es)

        _ingest(settings, es, [[tagged["copy0"]]])
        run()
        _ingest(settings, es, [[tagged["copy1"]], [tagged["copy2"]]])  # later copies: nothing new to tell
        run()
        bodies = receiver.bodies()
        urls = [i["url"] for b in bodies for i in b["items"]]
        assert len(bodies) == 2, bodies  # one message per watch, from the first run
        assert all(u == tagged["copy0"].article.url for u in urls)
        claim_items = [i for b in bodies for i in b["items"] if i.get("speaker")]
        assert claim_items and len(claim_items) == len({i["claim"] for i in claim_items})  # each statement once
    finally:
        receiver.stop()


def test_cli_search_json_carries_the_story_and_index_stories_backfills(cluster, tagged, monkeypatch, capsys):
    import json

    from pipeline.cli import main

    settings, es = cluster
    monkeypatch.setenv("NEWSWATCH_ES_URL", settings.es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", settings.index_prefix)
    _ingest(settings, es, [[tagged[n]] for n in ("copy0", "copy1", "copy2", "same_site")])
    capsys.readouterr()
    assert main(["search", "grain", "ports", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    (hit,) = out["articles"]
    assert hit["story"]["size"] == 3 and hit["story"]["outlet_count"] == 3 and out["stories"] == 1
    assert main(["search", "grain", "ports", "--all-copies", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["articles"]) == 3
    assert main(["search", "grain", "ports"]) == 0
    assert "(3 copies, 3 outlets)" in capsys.readouterr().out

    assert main(["index", "stories"]) == 0  # nothing to change: every article is in its story already
    assert "4 article(s) clustered, 1 multi-copy story(ies)" in capsys.readouterr().out


def test_cli_index_stories_settle_gives_lagging_copies_the_exact_fields_now(cluster, tagged, monkeypatch, capsys):
    from pipeline.cli import main

    settings, es = cluster
    monkeypatch.setenv("NEWSWATCH_ES_URL", settings.es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", settings.index_prefix)
    copies = _outlet_copies(tagged["copy0"], 40, datetime.now(UTC) - timedelta(minutes=40))
    _ingest(settings, es, [copies[:20], copies[20:]])  # the first 20 carry 20 (40 < 4 x 20): they lag
    assert sorted({s["size"] for s in _stories(settings, es).values()}) == [20, 40]
    capsys.readouterr()
    assert main(["index", "stories", "--settle"]) == 0
    assert "20 earlier copies of growing stories given the exact story fields" in capsys.readouterr().out
    es.indices.refresh(index=f"{settings.index_prefix}-articles")
    assert {s["size"] for s in _stories(settings, es).values()} == {40}
    assert main(["index", "stories", "--settle"]) == 0
    assert "0 earlier copies" in capsys.readouterr().out
