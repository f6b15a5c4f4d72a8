"""
### news_alerts

Watchlists: tell people when something new matches what they follow (see docs/alerts.md).

evaluate (every active watch against what was indexed since its high-water mark, in batched `_msearch`
requests; the matches are recorded once each) -> plan -> deliver (mapped over batches of watches that
have messages to send: webhook or e-mail, each message once, with its idempotency key) -> summarize.

**Schedule**: data-aware, on the `newswatch://articles` asset that `news_ingest` emits, so alerts go out
right after new articles are indexed; *or* the cron `NEWSWATCH_ALERT_SCHEDULE` (hourly by default), which
sends digests that fell due while nothing was ingested and retries messages whose target was down. One DAG,
one timetable (`AssetOrTimeSchedule`), `max_active_runs=1`; a per-watch lease keeps manual runs from
overlapping too.

A target that fails is retried within the task (backoff), then by Airflow (the task fails and retries), then
by the next run; nothing matched is dropped meanwhile. A permanent failure (HTTP 404, refused login, unknown
webhook) pauses the watch with the reason, shown by `newswatch watch list` and the Watches page.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from pipeline.config import load_settings

ARTICLES_ASSET = Asset(name="newswatch_articles", uri="newswatch://articles")  # emitted by news_ingest
SETTINGS = load_settings()  # NEWSWATCH_* only: what the DAG's shape needs when the file is parsed


@dag(
    schedule=AssetOrTimeSchedule(timetable=CronTriggerTimetable(SETTINGS.alert_schedule, timezone="UTC"),
                                 assets=[ARTICLES_ASSET]),
    start_date=datetime(2026, 1, 1, tzinfo=UTC),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 3, "retry_delay": timedelta(seconds=SETTINGS.retry_delay_seconds),
                  "retry_exponential_backoff": 2.0, "max_retry_delay": timedelta(minutes=10),
                  "execution_timeout": timedelta(minutes=10)},
    dagrun_timeout=timedelta(hours=1),
    tags=["newswatch"],
    doc_md=__doc__,
)
def news_alerts() -> None:
    @task
    def evaluate() -> dict:
        from newswatch_airflow import settings_from_airflow

        from pipeline.alerts.run import evaluate_watches

        return evaluate_watches(settings_from_airflow())

    @task
    def plan(evaluated: dict) -> list[list[str]]:
        return list(evaluated["deliver"])  # batches of watches with messages to send

    @task(execution_timeout=timedelta(minutes=14))  # under the watch lease (15 min)
    def deliver(watch_ids: list[str]) -> dict:
        from airflow.sdk import get_current_context
        from airflow.sdk.exceptions import AirflowException
        from newswatch_airflow import settings_from_airflow
        from newswatch_airflow.alerts import credentials_from_airflow

        from pipeline.alerts.run import deliver_watches

        settings = settings_from_airflow()
        ti = get_current_context()["ti"]
        out = deliver_watches(settings, list(watch_ids), credentials=credentials_from_airflow(settings),
                              owner=f"{ti.run_id}:{ti.map_index}:{ti.try_number}")
        print(f"alerts delivered: {out}")
        if out["failed"]:  # transient: Airflow retries the task with backoff; delivered ones are not re-sent
            raise AirflowException(f"delivery failed for {sorted(out['failed'])}: {out['failed']}")
        return out

    @task(trigger_rule="none_failed")
    def summarize(evaluated: dict, delivered: list[dict]) -> dict:
        done = delivered[:]  # a slice: one request (iterating probes past the end and logs an error)
        summary = {"watches": evaluated["watches"], "new_matches": evaluated["new_matches"],
                   "errors": len(evaluated["errors"]), "messages": sum(d["delivered"] for d in done),
                   "matches_delivered": sum(d["matches_delivered"] for d in done),
                   "paused": sorted(w for d in done for w in d["paused"]),
                   "busy": sorted(w for d in done for w in d["busy"])}
        print("alerts: " + " ".join(f"{k}={v}" for k, v in summary.items()))
        return summary

    evaluated = evaluate()
    summarize(evaluated, deliver.expand(watch_ids=plan(evaluated)))


news_alerts()
