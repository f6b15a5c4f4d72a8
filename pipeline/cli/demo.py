"""`newswatch demo`: the whole pipeline on one machine, in one command.

Starts the embedded Elasticsearch node and the news-site simulator serving `seeds/demo-site`, runs the
`news_ingest` DAG once through real Airflow (`dag.test()` on SQLite, in a subprocess so this package
never imports Airflow), then prints what happened and a sample claim search. Everything lives under
`<data_dir>/demo` (default ~/.newswatch/demo), so a second run finds the first run's index and feed
state: it polls with conditional requests, gets 304s, and indexes nothing new.

The last line is always `summary: articles_indexed=N claims=N entities=N failures=N`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pipeline.cli.helptext import add_command
from pipeline.config import REPO_ROOT

log = logging.getLogger(__name__)

DEMO_SITE = REPO_ROOT / "seeds" / "demo-site"
DEFAULT_SITE_PORT = 8765
SAMPLE_QUERY = "inflation"
SAMPLE_WATCH = "demo-inflation"  # a watch on SAMPLE_QUERY's claims, posting to the local webhook below
DEMO_WEBHOOK = "http://127.0.0.1:8799/newswatch-demo"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "demo", help="run the whole pipeline once on the demo site (ES node + simulator + Airflow)",
        description="""
            See newswatch work on one machine, in one command: starts a local Elasticsearch and a small
            demo news site (seeds/demo-site), runs the news_ingest pipeline once through Apache Airflow,
            then prints what was indexed, a sample claim search and a sample alert. Everything lives
            under <NEWSWATCH_DATA_DIR>/demo (default ~/.newswatch/demo). Run it twice: the second run
            finds nothing new (the feeds answer 304 Not Modified). The last line is always
            `summary: articles_indexed=N claims=N entities=N failures=N`.""",
        example="""
            newswatch demo
            newswatch demo --query "central bank" --stop-node
            newswatch demo --es-url http://127.0.0.1:9200      # an Elasticsearch you already run""")
    p.add_argument("--data-dir", help="where the demo keeps its node, Airflow home and spool "
                                      "(default: <NEWSWATCH_DATA_DIR>/demo)")
    p.add_argument("--site", default=str(DEMO_SITE), help="simulator site directory (default: seeds/demo-site)")
    p.add_argument("--site-port", type=int, default=DEFAULT_SITE_PORT,
                   help="simulator port; keep it stable across runs, article ids derive from URLs (default: 8765)")
    p.add_argument("--es-url", help="use this Elasticsearch instead of starting the embedded node")
    p.add_argument("--query", default=SAMPLE_QUERY, help="sample claim search to print (default: %(default)r)")
    p.add_argument("--stop-node", action="store_true", help="stop the embedded node afterwards")
    p.set_defaults(handler=_run)


def _say(msg: str) -> None:
    print(msg, flush=True)


def demo_feeds_yaml(site_dir: Path, base_url: str) -> str:
    """The demo site's feeds as a newswatch feeds file pointing at the running simulator."""
    import yaml

    from simulator import load_site

    site = load_site(site_dir)
    rows = [{"id": f"demo-{f.id}", "name": f.title or f.id, "url": f"{base_url}/feeds/{f.id}.xml",
             "language": f.language, "tags": ["demo"], "min_interval": 60} for f in site.feeds]
    return yaml.safe_dump({"feeds": rows}, sort_keys=False)


