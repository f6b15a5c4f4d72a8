"""What the news_alerts DAG, the CLI and the demo call. Each takes Settings and returns a small manifest.

    evaluate_watches(settings)            every active watch against what was indexed since its high-water
                                          mark; records the matches; says which watches have messages to send
    deliver_watches(settings, watch_ids)  for each: take its lease, send its pending messages, record them
    preview(settings, name, hours=24)     the message the watch would send for the last `hours`; sends nothing
    add_watch(settings, watch)            validate the search against the cluster, then store the watch

The bookkeeping protocol that makes each match arrive once is in pipeline.alerts.ledger.
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pipeline.alerts.evaluate import Window, detailed_items, evaluate, fetch_items
from pipeline.alerts.ledger import Ledger
from pipeline.alerts.model import AlertItem, AlertMatch, Delivery, Watch, WatchError, delivery_id, match_id
from pipeline.alerts.render import Message, order, render
from pipeline.alerts.store import WatchStore
from pipeline.config import Settings
from pipeline.index.names import IndexNames
from pipeline.index.transport import translated

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.alerts.deliver import Credentials

log = logging.getLogger(__name__)

LEASE_SECONDS = 900.0  # longer than a deliver task may run (its execution_timeout)
MAX_PER_DELIVERY = 1000  # matches per message ("and N more" lists the rest of them)
DELIVER_BATCH = 50  # watches per deliver task


def _client(settings: Settings) -> Elasticsearch:
    from pipeline.es import client_from_settings

    return client_from_settings(settings)


def stores(es: Elasticsearch, settings: Settings) -> tuple[WatchStore, Ledger]:
    names = IndexNames(settings.index_prefix)
    return WatchStore(es, names.alias("watches")), Ledger(es, names.alias("deliveries"))


def _english(es: Elasticsearch) -> bool:
    from pipeline.index.features import detect_features

    return detect_features(es).english_analyzer


# evaluation ----------------------------------------------------------------------------------------

def evaluate_watches(settings: Settings, *, es: Elasticsearch | None = None, now: datetime | None = None,
                     setup: bool = True) -> dict[str, Any]:
    """Evaluate every active watch since its high-water mark and record the matches. Returns a manifest:
    counts, per-watch errors, and `deliver`: batches of watch ids that have messages to send now."""
    es = es or _client(settings)
    if setup:
        from pipeline.index.setup import ensure_indices

        ensure_indices(es, settings)  # the run's one set-up step
    now = now or datetime.now(UTC)
    store, ledger = stores(es, settings)
    names = IndexNames(settings.index_prefix)
    watches = store.active()
    with_lookback = timedelta(seconds=settings.alert_lookback_seconds)
    with translated(es):  # what is written so far is searchable
        es.indices.refresh(index=f"{names.claims},{names.articles}")

    def window_for(w: Watch) -> Window:
        since = w.state.high_water_mark - with_lookback
        return Window(since=max(since, w.state.not_before) if w.state.not_before else since, until=now)

    result = evaluate(es, watches, window_for, names, _english(es))
    new = ledger.record(_new_matches(es, ledger, names, watches, result.matches, now, result.groups))  # before any mark moves
    new_by_watch: dict[str, int] = {}
    for m in new:
        new_by_watch[m.watch_id] = new_by_watch.get(m.watch_id, 0) + 1
    partials: dict[str, dict[str, Any]] = {}
    for w in watches:
        if w.watch_id in result.errors:
            partials[w.watch_id] = {"last_error": f"search failed: {result.errors[w.watch_id]}",
                                    "last_error_at": now.isoformat()}
            log.warning("watch %s: search failed: %s", w.watch_id, result.errors[w.watch_id])
            continue
        partial: dict[str, Any] = {"high_water_mark": max(w.state.high_water_mark, now).isoformat(),
                                   "last_evaluated_at": now.isoformat()}
        if new_by_watch.get(w.watch_id):
            partial["last_match_at"] = now.isoformat()
        partials[w.watch_id] = partial
    store.update_states(partials)
    pending = ledger.pending_counts()
    due = [w.watch_id for w in watches
           if (c := pending.get(w.watch_id)) and (c.assigned or (c.unassigned and w.digest_due(now)))]
    return {
        "watches": len(watches), "evaluated": len(watches) - len(result.errors), "method": result.method,
        "searches": result.searches, "requests": result.requests, "seconds": round(result.seconds, 3),
        "matched": result.total, "new_matches": len(new), "new_by_watch": new_by_watch, "errors": result.errors,
        "pending": {k: v.assigned + v.unassigned for k, v in pending.items()},
        "deliver": [due[i:i + DELIVER_BATCH] for i in range(0, len(due), DELIVER_BATCH)],
    }


def _new_matches(es: Elasticsearch, ledger: Ledger, names: IndexNames, watches: list[Watch],
                 matched: dict[str, list[str]], now: datetime, groups: dict[str, str] | None = None
                 ) -> list[AlertMatch]:
    """The matches not recorded yet, each with a plain snapshot of its document (the look-back window
    re-finds recorded ones: they cost a multi-get of ids, nothing more). A match is one per watch and
    story: a copy of a story the watch already told of (in this run or an earlier one) is not new."""
    claims = {w.watch_id: w.search.claims for w in watches}
    group = groups or {}
    pairs = [(wid, doc_id, match_id(wid, group.get(doc_id, doc_id))) for wid, ids in matched.items()
             for doc_id in ids]
    known = ledger.existing(mid for _, _, mid in pairs)
    pairs = [p for p in pairs if p[2] not in known]
    items = {kind: fetch_items(es, {d for w, d, _ in pairs if claims[w] == kind}, kind, names)
             for kind in (True, False)}
    return [AlertMatch(match_id=mid, watch_id=wid, doc_kind="claim" if claims[wid] else "article", doc_id=doc_id,
                       matched_at=now, item=items[claims[wid]][doc_id])
            for wid, doc_id, mid in pairs if doc_id in items[claims[wid]]]  # gone since: nothing to say


# delivery ------------------------------------------------------------------------------------------

def deliver_watches(settings: Settings, watch_ids: list[str], *, credentials: Credentials | None = None,
                    es: Elasticsearch | None = None, owner: str | None = None,
                    now: datetime | None = None) -> dict[str, Any]:
    """Send every pending message of these watches, each under the watch's lease. Returns a manifest:
    `delivered` (messages), `matches_delivered`, `failed` (transient: retried later; the caller may retry
    now), `paused` (permanent failures, or failing for too long), `busy` (another run holds the lease)."""
    from pipeline.alerts.deliver import SettingsCredentials

    es = es or _client(settings)
    credentials = credentials or SettingsCredentials(settings)
    owner = owner or f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    store, ledger = stores(es, settings)
    out: dict[str, Any] = {"delivered": 0, "matches_delivered": 0, "failed": {}, "paused": {}, "busy": [],
                           "by_watch": {}}
    for watch_id in watch_ids:
        now_ = now or datetime.now(UTC)
        watch = store.acquire(watch_id, owner, LEASE_SECONDS, now=now_)
        if watch is None:
            out["busy"].append(watch_id)
            continue
        try:
            if watch.paused:
                continue
            _deliver_watch(watch, store, ledger, credentials, settings, now_, out)
        finally:
            store.release(watch_id, owner)
    return out


def _deliver_watch(watch: Watch, store: WatchStore, ledger: Ledger, credentials: Credentials, settings: Settings,
                   now: datetime, out: dict[str, Any]) -> None:
    from pipeline.alerts.deliver import DeliveryFailed, send

    pending = ledger.pending(watch.watch_id)
    groups: dict[str, list[AlertMatch]] = {}
    fresh: list[AlertMatch] = []
    for m in pending:
        if m.delivery_id:
            groups.setdefault(m.delivery_id, []).append(m)
        else:
            fresh.append(m)
    # 2. assign: messages already assigned keep their id; new ones are formed from the rest
    if fresh and watch.digest_due(now):
        for start in range(0, len(fresh), MAX_PER_DELIVERY):
            chunk = fresh[start:start + MAX_PER_DELIVERY]
            did = delivery_id(watch.watch_id, [m.match_id for m in chunk])
            ledger.assign([m.match_id for m in chunk], did)
            groups[did] = [m.model_copy(update={"delivery_id": did}) for m in chunk]
    max_items = watch.max_items or settings.alert_max_items
    for did, matches in groups.items():
        ids = [m.match_id for m in matches]
        record = ledger.get_delivery(did)
        if record is not None and record.state == "delivered":  # sent and recorded; only the marks were missing
            ledger.mark_delivered(ids, did, record.delivered_at or now)
            continue
        if record is None:  # fix what the message lists (with highlights) before it is first sent
            shown = detailed_items(ledger.es, watch.search, order([m.item for m in matches])[:max_items],
                                   IndexNames(settings.index_prefix), _english(ledger.es))
            record = Delivery(delivery_id=did, watch_id=watch.watch_id, channel=watch.target.channel,
                              target=watch.target.spec(), match_ids=ids, match_count=len(ids), created_at=now,
                              shown=shown)
        listed = {i.doc_id: i for i in record.shown}
        message = render(watch, [listed.get(m.doc_id, m.item) for m in matches], did, max_items)
        record = record.model_copy(update={"attempts": record.attempts + 1, "last_attempt_at": now,
                                           "state": "sending"})
        ledger.put_delivery(record)  # 3. the attempt is on record before the message leaves
        try:
            sent = send(message, watch.target, credentials, settings)
        except DeliveryFailed as exc:
            _failed(watch, store, ledger, record, exc, settings, now, out)
            return  # later messages of this watch wait: they go out in order
        done = datetime.now(UTC)
        ledger.put_delivery(record.model_copy(update={"state": "delivered", "delivered_at": done,
                                                      "status_code": sent.status_code, "last_error": None}))
        ledger.mark_delivered(ids, did, done)  # 4.
        state: dict[str, Any] = {"last_delivery_at": done.isoformat(), "last_delivery_id": did,
                                 "consecutive_failures": 0, "failing_since": None, "last_error": None}
        if watch.mode == "digest":
            state["last_digest_at"] = now.isoformat()
        store.update_state(watch.watch_id, lambda s, p=state: p)
        out["delivered"] += 1
        out["matches_delivered"] += len(ids)
        out["by_watch"][watch.watch_id] = out["by_watch"].get(watch.watch_id, 0) + len(ids)
        log.info("watch %s: delivered %s (%d match(es)) to %s", watch.watch_id, did, len(ids), watch.target.spec())


def _failed(watch: Watch, store: WatchStore, ledger: Ledger, record: Delivery, exc: Any, settings: Settings,
            now: datetime, out: dict[str, Any]) -> None:
    reason = f"{record.target}: {exc.reason}"
    ledger.put_delivery(record.model_copy(update={"state": "failed", "last_error": exc.reason,
                                                  "status_code": exc.status_code}))
    since = watch.state.failing_since or now
    too_long = (now - since).total_seconds() >= settings.alert_pause_after_hours * 3600
    store.update_state(watch.watch_id, lambda s: {
        "consecutive_failures": s.consecutive_failures + 1, "failing_since": (s.failing_since or now).isoformat(),
        "last_error": reason, "last_error_at": now.isoformat()})
    status = "delivery_failed"
    if exc.permanent or too_long:
        why = "permanent failure" if exc.permanent else f"failing since {since.isoformat(timespec='seconds')}"
        store.pause(watch.watch_id, f"delivery failed ({why}): {reason}", now=now)
        out["paused"][watch.watch_id] = reason
        status = "watch_paused"
        log.error("watch %s paused: %s", watch.watch_id, reason)
    else:
        out["failed"][watch.watch_id] = reason
        log.warning("watch %s: delivery %s failed, will be retried: %s", watch.watch_id, record.delivery_id, reason)
    _record_event(store, settings, watch, record, status, reason, retryable=not (exc.permanent or too_long), now=now)


def _record_event(store: WatchStore, settings: Settings, watch: Watch, record: Delivery, status: str, reason: str,
                  *, retryable: bool, now: datetime) -> None:
    from pipeline.index.writer import IndexWriter
    from pipeline.jobs.events import event_id
    from pipeline.records import Event

    event = Event(event_id=event_id("alerts", record.delivery_id, status, record.attempts), at=now, stage="alerts",
                  status=status, reason=reason, retryable=retryable,
                  details={"watch": watch.watch_id, "delivery_id": record.delivery_id, "target": record.target,
                           "matches": record.match_count, "attempt": record.attempts})
    try:
        IndexWriter(store.es, settings).record_events([event])
    except Exception as exc:  # noqa: BLE001 - the watch's state already carries the reason
        log.warning("could not record the alerts event: %s", exc)


# preview and add -------------------------------------------------------------------------------------

def preview(settings: Settings, watch: Watch, *, hours: float = 24.0, es: Elasticsearch | None = None,
            now: datetime | None = None) -> tuple[Message, list[AlertItem]]:
    """The message `watch` would send for what was indexed in the last `hours` (nothing is sent or recorded)."""
    es = es or _client(settings)
    now = now or datetime.now(UTC)
    names = IndexNames(settings.index_prefix)
    window = Window(since=now - timedelta(hours=hours), until=now)
    english = _english(es)
    result = evaluate(es, [watch], lambda w: window, names, english)
    if watch.watch_id in result.errors:
        raise WatchError(f"the search of watch {watch.name!r} failed: {result.errors[watch.watch_id]}")
    found = fetch_items(es, result.matches.get(watch.watch_id, []), watch.search.claims, names)
    items = order(list(found.values()))
    max_items = watch.max_items or settings.alert_max_items
    items = detailed_items(es, watch.search, items[:max_items], names, english) + items[max_items:]
    did = delivery_id(watch.watch_id, [match_id(watch.watch_id, i.doc_id) for i in items])
    return render(watch, items, did, max_items), items


def validate_search(es: Elasticsearch, settings: Settings, watch: Watch) -> None:
    """Run the watch's search once (no hits fetched): a syntax error or unknown field is refused here with
    the message `newswatch search` gives, instead of failing at every alert run."""
    from pipeline.alerts.evaluate import search_query
    from pipeline.search.api import search
    from pipeline.search.query import SearchError

    try:
        search(es, search_query(watch.search, size=0), settings)
    except SearchError as exc:
        raise WatchError(f"invalid search: {exc}") from exc


def add_watch(settings: Settings, watch: Watch, *, replace: bool = False, es: Elasticsearch | None = None) -> Watch:
    from pipeline.index.setup import ensure_indices

    es = es or _client(settings)
    ensure_indices(es, settings)
    validate_search(es, settings, watch)
    store, _ = stores(es, settings)
    return store.add(watch, replace=replace)
