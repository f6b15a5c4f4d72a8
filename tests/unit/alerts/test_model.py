"""Watch records: names, targets (no credentials), ids, and the derived mappings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.alerts.deliver import SettingsCredentials, parse_webhooks, signature
from pipeline.alerts.model import (
    AlertItem,
    AlertMatch,
    Delivery,
    Target,
    Watch,
    WatchError,
    WatchSearch,
    delivery_id,
    match_id,
)
from pipeline.config import load_settings
from pipeline.index.derive import flatten_properties
from pipeline.index.mappings import mapping_for

T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.mark.parametrize("name", ["Bad Name", "", "-x", "a" * 64, "ünï"])
def test_bad_names_are_refused(name):
    with pytest.raises(WatchError, match="bad watch name"):
        Watch.new(name, WatchSearch(text="x"), Target.parse("webhook:ops"))


def test_a_watch_needs_a_search():
    with pytest.raises(WatchError, match="needs a search"):
        Watch.new("empty", WatchSearch(claims=True), Target.parse("webhook:ops"))


def test_targets_name_a_webhook_or_recipients_never_credentials():
    assert Target.parse("webhook:ops").spec() == "webhook:ops"
    assert Target.parse("email:a@x.org, b@y.org").recipients == ["a@x.org", "b@y.org"]
    for bad in ("webhook:https://hooks.slack.com/x", "email:not-an-address", "slack:ops", "email:"):
        with pytest.raises(WatchError):
            Target.parse(bad)


def test_ids_are_deterministic_and_order_free():
    assert match_id("w", "doc") == match_id("w", "doc") != match_id("w2", "doc")
    assert delivery_id("w", ["a", "b"]) == delivery_id("w", ["b", "a"]) != delivery_id("w", ["a"])


def test_digest_due_every_n_hours():
    w = Watch.new("d", WatchSearch(text="x"), Target.parse("webhook:ops"), mode="digest", digest_hours=6, now=T0)
    assert not w.digest_due(T0 + timedelta(hours=5))
    assert w.digest_due(T0 + timedelta(hours=6))
    w.state.last_digest_at = T0 + timedelta(hours=6)
    assert not w.digest_due(T0 + timedelta(hours=11)) and w.digest_due(T0 + timedelta(hours=12))
    assert Watch.new("i", WatchSearch(text="x"), Target.parse("webhook:ops"), now=T0).digest_due(T0)


def _paths(doc, prefix=""):
    if isinstance(doc, dict):
        out = set()
        for k, v in doc.items():
            out |= _paths(v, f"{prefix}{k}.")
        return out or {prefix.rstrip(".")}
    if isinstance(doc, list):
        return set().union(*(_paths(v, prefix) for v in doc)) if doc else {prefix.rstrip(".")}
    return {prefix.rstrip(".")}


def test_documents_only_use_mapped_fields():
    watch = Watch.new("w", WatchSearch(text="x", entities=["NATO"], certainty="low"), Target.parse("email:a@x.org"),
                      now=T0)
    item = AlertItem(doc_kind="claim", doc_id="d", title="t", text="x", highlighted="x", published_at=T0)
    match = AlertMatch(match_id="m", watch_id="w", doc_kind="claim", doc_id="d", matched_at=T0, item=item,
                       delivery_id="k")
    delivery = Delivery(delivery_id="k", watch_id="w", channel="email", target="email:a@x.org", match_ids=["m"],
                        created_at=T0, last_error="x", status_code=250)
    for kind, docs in (("watches", [watch]), ("deliveries", [match, delivery])):
        mapping = mapping_for(kind, english=False)
        assert mapping["dynamic"] == "false" and mapping["_meta"]["mapping_hash"]
        mapped = set(flatten_properties(mapping["properties"]))
        for doc in docs:
            assert _paths(doc.model_dump(mode="json")) - mapped == set(), kind
    flat = flatten_properties(mapping_for("deliveries", english=False)["properties"])
    assert flat["item.text"] == "text" and flat["state"] == flat["watch_id"] == "keyword"
    assert flat["matched_at"] == flat["created_at"] == "date"


def test_webhooks_from_settings_and_signatures():
    assert parse_webhooks("ops=https://a.example/x, b = http://127.0.0.1:9/y") == {
        "ops": "https://a.example/x", "b": "http://127.0.0.1:9/y"}
    assert parse_webhooks('{"ops": "https://a.example/x"}') == {"ops": "https://a.example/x"}
    creds = SettingsCredentials(load_settings(env={}, alert_webhooks="ops=https://a.example/x",
                                              alert_webhook_secret="s3"))
    assert creds.webhook("ops").url == "https://a.example/x" and creds.webhook("ops").secret == "s3"
    assert creds.webhook("other") is None and creds.smtp() is None
    assert signature("k", b"{}") == "sha256=" + __import__("hmac").new(b"k", b"{}", "sha256").hexdigest()