def airflow_env(demo_dir: Path, es_url: str, feeds_file: Path) -> dict[str, str]:
    """Environment for the Airflow subprocess: SQLite home under the demo dir, the repo's DAGs and
    plugins, the ES Connection, and settings that let the fetcher reach the loopback simulator."""
    from urllib.parse import urlsplit

    parts = urlsplit(es_url)
    airflow_home = demo_dir / "airflow"
    airflow_home.mkdir(parents=True, exist_ok=True)
    conn = {"conn_type": "elasticsearch", "host": parts.hostname, "port": parts.port or 9200,
            "schema": parts.scheme or "http"}
    env = dict(os.environ)
    env.update({
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": env.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING"),
        "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT": json.dumps(conn),
        "NEWSWATCH_ES_URL": es_url,
        "NEWSWATCH_DATA_DIR": str(demo_dir),
        "NEWSWATCH_FEEDS_FILE": str(feeds_file),
        "NEWSWATCH_ALLOW_PRIVATE_ADDRESSES": "true",
        "NEWSWATCH_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "NEWSWATCH_PER_HOST_DELAY": env.get("NEWSWATCH_PER_HOST_DELAY", "0.05"),
        "NEWSWATCH_PER_HOST_CONCURRENCY": env.get("NEWSWATCH_PER_HOST_CONCURRENCY", "4"),
        "NEWSWATCH_RETRY_DELAY_SECONDS": env.get("NEWSWATCH_RETRY_DELAY_SECONDS", "5"),
        "NEWSWATCH_ALERT_WEBHOOKS": env.get("NEWSWATCH_ALERT_WEBHOOKS", f"demo={DEMO_WEBHOOK}"),
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_ROOT / "plugins"), env.get("PYTHONPATH")) if p),
    })
    return env


