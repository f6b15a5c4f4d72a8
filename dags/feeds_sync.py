"""
### feeds_sync

Load feed configuration (`seeds/feeds.yaml` or an OPML file) into the feed state that news_ingest
schedules from, or act on one feed. Manual only.

- `action=sync` (default): load `source` (default: the configured feeds file); new feeds get state,
  removed ones are reported; invalid entries are listed with their reasons.
- `action=pause|resume|reset` with `feed_id`: stop polling a feed, start again, or clear its
  failures, validators (ETag/Last-Modified) and backoff so the next run polls it from scratch.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Param, dag, task

from pipeline.config import load_settings

SETTINGS = load_settings()  # NEWSWATCH_* only: what the DAG's shape needs when the file is parsed


@dag(
    schedule=None,
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=SETTINGS.retry_delay_seconds), "execution_timeout": timedelta(minutes=10)},
    params={
        "action": Param("sync", enum=["sync", "pause", "resume", "reset"]),
        "source": Param("", type="string", description="feeds.yaml or OPML path (sync); default: configured"),
        "feed_id": Param("", type="string", description="the feed to pause, resume or reset"),
    },
    tags=["newswatch"],
    doc_md=__doc__,
)
def feeds_sync() -> None:
    @task
    def apply() -> dict:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowFailException
        from newswatch_airflow import settings_from_airflow

        from pipeline.jobs import feeds

        params = get_current_context()["params"]
        settings = settings_from_airflow()
        try:
            if params["action"] == "sync":
                report = feeds.sync_feeds(settings, params["source"] or None)
            else:
                report = feeds.set_feed(settings, params["action"], params["feed_id"])
        except feeds.FeedActionError as exc:  # a wrong param: retrying cannot help
            raise AirflowFailException(str(exc)) from exc
        print(f"feeds_sync: {report}")
        return report

    apply()


feeds_sync()
