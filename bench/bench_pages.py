"""The plugin pages' latency p50/p95 at 1,000 feeds and 100k claims, through Airflow's own API app (auth
manager, JWT, middlewares, the plugin mounted at /newswatch) as a signed-in viewer, against the bare
Elasticsearch requests each page sends (the baseline), same run. The old Feed health page's query (500
feed states, whole documents) is timed too, for reference.

    .venv/bin/python bench/bench_pages.py [--feeds 1000] [--claims 100000] [--runs 60]

Loads the feed states (each with the poller's 2,000 remembered hashes, as in production), articles with
their claims (recombined from ../shared/corpus when present; each its own story, as the writer stores
them, so claim search collapses on stories as in production), failure events over the last week and a
few watches, in bulk. Uses NEWSWATCH_ES_URL when set, else starts a throwaway embedded node; Airflow runs
on SQLite in a temporary home.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
_HOME = tempfile.mkdtemp(prefix="bench-pages-airflow-")
os.environ.update({  # before Airflow is imported
    "AIRFLOW_HOME": _HOME,
    "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
    "AIRFLOW__CORE__DAGS_FOLDER": str(Path(_HOME) / "dags"),
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME}/airflow.db",
    # one user, with a password file, so the auth manager prints no generated password
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "bench:viewer",
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": f"{_HOME}/passwords.json",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
})
os.environ.pop("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", None)
Path(_HOME, "passwords.json").write_text(json.dumps({"bench": secrets.token_urlsafe(16)}))
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _es import cluster, percentile  # noqa: E402

from pipeline.feeds.state import ElasticsearchFeedStateStore, FeedState  # noqa: E402
from pipeline.index.names import IndexNames  # noqa: E402
from pipeline.index.setup import ensure_indices  # noqa: E402
from pipeline.index.synthetic import POOL, recombined_corpus  # noqa: E402
from pipeline.index.writer import IndexWriter  # noqa: E402
from pipeline.records import Event  # noqa: E402

STATUSES = ("ok", "ok", "ok", "not_modified", "not_modified", "http_error", "timeout", "parse_error", "new")
FAILURES = (("fetch", "http_error", "HTTP 404"), ("fetch", "timeout", "read timed out"),
            ("extract", "too_short", "40 words"), ("feeds", "http_error", "HTTP 503"),
            ("fetch", "refused", "robots.txt"), ("extract", "paywalled", "paywall"), ("index", "index_error", "429"))
WORDS = ("budget", "prices", "minister", "election", "talks", "emissions", "energy", "rules", "report", "flood")


def feed_states(n: int, now: datetime, rng: random.Random) -> list[FeedState]:
    out = []
    for i in range(n):
        status = rng.choice(STATUSES)
        polled = now - timedelta(minutes=rng.randint(1, 120))
        failing = status in ("http_error", "timeout", "parse_error")
        out.append(FeedState(
            feed_id=f"feed-{i:04d}", url=f"https://site{i % 300}.example/feeds/{i}.xml", status=status,
            reason="HTTP 503" if status == "http_error" else "", http_status=503 if status == "http_error" else 200,
            last_polled_at=None if status == "new" else polled,
            last_success_at=None if status == "new" else polled - timedelta(hours=rng.randint(0, 48) * failing),
            next_poll_at=polled + timedelta(minutes=15), interval=900, consecutive_failures=rng.randint(1, 12) * failing,
            disabled=status == "parse_error" and rng.random() < 0.5, total_polls=rng.randint(0, 5000),
            total_new_entries=rng.randint(0, 3000),
            recent_hashes=[f"{i:04d}{k:028x}" for k in range(2000)]))  # the poller keeps 2,000 per feed
    return out


def load(es: object, settings: object, feeds: int, claims: int, rng: random.Random) -> tuple[int, int]:
    from pipeline.alerts.model import Target, Watch, WatchSearch
    from pipeline.alerts.run import stores

    now = datetime.now(UTC)
    names = IndexNames(settings.index_prefix)
    store = ElasticsearchFeedStateStore(es, index=names.feeds)
    states = feed_states(feeds, now, rng)
    for start in range(0, len(states), 100):
        store.put_many(states[start:start + 100])
    writer = IndexWriter(es, settings)
    batch, written = [], 0
    for tagged in recombined_corpus(claims, seed=11):
        article = tagged.article.model_copy(update={
            "fetched_at": now - timedelta(minutes=rng.randint(0, 7 * 24 * 60)),
            "feed_ids": [f"feed-{rng.randrange(feeds):04d}"]})
        batch.append(tagged.model_copy(update={"article": article}))
        written += len(tagged.tags.claims)
        if len(batch) == 1000 or written >= claims:
            writer.write(batch)
            batch = []
        if written >= claims:
            break
    if batch:
        writer.write(batch)
    events = [Event(event_id=f"bench-{i}", at=now - timedelta(minutes=rng.randint(0, 7 * 24 * 60)),
                    stage=(kind := rng.choice(FAILURES))[0], status=kind[1], reason=kind[2],
                    feed_id=f"feed-{rng.randrange(feeds):04d}", url=f"https://site.example/{i}")
              for i in range(20_000)]
    writer.record_events(events)
    watch_store, _ = stores(es, settings)
    persons = [e.name for e in POOL if e.type == "PERSON"]
    for i in range(40):
        watch_store.add(Watch.new(f"watch-{i:02d}", WatchSearch(text=rng.choice(WORDS), speakers=[rng.choice(persons)],
                                                                 claims=True), Target.parse("webhook:ops")), replace=True)
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    return es.count(index=names.feeds)["count"], es.count(index=names.claims)["count"]


def timed(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def interleaved(fn: Callable[[], object], bare: Callable[[], object], runs: int) -> tuple[list[float], list[float]]:
    """Page and baseline alternately, so a busy moment of a shared machine falls on both alike."""
    page_ms: list[float] = []
    bare_ms: list[float] = []
    for _ in range(runs):
        page_ms += timed(fn, 1)
        bare_ms += timed(bare, 1)
    return page_ms, bare_ms


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=60, help="requests per page")
    args = parser.parse_args()
    rng = random.Random(15)
    with cluster("bench-pages") as (es, settings):
        ensure_indices(es, settings)
        start = time.perf_counter()
        n_feeds, n_claims = load(es, settings, args.feeds, args.claims, rng)
        print(f"loaded {n_feeds:,} feed states and {n_claims:,} claims in {time.perf_counter() - start:.0f} s")
        os.environ["NEWSWATCH_ES_URL"] = settings.es_url
        os.environ["NEWSWATCH_INDEX_PREFIX"] = settings.index_prefix
        return measure(es, settings, args.feeds, args.runs, rng)


def measure(es: object, settings: object, feeds: int, runs: int, rng: random.Random) -> int:
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.utils import db
    from fastapi.testclient import TestClient

    from pipeline.index.features import detect_features
    from pipeline.ops.feeds import (
        FeedQuery,
        feed_articles_request,
        feed_events_request,
        feed_list_request,
        feed_state_request,
    )
    from pipeline.ops.run import msearch
    from pipeline.ops.volume import Window, articles_request, failures_request
    from pipeline.search.query import SearchQuery, claim_request

    db.upgradedb()
    app = create_app("core")
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="bench", role="viewer"))
    client = TestClient(app)
    client.cookies.set("_token", token)
    names = IndexNames(settings.index_prefix)
    english = detect_features(es).english_analyzer
    persons = [e.name for e in POOL if e.type == "PERSON"]

    def page(path: Callable[[], str]) -> Callable[[], object]:
        def get() -> None:
            r = client.get(path())
            assert r.status_code == 200, (r.status_code, r.text[:300])
        return get

    def feed_id() -> str:
        return f"feed-{rng.randrange(feeds):04d}"

    def feeds_bare(q: FeedQuery) -> Callable[[], object]:
        w = Window.last(48, datetime.now(UTC))
        return lambda: msearch(es, [(names.feeds, feed_list_request(q)), (names.articles, articles_request(w)),
                                    (names.events, failures_request(w))])

    def detail_bare() -> object:
        w, f = Window.last(48, datetime.now(UTC)), feed_id()
        return msearch(es, [(names.feeds, feed_state_request(f)), (names.events, feed_events_request(f, 20, polls=True)),
                            (names.events, feed_events_request(f, 25)), (names.articles, feed_articles_request(f)),
                            (names.articles, articles_request(w, f)), (names.events, failures_request(w, f))])

    def search_bare(query: SearchQuery) -> object:
        resp = es.search(index=names.claims, **claim_request(query, english))
        ids = [h["_id"] for h in resp["hits"]["hits"]]
        return es.mget(index=names.claims, ids=ids, source_includes=["feed_ids", "speaker.mention"]) if ids else None

    def watches_bare() -> object:
        from pipeline.alerts.run import stores

        store, ledger = stores(es, settings)
        return store.all(), ledger.counts()

    old_feeds = lambda: (es.search(index=names.feeds, size=500, query={"match_all": {}}),  # noqa: E731
                         es.search(index=names.events, size=0, query={"range": {"at": {"gte": "now-24h"}}},
                                   aggs={"stage": {"terms": {"field": "stage"}, "aggs": {"s": {"terms": {"field": "status"}}}}}))
    cases: list[tuple[str, Callable[[], object], Callable[[], object]]] = [
        ("Feed health, first page", page(lambda: "/newswatch/feeds"), feeds_bare(FeedQuery())),
        ("Feed health, by last poll, page 10", page(lambda: "/newswatch/feeds?sort=last_poll&order=desc&page=10"),
         feeds_bare(FeedQuery(sort="last_poll", descending=True, page=10))),
        ("Feed health, failing, text filter", page(lambda: "/newswatch/feeds?show=failing&q=feed-0"),
         feeds_bare(FeedQuery(show="failing", text="feed-0"))),
        ("Feed detail", page(lambda: f"/newswatch/feeds/{feed_id()}"), detail_bare),
        ("Claim search, words", page(lambda: f"/newswatch/search?q={rng.choice(WORDS)}"),
         lambda: search_bare(SearchQuery(text=rng.choice(WORDS), claims=True, size=25, facets=False))),
        ("Claim search, speaker + certainty, page 3",
         page(lambda: f"/newswatch/search?speaker={rng.choice(persons)}&certainty=low&page=3"),
         lambda: search_bare(SearchQuery(speakers=[rng.choice(persons)], certainty="low", claims=True, size=25,
                                         offset=50, facets=False))),
        ("Watches (40)", page(lambda: "/newswatch/watches"), watches_bare),
    ]
    print(f"\n{'page':<42} {'p50 ms':>7} {'p95 ms':>7}   {'bare ES p50':>11} {'p95':>6} {'ratio p95':>9}  "
          "goal p95 < 300 ms")
    for name, fn, bare in cases:
        timed(fn, 5)
        timed(bare, 5)
        page_ms, bare_ms = interleaved(fn, bare, runs)
        p95, b95 = percentile(page_ms, 95), percentile(bare_ms, 95)
        verdict = "ok" if p95 < 300 else "SLOW"
        print(f"{name:<42} {percentile(page_ms, 50):7.1f} {p95:7.1f}   {percentile(bare_ms, 50):11.1f} {b95:6.1f} "
              f"{p95 / b95:8.2f}x  {verdict}")
    timed(old_feeds, 3)
    old = timed(old_feeds, max(10, runs // 3))
    print(f"\nreference: the old Feed health page's queries alone (500 whole feed states): "
          f"p50 {percentile(old, 50):.1f} ms, p95 {percentile(old, 95):.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