def run_ingest(env: dict[str, str], conf: dict[str, Any]) -> dict[str, Any]:
    """Run news_ingest once through Airflow in a subprocess; returns the runner's JSON result."""
    cmd = [sys.executable, "-m", "newswatch_airflow.runner", "news_ingest", "--conf", json.dumps(conf)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=1800)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{") and '"run_id"' in ln]
    if not lines:
        tail = "\n".join((proc.stderr or proc.stdout).splitlines()[-40:])
        raise RuntimeError(f"news_ingest did not run (exit {proc.returncode}):\n{tail}")
    result = json.loads(lines[-1])
    result["log_tail"] = "\n".join(proc.stderr.splitlines()[-40:])
    return result


def _start_es(args: argparse.Namespace, demo_dir: Path) -> str:
    if args.es_url:
        return args.es_url.rstrip("/")
    from pipeline import devnode

    node_dir = demo_dir / "es-node"
    current = devnode.status(node_dir)
    if current.running and current.url:
        return devnode.start(node_dir)
    try:
        return devnode.start(node_dir, timeout=180)
    except devnode.PortTaken:
        port = devnode.free_port()
        _say(f"  port taken; starting the node on {port}")
        return devnode.start(node_dir, port=port, timeout=180)


def _print_summary(summary: dict[str, Any]) -> None:
    _say(f"feeds polled:        {summary['feeds_polled']} ({summary['feeds_not_modified']} not modified)")
    _say(f"new entries:         {summary['new_entries']} ({summary['skipped_existing']} already indexed)")
    _say(f"articles indexed:    {summary['articles_indexed']}")
    _say(f"claims:              {summary['claims']}")
    _say(f"entities:            {summary['entities']}")
    _say(f"failures:            {summary['failures']}")
    for reason, n in sorted(summary["failures_by_reason"].items()):
        _say(f"  {reason:<24} {n}")
    if summary.get("pending_batches"):
        _say(f"pending batches:     {len(summary['pending_batches'])} (kept in the spool for the next run)")


def _print_sample_search(es_url: str, text: str) -> None:
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings
    from pipeline.search.api import search
    from pipeline.search.query import SearchQuery

    settings = load_settings(es_url=es_url)
    es = client_from_settings(settings)
    es.indices.refresh(index=f"{settings.index_prefix}-*")
    resp = search(es, SearchQuery(text=text, claims=True, size=3, facets=False), settings)
    _say(f"\nsample claim search {text!r}: {resp.total} claim(s)")
    for c in resp.claims:
        who = c.speaker or "(unattributed)"
        _say(f"  - {who} [{c.kind}, certainty {c.certainty}]: {c.text[:140]}")
        _say(f"    {c.title}  {c.url}")


def _print_sample_watch(es_url: str, text: str) -> None:
    """Add (or refresh) one sample watch with a local webhook target and print what it would deliver."""
    from pipeline.alerts.model import Target, Watch, WatchSearch
    from pipeline.alerts.run import add_watch, preview
    from pipeline.config import load_settings

    settings = load_settings(es_url=es_url)
    watch = Watch.new(SAMPLE_WATCH, WatchSearch(text=text, claims=True), Target.parse("webhook:demo"),
                      description="added by newswatch demo")
    watch = add_watch(settings, watch, replace=True)
    message, items = preview(settings, watch, hours=24 * 365)
    _say(f"\nsample watch {watch.name!r} ({watch.search.describe()}) -> webhook 'demo' ({DEMO_WEBHOOK}); "
         f"it would have delivered {len(items)} match(es) in one message (key {message.delivery_id[:12]}...):")
    for line in message.text.splitlines()[:9]:
        _say(f"  {line[:160]}")
    _say(f"  (news_alerts sends new matches once; see `newswatch watch test {watch.name}` and docs/alerts.md)")


def _run(args: argparse.Namespace) -> int:
    from pipeline.config import load_settings
    from pipeline.jobs.ingest import summary_line
    from pipeline.spool import RUNS, Spool, default_root
    from simulator import Simulator

    started = time.monotonic()
    settings = load_settings()
    demo_dir = Path(args.data_dir or Path(settings.data_dir) / "demo").expanduser().resolve()
    demo_dir.mkdir(parents=True, exist_ok=True)
    empty = {"articles_indexed": 0, "claims": 0, "entities": 0, "failures": 0}

    _say(f"newswatch demo (data: {demo_dir})")
    _say("starting Elasticsearch ...")
    try:
        es_url = _start_es(args, demo_dir)
    except Exception as exc:
        _say(f"error: Elasticsearch did not start: {exc}")
        _say(summary_line({**empty, "failures": 1}))
        return 1
    _say(f"  {es_url}")

    sim = Simulator(args.site, port=args.site_port)
    try:
        base_url = sim.start()
    except OSError as exc:
        _say(f"error: cannot serve the demo site on port {args.site_port}: {exc} (try --site-port)")
        _say(summary_line({**empty, "failures": 1}))
        return 1
    try:
        _say(f"serving {args.site} at {base_url}")
        feeds_file = demo_dir / "feeds.yaml"
        feeds_file.write_text(demo_feeds_yaml(Path(args.site), base_url), encoding="utf-8")
        env = airflow_env(demo_dir, es_url, feeds_file)
        _say("running news_ingest through Airflow (dag.test on SQLite) ...")
        t0 = time.monotonic()
        result = run_ingest(env, {"force": True})
        _say(f"  run {result['run_id']}: {result['state']} in {time.monotonic() - t0:.1f}s")
        spool = Spool(default_root(str(demo_dir)))
        if not spool.exists(RUNS, result["run_key"]):
            _say(result["log_tail"])
            _say(f"error: the run left no summary (state {result['state']})")
            _say(summary_line({**empty, "failures": 1}))
            return 1
        summary = spool.read_json(RUNS, result["run_key"])
        _say("")
        _print_summary(summary)
        try:
            _print_sample_search(es_url, args.query)
        except Exception as exc:  # the run's figures stand even if the sample search fails
            _say(f"sample search failed: {type(exc).__name__}: {exc}")
        try:
            _print_sample_watch(es_url, args.query)
        except Exception as exc:  # nor if the sample watch does
            _say(f"sample watch failed: {type(exc).__name__}: {exc}")
        if not args.es_url and not args.stop_node:
            _say(f"\nElasticsearch keeps running at {es_url} for `newswatch search`; "
                 f"stop it with: newswatch es stop --data-dir {demo_dir / 'es-node'}")
        _say(f"done in {time.monotonic() - started:.1f}s; the Airflow UI and Kibana: see docs/airflow.md")
        _say(summary_line(summary))
        return 0 if result["state"] == "success" else 1
    finally:
        sim.stop()
        if args.stop_node and not args.es_url:
            from pipeline import devnode

            devnode.stop(demo_dir / "es-node")
