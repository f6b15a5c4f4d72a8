"""
### news_ingest

New stories from the configured feeds become searchable claims and entities.

select due feeds (and set up the indices) -> poll (mapped over shards) -> plan chunks ->
process (mapped over chunks: fetch, extract, tag and index, streaming over every core) ->
index (what process could not index while Elasticsearch was away) -> summary, which emits the
`newswatch://articles` asset -> settle stories (earlier copies of stories that have stopped growing
get the stories' exact size and outlets).

Batches travel through the spool (Airflow object storage: `NEWSWATCH_SPOOL_URL`, default
`<data_dir>/spool`); XCom carries only manifests. A retried task re-uses what is spooled; the index
task retries with backoff while Elasticsearch is down and deletes a batch only after it is indexed.
See docs/airflow.md for configuration and docs/architecture.md for the data path.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, Param, dag, task

from pipeline.config import load_settings

ARTICLES_ASSET = Asset(name="newswatch_articles", uri="newswatch://articles")
FETCH_POOL = "newswatch_fetch"
SETTINGS = load_settings()  # NEWSWATCH_* only: what the DAG's shape needs when the file is parsed

DEFAULT_ARGS = {
    "retries": 3,
    "retry_delay": timedelta(seconds=SETTINGS.retry_delay_seconds),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
    "execution_timeout": timedelta(minutes=15),
}


def _context() -> tuple:
    from airflow.sdk import get_current_context
    from newswatch_airflow import settings_from_airflow, spool_from_settings

    from pipeline.jobs.ingest import run_key_for

    settings = settings_from_airflow()
    return settings, spool_from_settings(settings), run_key_for(get_current_context()["run_id"])


@dag(
    schedule=SETTINGS.ingest_schedule,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    dagrun_timeout=timedelta(hours=1),
    params={"force": Param(False, type="boolean",
                           description="poll every enabled, unpaused feed now, due or not")},
    tags=["newswatch"],
    doc_md=__doc__,
)
def news_ingest() -> None:
    @task(execution_timeout=timedelta(minutes=5))
    def select_due() -> list[dict]:
        from airflow.sdk import get_current_context

        from pipeline.jobs import ingest

        settings, _, run_key = _context()
        force = bool(get_current_context()["params"].get("force"))
        return list(ingest.select_due(settings, run_key, force=force))

    @task(pool=FETCH_POOL, max_active_tis_per_dag=8)
    def poll(shard: dict) -> dict:
        from pipeline.jobs import ingest

        settings, spool, _ = _context()
        return dict(ingest.poll_shard(shard, spool, settings))

    @task(trigger_rule="none_failed")
    def plan(polls: list[dict]) -> list[dict]:
        from pipeline.jobs import ingest

        settings, spool, run_key = _context()
        return list(ingest.plan_chunks(run_key, spool, settings))

    @task(pool=FETCH_POOL, execution_timeout=timedelta(minutes=30))
    def process(chunk: dict) -> dict:
        from pipeline.jobs import ingest

        settings, spool, _ = _context()
        return dict(ingest.process_chunk(chunk, spool, settings))

    @task(retries=SETTINGS.index_retries, max_retry_delay=timedelta(minutes=15))
    def index(chunk: dict) -> dict:
        from pipeline.jobs import ingest

        settings, spool, _ = _context()
        return dict(ingest.index_chunk(chunk, spool, settings))

    @task(outlets=[ARTICLES_ASSET], trigger_rule="none_failed")
    def summarize(polls: list[dict], processed: list[dict], indexed: list[dict]) -> dict:
        from airflow.sdk import get_current_context

        from pipeline.jobs import ingest

        _, spool, run_key = _context()
        # a slice reads a mapped task's results in one request (iterating probes past the end)
        summary = ingest.summarize(run_key, polls[:], processed[:], indexed[:], spool)
        get_current_context()["outlet_events"][ARTICLES_ASSET].extra = {
            k: summary[k] for k in ("articles_indexed", "claims", "entities", "failures")
        }
        print(ingest.summary_line(summary))
        return summary

    @task(trigger_rule="all_done")
    def settle_stories() -> int:
        from pipeline.jobs import ingest

        settings, _, _ = _context()
        return ingest.settle_stories(settings)

    polls = poll.expand(shard=select_due())
    processed = process.expand(chunk=plan(polls))
    summarize(polls, processed, index.expand(chunk=processed)) >> settle_stories()


news_ingest()
