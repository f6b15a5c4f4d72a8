"""
### news_reprocess

Re-tag stored articles with the installed tagger and update both indices (articles and claims).
Manual only. Params select the articles: a search `query`, a `since`/`until` date range (on
`published_at`), and the `target_tagger_version` (default: the installed tagger's); articles already
at that version are skipped, so a re-run after a partial failure only does what is left.

`action=stories` instead groups the stored articles into stories (copies of one article across
outlets, docs/stories.md), oldest first, in batches: how an index from before stories adopts them.
Idempotent: an article already in a story keeps it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from pipeline.config import load_settings

SETTINGS = load_settings()  # NEWSWATCH_* only: what the DAG's shape needs when the file is parsed


def _context() -> tuple:
    from airflow.sdk import get_current_context
    from newswatch_airflow import settings_from_airflow, spool_from_settings

    from pipeline.jobs.ingest import run_key_for

    context = get_current_context()
    settings = settings_from_airflow()
    return settings, spool_from_settings(settings), run_key_for(context["run_id"]), context["params"]


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(seconds=SETTINGS.retry_delay_seconds), "retry_exponential_backoff": 2.0,
                  "execution_timeout": timedelta(minutes=30)},
    params={
        "query": Param("", type="string", description="search terms (title and text); empty = all"),
        "since": Param("", type="string", description="published on or after (ISO date), optional"),
        "until": Param("", type="string", description="published on or before (ISO date), optional"),
        "target_tagger_version": Param("", type="string",
                                       description="re-tag articles not at this version (default: installed)"),
        "limit": Param(10000, type="integer", minimum=1, description="at most this many articles"),
        "action": Param("retag", type="string", enum=["retag", "stories"],
                        description="retag: re-tag with the installed tagger; stories: group stored copies "
                                    "into stories (back-fill)"),
    },
    tags=["newswatch"],
    doc_md=__doc__,
)
def news_reprocess() -> None:
    @task
    def select() -> list[dict]:
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.jobs import reprocess

        settings, spool, run_key, params = _context()
        if params["action"] == "stories":
            return []
        try:
            chunks = reprocess.select_stored(
                settings, spool, run_key, query=params["query"] or None, since=params["since"] or None,
                until=params["until"] or None, target_version=params["target_tagger_version"] or None,
                limit=params["limit"])
        except reprocess.TaggerVersionMismatch as exc:  # a wrong param: retrying cannot help
            raise AirflowFailException(str(exc)) from exc
        return [dict(c) for c in chunks]

    @task
    def retag(chunk: dict) -> dict:
        from pipeline.jobs import reprocess

        settings, spool, _, _ = _context()
        return dict(reprocess.retag_chunk(chunk, spool, settings))

    @task(retries=SETTINGS.index_retries, max_retry_delay=timedelta(minutes=15))
    def index(chunk: dict) -> dict:
        from pipeline.jobs import ingest

        settings, spool, _, _ = _context()
        return dict(ingest.index_chunk(chunk, spool, settings))

    @task(retries=SETTINGS.index_retries, max_retry_delay=timedelta(minutes=15))
    def stories() -> dict:
        from pipeline.es import client_from_settings
        from pipeline.index.setup import ensure_indices
        from pipeline.stories.backfill import backfill

        settings, _, _, params = _context()
        if params["action"] != "stories":
            return {}
        es = client_from_settings(settings)
        ensure_indices(es, settings)
        report = backfill(es, settings, limit=params["limit"])
        print(report.line())
        return {"articles_clustered": report.articles, "multi_copy_stories": report.stories,
                "articles_updated": report.updated}

    @task(trigger_rule="none_failed")
    def summarize(retagged: list[dict], indexed: list[dict], grouped: dict) -> dict:
        done = [*retagged[:], *indexed[:]]  # a slice: one request, no probe past the end
        if grouped:
            print(f"reprocess: {grouped}")
            return grouped
        summary = {"articles_retagged": sum(i.get("articles_indexed", 0) for i in done),
                   "claims": sum(i.get("claims", 0) for i in done),
                   "entities": sum(i.get("entities", 0) for i in done)}
        if not done:
            from pipeline.jobs import reprocess

            settings, _, _, params = _context()
            summary["note"] = "nothing to re-tag: " + reprocess.why_nothing_to_retag(
                settings, query=params["query"] or None, since=params["since"] or None,
                until=params["until"] or None, target_version=params["target_tagger_version"] or None)
        print(f"reprocess: {summary}")
        return summary

    retagged = retag.expand(chunk=select())
    summarize(retagged, index.expand(chunk=retagged), stories())


news_reprocess()
