"""An idempotent re-run, with the poller's own memory out of the way: entries whose article is
already in the real Elasticsearch are dropped by `poll_shard` (before spooling) and by
`process_chunk` (before fetching), and the stored article is left as it was.

A fresh feed id has no feed state, so the poller reports every entry as new; only the filter on
indexed article ids stands between those entries and a second download."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from pipeline.config import Settings, load_settings
from pipeline.fetch.fetcher import entry_for_url
from pipeline.index.names import IndexNames
from pipeline.index.setup import drop_prefix, ensure_indices
from pipeline.index.synthetic import tagged_article
from pipeline.index.writer import IndexWriter, existing_article_ids
from pipeline.jobs import ingest
from pipeline.spool import ENTRIES, RUNS, Spool
from simulator import Simulator

pytestmark = pytest.mark.integration

BODY = ("The minister said on Tuesday that the bridge would reopen in {n} weeks. \"We are confident the "
        "repairs are sound,\" said Maria Lopez, a spokeswoman for the ministry. Critics disagreed. "
        "The opposition leader, John Carter, claimed the work might take longer than promised.\n\n") * 3
STORED_TITLE = "Indexed before this run"


@pytest.fixture
def site():
    with Simulator(name="Rerun Gazette") as sim:
        yield sim


@pytest.fixture
def settings(es_url, es_client, tmp_path: Path):
    prefix = f"t18-{uuid.uuid4().hex[:10]}"
    settings = load_settings({}, es_url=es_url, index_prefix=prefix, data_dir=str(tmp_path),
                             allow_private_addresses=True, allowed_private_networks="127.0.0.0/8",
                             per_host_delay=0.0, ingest_processes=1)
    ensure_indices(es_client, settings)
    yield settings
    drop_prefix(es_client, prefix)


def _index_first(es_client, settings: Settings, url: str) -> str:
    """Index an article for `url` as an earlier run would have (with a title no fetch would give)."""
    canonical = entry_for_url(url).canonical_url
    stored = tagged_article(canonical, BODY.format(n=0), title=STORED_TITLE)
    assert stored.article.article_id == entry_for_url(url).article_id
    assert IndexWriter(es_client, settings, refresh="wait_for").write([stored]).ok
    return stored.article.article_id


def _stored_title(es_client, settings: Settings, article_id: str) -> str:
    return es_client.get(index=IndexNames(settings.index_prefix).articles, id=article_id)["_source"]["title"]


def test_poll_shard_spools_only_entries_whose_article_is_not_indexed(site, settings, es_client, tmp_path):
    old = site.add_article("world", "Old bridge story", BODY.format(n=1), slug="old-bridge")
    new = site.add_article("world", "New bridge story", BODY.format(n=2), slug="new-bridge")
    old_id = _index_first(es_client, settings, old)
    new_id = entry_for_url(new).article_id
    spool = Spool(tmp_path / "spool")
    feed = {"id": f"fresh-{uuid.uuid4().hex[:6]}", "name": "World", "url": site.feed_url("world")}

    polled = ingest.poll_shard({"run_key": "r1", "shard": 0, "feeds": [feed]}, spool, settings)

    assert (polled["new_entries"], polled["skipped_existing"], polled["feeds_polled"]) == (1, 1, 1)
    assert [row["article_id"] for row in spool.read(ENTRIES, "r1.s0")] == [new_id]
    assert spool.read_json(RUNS, "r1.poll-0") == dict(polled)
    assert existing_article_ids(es_client, [old_id, new_id], settings) == {old_id}  # polling indexes nothing
    assert site.hits("/articles/old-bridge.html") == site.hits("/articles/new-bridge.html") == 0


def test_poll_shard_spools_nothing_when_every_entry_is_indexed(site, settings, es_client, tmp_path):
    url = site.add_article("world", "Only story", BODY.format(n=3), slug="only-story")
    _index_first(es_client, settings, url)
    spool = Spool(tmp_path / "spool")
    feed = {"id": f"fresh-{uuid.uuid4().hex[:6]}", "name": "World", "url": site.feed_url("world")}

    polled = ingest.poll_shard({"run_key": "r2", "shard": 3, "feeds": [feed]}, spool, settings)

    assert (polled["new_entries"], polled["skipped_existing"]) == (0, 1)
    assert spool.keys(ENTRIES) == []  # no empty batch either


def test_process_chunk_fetches_only_articles_that_are_not_indexed(site, settings, es_client, tmp_path):
    old = site.add_article("world", "Old bridge story", BODY.format(n=4), slug="old-bridge")
    new = site.add_article("world", "New bridge story", BODY.format(n=5), slug="new-bridge")
    old_id = _index_first(es_client, settings, old)
    new_id = entry_for_url(new).article_id
    spool = Spool(tmp_path / "spool")
    spool.write(ENTRIES, "r3.c0", [entry_for_url(old, "world"), entry_for_url(new, "world")])

    done = ingest.process_chunk({"chunk_id": "r3.c0"}, spool, settings)

    assert (done["entries"], done["skipped_existing"], done["articles_indexed"], done["deferred"]) == (2, 1, 1, 0)
    assert site.hits("/articles/old-bridge.html") == 0 and site.hits("/articles/new-bridge.html") == 1
    assert existing_article_ids(es_client, [old_id, new_id], settings) == {old_id, new_id}
    assert _stored_title(es_client, settings, old_id) == STORED_TITLE  # not fetched, not rewritten
    assert _stored_title(es_client, settings, new_id) == "New bridge story"
    assert spool.keys(ENTRIES) == []
