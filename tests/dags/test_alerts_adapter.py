"""Airflow Connections -> alert targets (newswatch_airflow.alerts), and the news_alerts DAG's contract."""

from __future__ import annotations

import json


def test_webhook_and_smtp_connections_win_over_settings(monkeypatch):
    from newswatch_airflow.alerts import credentials_from_airflow

    from pipeline.config import load_settings

    monkeypatch.setenv("AIRFLOW_CONN_NEWSWATCH_WEBHOOK_OPS", json.dumps({
        "conn_type": "http", "host": "https://hooks.slack.com/services/T/B/X", "password": "sign-me",
        "extra": {"headers": {"Authorization": "Bearer t"}}}))
    monkeypatch.setenv("AIRFLOW_CONN_NEWSWATCH_WEBHOOK_CHAT", json.dumps({
        "conn_type": "http", "host": "chat.intranet", "port": 8443, "schema": "https", "extra": {"path": "hooks/n"}}))
    monkeypatch.setenv("AIRFLOW_CONN_NEWSWATCH_SMTP", json.dumps({
        "conn_type": "smtp", "host": "smtp.example.org", "port": 465, "login": "bot", "password": "pw",
        "extra": {"security": "tls", "from": "news <bot@example.org>"}}))
    settings = load_settings(env={}, alert_webhooks="ops=http://fallback/x,other=http://other/y", smtp_host="old")
    creds = credentials_from_airflow(settings)
    ops = creds.webhook("ops")
    assert ops.url == "https://hooks.slack.com/services/T/B/X" and ops.secret == "sign-me"
    assert ops.headers == {"Authorization": "Bearer t"}
    assert creds.webhook("chat").url == "https://chat.intranet:8443/hooks/n"
    assert creds.webhook("other").url == "http://other/y"  # no Connection: the setting
    assert creds.webhook("missing") is None
    smtp = creds.smtp()
    assert (smtp.host, smtp.port, smtp.username, smtp.password, smtp.security, smtp.sender) == (
        "smtp.example.org", 465, "bot", "pw", "tls", "news <bot@example.org>")


def test_no_connections_fall_back_to_settings():
    from newswatch_airflow.alerts import credentials_from_airflow

    from pipeline.config import load_settings

    creds = credentials_from_airflow(load_settings(env={}, smtp_host="mail.local", smtp_security="none"))
    assert creds.smtp().host == "mail.local" and creds.webhook("ops") is None


def test_news_alerts_runs_on_the_articles_asset_or_its_cron(dagbag):
    dag = dagbag.dags["news_alerts"]
    assert dag.catchup is False and dag.max_active_runs == 1
    assert type(dag.timetable).__name__ == "AssetOrTimeSchedule"
    assert "newswatch_articles" in str(dag.timetable.asset_condition)
    assert {"evaluate", "plan", "deliver", "summarize"} == set(dag.task_dict)
    for task in dag.tasks:
        assert task.retries >= 1 and task.execution_timeout is not None, task.task_id
    ingest = dagbag.dags["news_ingest"]
    assert [o.name for o in ingest.task_dict["summarize"].outlets] == ["newswatch_articles"]


def test_watches_page_without_elasticsearch(monkeypatch, airflow_db):
    from plugin_client import client  # the plugin pages need a signed-in Airflow user

    monkeypatch.setenv("NEWSWATCH_ES_URL", "http://127.0.0.1:9")
    r = client("viewer").get("/newswatch/watches")
    assert r.status_code == 503 and "Watches is unavailable." in r.text and "is not reachable" in r.text
