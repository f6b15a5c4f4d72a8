"""Watchlists end to end: news_ingest through real Airflow (dag.test), then news_alerts, delivering to a real
webhook receiver and a real SMTP server (aiosmtpd) on 127.0.0.1.

- exactly the expected messages arrive (each watch's matches = what `newswatch search` finds), once;
- a second news_alerts run (and a second ingest) sends nothing;
- the receiver is killed mid-run after the first message: the rest arrive once it is back (Airflow retries
  the deliver task), nothing twice;
- a permanently failing target pauses its watch with the reason;
- a watch with an invalid search is refused at `add`.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from dag_helpers import DEMO_SITE, drop_indices, newswatch_env, run_ingest, task_tries

pytestmark = pytest.mark.integration

PREFIX = f"nwalert-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def receivers(free_port):
    from alerts_servers import SmtpReceiver, WebhookReceiver

    hook = WebhookReceiver()
    smtp = SmtpReceiver(free_port())
    yield hook, smtp
    hook.stop()
    smtp.stop()


@pytest.fixture(scope="module")
def alerts_env(es_url, airflow_db, receivers, tmp_path_factory):
    from newswatch_airflow.runner import prepare_airflow

    from pipeline.cli.demo import demo_feeds_yaml
    from simulator import Simulator

    hook, smtp = receivers
    prepare_airflow()
    sim = Simulator(DEMO_SITE)
    sim.start()
    data_dir = tmp_path_factory.mktemp("alerts-e2e")
    feeds_file = data_dir / "feeds.yaml"
    feeds_file.write_text(demo_feeds_yaml(DEMO_SITE, sim.base_url))
    try:
        with newswatch_env(es_url, data_dir, feeds_file, PREFIX) as mp:
            mp.setenv("NEWSWATCH_ALERT_WEBHOOKS", f"ops={hook.url},gone={hook.url.replace('/hook', '/gone')}")
            mp.setenv("NEWSWATCH_SMTP_HOST", "127.0.0.1")
            mp.setenv("NEWSWATCH_SMTP_PORT", str(smtp.port))
            mp.setenv("NEWSWATCH_SMTP_SECURITY", "none")
            mp.setenv("NEWSWATCH_SMTP_FROM", "newswatch <alerts@newswatch.test>")
            mp.setenv("NEWSWATCH_ALERT_SEND_ATTEMPTS", "2")
            mp.setenv("NEWSWATCH_ALERT_RETRY_INITIAL_SECONDS", "0.2")
            mp.setenv("NEWSWATCH_ALERT_MAX_ITEMS", "50")
            yield data_dir
    finally:
        sim.stop()
        drop_indices(es_url, PREFIX)


def run_alerts():
    from newswatch_airflow.runner import load_dag

    return load_dag("news_alerts").test()


def _settings():
    from pipeline.config import load_settings

    return load_settings()


def _expected(es_client, **search) -> set[str]:
    """What `newswatch search` finds for the watch's filters: the items its messages must list."""
    from pipeline.search.api import search as run_search
    from pipeline.search.query import SearchQuery

    es_client.indices.refresh(index=f"{PREFIX}-*")
    resp = run_search(es_client, SearchQuery(size=500, facets=False, **search), _settings())
    if search.get("claims"):
        return {c.claim_id for c in resp.claims}
    return {a.article_id for a in resp.articles}


def _add_backdated(name: str, target: str, **search) -> None:
    """A watch that sees everything indexed in the last day (a new one only sees what comes next)."""
    from pipeline.alerts.model import Target, Watch, WatchSearch
    from pipeline.alerts.run import add_watch

    watch = Watch.new(name, WatchSearch(**search), Target.parse(target), now=datetime.now(UTC) - timedelta(days=1))
    add_watch(_settings(), watch)


