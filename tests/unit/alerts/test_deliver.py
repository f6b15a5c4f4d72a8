"""Delivery against real receivers on 127.0.0.1: a webhook server and an SMTP server (aiosmtpd).
Idempotency key and signature headers, failure classes, retries with backoff."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from alerts_servers import WebhookReceiver

from pipeline.alerts.deliver import DeliveryFailed, SettingsCredentials, send, signature
from pipeline.alerts.model import AlertItem, Target, Watch, WatchSearch
from pipeline.alerts.render import render
from pipeline.config import load_settings

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _message():
    watch = Watch.new("w", WatchSearch(text="x", claims=True), Target.parse("webhook:ops"), now=T0)
    item = AlertItem(doc_kind="claim", doc_id="d1", title="T", site="s", url="https://s/1", text="x y",
                     highlighted="x y", published_at=T0)
    return render(watch, [item], "key-123", max_items=5)


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.stop()


def _settings(url: str, **kw):
    return load_settings(env={}, **{"alert_webhooks": f"ops={url}", "alert_retry_initial_seconds": 0.05,
                                    "alert_timeout": 3, **kw})


def test_webhook_post_carries_the_key_the_signature_and_a_slack_text(receiver):
    settings = _settings(receiver.url, alert_webhook_secret="s3cret")
    sent = send(_message(), Target.parse("webhook:ops"), SettingsCredentials(settings), settings)
    assert sent.status_code == 200 and sent.attempts == 1
    (req,) = receiver.received
    assert req["headers"]["idempotency-key"] == "key-123" and req["body"]["idempotency_key"] == "key-123"
    assert req["headers"]["x-newswatch-signature"] == signature("s3cret", req["raw"])
    assert req["body"]["text"].startswith("*newswatch · w*") and json.loads(req["raw"]) == req["body"]


@pytest.mark.parametrize(("status", "permanent"), [(404, True), (401, True), (410, True), (503, False), (429, False)])
def test_http_errors_are_permanent_or_retried(receiver, status, permanent):
    receiver.status = status
    settings = _settings(receiver.url, alert_send_attempts=3)
    started = time.monotonic()
    with pytest.raises(DeliveryFailed) as info:
        send(_message(), Target.parse("webhook:ops"), SettingsCredentials(settings), settings)
    assert info.value.permanent is permanent and info.value.status_code == status
    if not permanent:
        assert time.monotonic() - started >= 0.05 + 0.1  # backed off twice before giving up


def test_a_receiver_back_within_the_retries_gets_the_message_once(receiver):
    receiver.kill()
    settings = _settings(receiver.url, alert_send_attempts=6, alert_retry_initial_seconds=0.2)
    import threading

    threading.Timer(0.5, receiver.start).start()
    sent = send(_message(), Target.parse("webhook:ops"), SettingsCredentials(settings), settings)
    assert sent.attempts >= 2 and receiver.keys() == ["key-123"]


def test_unknown_webhook_and_missing_smtp_are_permanent():
    settings = load_settings(env={})
    for target in ("webhook:nope", "email:a@x.org"):
        with pytest.raises(DeliveryFailed) as info:
            send(_message(), Target.parse(target), SettingsCredentials(settings), settings)
        assert info.value.permanent


def test_email_through_a_real_smtp_server(free_port):
    from alerts_servers import SmtpReceiver

    smtp = SmtpReceiver(free_port())
    try:
        settings = load_settings(env={}, smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none",
                                 smtp_from="newswatch <alerts@news.test>")
        sent = send(_message(), Target.parse("email:a@x.org,b@y.org"), SettingsCredentials(settings), settings)
        assert sent.status_code == 250
        (got,) = smtp.messages
        msg = got["message"]
        assert got["to"] == ["a@x.org", "b@y.org"] and got["from"] == "alerts@news.test"
        assert msg["Message-ID"] == "<key-123@news.test>" and msg["X-Newswatch-Idempotency-Key"] == "key-123"
        assert msg["Subject"] == "newswatch: 1 new match for w"
        assert "https://s/1" in msg.get_body(("plain",)).get_content()
        assert "<ol>" in msg.get_body(("html",)).get_content()
    finally:
        smtp.stop()


def test_smtp_down_is_transient(free_port):
    settings = load_settings(env={}, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none",
                             alert_send_attempts=1)
    with pytest.raises(DeliveryFailed) as info:
        send(_message(), Target.parse("email:a@x.org"), SettingsCredentials(settings), settings)
    assert not info.value.permanent and "unreachable" in info.value.reason
