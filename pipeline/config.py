"""One Settings object, built in one place: packaged defaults, then NEWSWATCH_* environment variables.

`ENV_VARS` is the single list of environment variables the library reads; the compose file,
`.env.example` and the docs are checked against it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> str:
    return str(Path.home() / ".newswatch")


@dataclass(frozen=True)
class Settings:
    # Elasticsearch
    es_url: str = "http://127.0.0.1:9200"
    es_username: str | None = None
    es_password: str | None = None
    es_api_key: str | None = None
    es_ca_certs: str | None = None
    es_verify_certs: bool = True
    es_request_timeout: float = 30.0
    # embedded dev node (`newswatch es start`): folder ("" = <data_dir>/es-node), port, JVM heap
    es_node_dir: str = ""
    es_node_port: int = 9200
    es_node_heap: str = "512m"
    index_prefix: str = "newswatch"
    # index settings for a cluster (docs/scale-out.md): primary shards of new indices; replicas as a
    # count ("1") or an auto-expand range ("0-1": a replica as soon as a second data node joins); the
    # refresh interval while writing ("" = Elasticsearch's 1s, paused while an index is search-idle);
    # actions and bytes per bulk request
    index_shards: int = 1
    index_replicas: str = "0-1"
    index_refresh_interval: str = ""
    index_bulk_actions: int = 500
    index_bulk_bytes: int = 10 * 1024 * 1024
    # index lifecycle (applied where the cluster has ILM): events roll over by size/age, then expire
    ilm_rollover_max_size: str = "10gb"
    ilm_rollover_max_age: str = "30d"
    events_retention_days: int = 90
    # local state
    data_dir: str = field(default_factory=_default_data_dir)
    feeds_file: str = str(REPO_ROOT / "seeds" / "feeds.yaml")
    spool_url: str = ""
    # ingest orchestration: the schedule of news_ingest (cron), feeds per poll shard, articles per
    # process chunk (a chunk streams through every core of the task's machine, so fewer, larger
    # chunks are faster; more chunks spread a run over more machines)
    ingest_schedule: str = "*/5 * * * *"
    ingest_shard_size: int = 100
    ingest_chunk_size: int = 400
    # processes that extract and tag (0 = one per available core, 1 = in the task's own process);
    # fetching and indexing stay in the task and overlap with them
    ingest_processes: int = 0
    # Airflow task retries: the first delay (doubling each time), and how often the index task
    # retries while Elasticsearch is away; slots of the `newswatch_fetch` pool
    retry_delay_seconds: float = 30.0
    index_retries: int = 8
    fetch_pool_slots: int = 4
    # fetching
    user_agent: str = "newswatch/0.1 (+https://github.com/newswatch/newswatch)"
    contact: str = ""
    allow_private_addresses: bool = False
    # with allow_private_addresses: only these comma-separated CIDRs (empty = any private range);
    # cloud metadata addresses are refused regardless
    allowed_private_networks: str = ""
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 45.0
    max_redirects: int = 5
    max_bytes: int = 5 * 1024 * 1024
    per_host_concurrency: int = 2
    per_host_delay: float = 1.0
    global_concurrency: int = 32
    respect_robots: bool = True
    max_feed_failures: int = 10
    # stories (pipeline/stories): an article joins the story of a near-duplicate seen within this many
    # days (re-published, trimmed, lightly edited or re-templated copies); articles with fewer words
    # than story_min_words stay on their own (too short to tell a copy from a stub)
    story_clustering: bool = True
    story_window_days: float = 7.0
    story_min_words: int = 40
    # earlier copies of a story still growing carry its fields as they were (pipeline/stories/freshness);
    # once no copy has joined it for this many minutes, each news_ingest run brings them up to date
    story_settle_minutes: float = 15.0
    # Kibana
    kibana_url: str = "http://127.0.0.1:5601"
    # where browsers reach Kibana (the Airflow UI's nav link), when it differs from kibana_url
    kibana_public_url: str = ""
    kibana_username: str | None = None
    kibana_password: str | None = None
    kibana_space: str = ""
    # watchlists and alerts (pipeline/alerts, DAG news_alerts; docs/alerts.md). Targets' credentials
    # live here or in Airflow Connections (newswatch_smtp, newswatch_webhook_<name>), never in a watch.
    # webhooks a watch may name: "name=https://hooks.example/...,other=..." (or a JSON object)
    alert_webhooks: str = ""
    # optional HMAC-SHA256 key: webhook bodies are signed in the X-Newswatch-Signature header
    alert_webhook_secret: str | None = None
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "starttls"  # starttls | tls | none
    smtp_from: str = "newswatch <newswatch@localhost>"
    # matches listed per message (the rest are counted: "and N more"); timeout of one send
    alert_max_items: int = 10
    alert_timeout: float = 10.0
    # tries per delivery within one run (exponential backoff from the initial delay); a target failing
    # for this many hours pauses its watch (a permanent failure, e.g. HTTP 404 or a refused login, at once)
    alert_send_attempts: int = 3
    alert_retry_initial_seconds: float = 2.0
    alert_pause_after_hours: float = 24.0
    # each evaluation also re-reads this much before a watch's high-water mark (late-visible writes;
    # duplicates are recognised by their deterministic ids)
    alert_lookback_seconds: float = 600.0
    # news_alerts runs after every news_ingest (the newswatch_articles asset) and on this cron, which
    # sends digests that fell due while nothing was ingested
    alert_schedule: str = "0 * * * *"


# field name -> environment variable; one place, so nothing drifts.
ENV_VARS: dict[str, str] = {f.name: f"NEWSWATCH_{f.name.upper()}" for f in fields(Settings)}


def _coerce(raw: str, annotation: Any) -> Any:
    kind = str(annotation)
    if "bool" in kind:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if "int" in kind:
        return int(raw)
    if "float" in kind:
        return float(raw)
    return raw


def load_settings(env: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then NEWSWATCH_* variables from `env` (default: os.environ), then explicit overrides."""
    source = os.environ if env is None else env
    values: dict[str, Any] = {}
    for f in fields(Settings):
        raw = source.get(ENV_VARS[f.name])
        if raw is not None and raw != "":
            values[f.name] = _coerce(raw, f.type)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)
