"""Feed configuration -> feed state (the feeds_sync DAG), and operator actions on one feed.

`sync_feeds` loads the feeds file (or an OPML file, whose new feeds are merged into the feeds file
first, since news_ingest schedules from that file) and gives every configured feed a state
document, so it shows on the Feed health page and is due at once. `set_feed` pauses, resumes or
resets one feed's state.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.jobs.ingest import es_client, state_store

log = logging.getLogger(__name__)

ACTIONS = ("pause", "resume", "reset")
PAUSED_REASON = "paused by operator"


class FeedActionError(ValueError):
    """An unknown action or feed id; nothing was changed."""


def _store(settings: Settings) -> Any:
    """The feed-state store, after this run's set-up step (templates, indices, aliases)."""
    from pipeline.index.setup import ensure_indices

    es = es_client(settings)
    ensure_indices(es, settings)
    return state_store(es, settings)


def _is_opml(path: Path) -> bool:
    if path.suffix.lower() in (".opml", ".xml"):
        return True
    return path.read_text(encoding="utf-8", errors="replace")[:500].lstrip().startswith("<")


def sync_feeds(settings: Settings, source: str | None = None) -> dict[str, Any]:
    """Load feeds into state; returns counts, invalid entries (with reasons) and orphaned states."""
    from pipeline.feeds.catalog import dump_feeds_yaml, import_opml, load_feeds, merge_feeds
    from pipeline.feeds.state import FeedState

    feeds_file = Path(settings.feeds_file)
    path = Path(source) if source else feeds_file
    added_to_file = 0
    if path != feeds_file and _is_opml(path):
        imported = import_opml(path)
        current = load_feeds(feeds_file) if feeds_file.exists() else None
        merged, added_to_file = merge_feeds(current.feeds if current else [], imported.feeds)
        if added_to_file:
            feeds_file.write_text(dump_feeds_yaml(merged), encoding="utf-8")
        loaded, errors = merged, imported.errors + (current.errors if current else [])
    else:
        result = load_feeds(path)
        loaded, errors = result.feeds, result.errors

    store = _store(settings)
    states = store.get_many(f.id for f in loaded)
    new = [FeedState(feed_id=f.id, url=f.url) for f in loaded if f.id not in states]
    store.put_many(new)
    configured = {f.id for f in loaded}
    orphaned = sorted(s.feed_id for s in store.all() if s.feed_id not in configured)
    for e in errors:
        log.warning("invalid feed entry: %s", e)
    return {"source": str(path), "feeds": len(loaded), "new_states": len(new), "added_to_feeds_file": added_to_file,
            "invalid": [str(e) for e in errors], "orphaned_states": orphaned}


def set_feed(settings: Settings, action: str, feed_id: str) -> dict[str, Any]:
    """pause: stop polling; resume: poll again (failures cleared); reset: forget validators, backoff
    and dedup memory, so the next run polls the feed from scratch."""
    from pipeline.feeds.state import FeedState

    if action not in ACTIONS:
        raise FeedActionError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}")
    if not feed_id:
        raise FeedActionError(f"action {action!r} needs a feed_id")
    store = _store(settings)
    state = store.get(feed_id)
    if state is None:
        raise FeedActionError(f"no feed state for {feed_id!r}; run the sync action first")
    if action == "pause":
        state = state.model_copy(update={"disabled": True, "disabled_reason": PAUSED_REASON})
    elif action == "resume":
        state = state.model_copy(update={"disabled": False, "disabled_reason": None, "consecutive_failures": 0,
                                         "next_poll_at": None, "retry_after_until": None})
    else:
        state = FeedState(feed_id=feed_id, url=state.url)
    store.put(state)
    return {"feed_id": feed_id, "action": action, "disabled": state.disabled}