def test_watches_alert_once_through_the_dags(alerts_env, receivers, es_client, capsys):
    from pipeline.alerts.run import stores
    from pipeline.cli import main

    hook, smtp = receivers
    # an invalid search is refused at add, with the reason
    assert main(["watch", "add", "broken", "inflation AND (rates", "--webhook", "ops"]) == 2
    assert "invalid search" in capsys.readouterr().err
    assert main(["watch", "add", "bogus-field", "nosuchfield:x", "--claims", "--webhook", "ops"]) == 2
    assert "unknown field(s) 'nosuchfield'" in capsys.readouterr().err
    # two watches before the first ingest: claims about inflation to the webhook, an entity to e-mail
    assert main(["watch", "add", "inflation", "inflation", "--claims", "--webhook", "ops"]) == 0
    assert main(["watch", "add", "ecb-desk", "--entity", "ECB", "--email", "desk@newsroom.test"]) == 0
    capsys.readouterr()

    ingest = run_ingest()
    assert ingest.state == "success"
    want_claims = _expected(es_client, text="inflation", claims=True)
    want_articles = _expected(es_client, entities=["ECB"])
    assert want_claims and want_articles, "the demo site should have inflation claims and ECB articles"

    first = run_alerts()
    assert first.state == "success"
    assert len(hook.received) == 1, hook.bodies()
    body = hook.received[0]["body"]
    assert body["watch"] == "inflation" and body["idempotency_key"] == hook.keys()[0]
    assert {i["id"] for i in body["items"]} == want_claims and body["total"] == len(want_claims)
    assert body["text"].startswith("*newswatch · inflation*")
    assert any("*inflation*" in line.lower() for line in body["text"].splitlines()), body["text"]
    assert all(i["url"] and i["outlet"] and i["claim"] for i in body["items"])
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["to"] == ["desk@newsroom.test"]
    assert mail["message"]["X-Newswatch-Idempotency-Key"] in mail["message"]["Message-ID"]
    assert mail["message"]["Subject"] == f"newswatch: {len(want_articles)} new match" + (
        "es" if len(want_articles) > 1 else "") + " for ecb-desk"

    # again: nothing new, nothing sent; a second ingest (304s) adds nothing either
    assert run_alerts().state == "success"
    assert run_ingest().state == "success"
    assert run_alerts().state == "success"
    assert len(hook.received) == 1 and len(smtp.messages) == 1

    # the receiver dies after the first of two messages and comes back 2 s later
    _add_backdated("inflation-2", "webhook:ops", text="inflation", claims=True)
    _add_backdated("ecb-hook", "webhook:ops", entities=["ECB"])

    def kill_then_revive(request):
        hook.on_receive = None
        hook.kill()
        threading.Timer(2.0, hook.start).start()

    hook.on_receive = kill_then_revive
    outage = run_alerts()
    assert outage.state == "success"
    assert max(task_tries(outage, "deliver")) >= 2, "the deliver task should have been retried"
    keys = hook.keys()
    assert len(keys) == 3 and len(set(keys)) == 3, keys  # nothing twice
    by_watch = {b["watch"]: b for b in hook.bodies()[1:]}
    assert {i["id"] for i in by_watch["inflation-2"]["items"]} == want_claims
    assert {i["id"] for i in by_watch["ecb-hook"]["items"]} == want_articles

    # a target that answers 404 pauses its watch with the reason; nothing is lost
    _add_backdated("gone-target", "webhook:gone", entities=["ECB"])
    hook.status = 404
    try:
        assert run_alerts().state == "success"
    finally:
        hook.status = 200
    store, ledger = stores(es_client, _settings())
    gone = store.get("gone-target")
    assert gone.paused and "HTTP 404" in (gone.paused_reason or ""), gone
    assert ledger.pending_counts()["gone-target"].assigned == len(want_articles)
    assert len(hook.keys()) == 3
    assert main(["watch", "list"]) == 0
    assert "PAUSED" in capsys.readouterr().out
    from plugin_client import client  # the plugin pages need a signed-in Airflow user

    page = client("viewer").get("/newswatch/watches")
    assert page.status_code == 200 and "gone-target" in page.text and "Paused" in page.text
    assert "delivery failed (" in page.text
    # once the target answers again and the watch is resumed, its message goes out
    assert main(["watch", "resume", "gone-target"]) == 0
    assert run_alerts().state == "success"
    assert len(hook.keys()) == 4 and len(set(hook.keys())) == 4
    assert hook.bodies()[-1]["watch"] == "gone-target"
    assert ledger.pending_counts().get("gone-target") is None

    # `newswatch demo` adds a sample watch with a local webhook and prints what it would deliver
    from pipeline.cli.demo import SAMPLE_WATCH, _print_sample_watch

    _print_sample_watch(_settings().es_url, "inflation")
    out = capsys.readouterr().out
    assert f"sample watch '{SAMPLE_WATCH}'" in out and f"would have delivered {len(want_claims)} match" in out
    assert main(["watch", "test", SAMPLE_WATCH]) == 0 and "nothing was sent" in capsys.readouterr().out
    assert main(["watch", "remove", SAMPLE_WATCH]) == 0
