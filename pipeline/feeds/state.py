"""Per-feed polling state (validators, schedule, failures, dedup memory) behind a small store
interface, so it survives restarts: Elasticsearch (`newswatch-feeds`), a JSON file (CLI without
Elasticsearch), or memory (tests).

`FEED_STATE_MAPPING` is the Elasticsearch mapping of `FeedState`; the index templates derive from it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from pydantic import BaseModel, Field

from pipeline.index.transport import translated

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

log = logging.getLogger(__name__)

RECENT_HASHES = 2000  # GUID and URL hashes remembered per feed (oldest dropped first)


RECENT_POLLS = 20  # polls kept per feed for the operators' page (older ones are counted, not kept)


class PollRecord(BaseModel):
    """One poll, as the Feed health page lists it."""

    at: datetime
    status: str
    http_status: int | None = None
    new_entries: int = 0
    entries_seen: int = 0
    reason: str = ""
    elapsed_ms: float | None = None


class FeedState(BaseModel):
    feed_id: str
    url: str | None = None  # the configured URL
    permanent_url: str | None = None  # where a permanent redirect sent us
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    status: str = "new"  # outcome status of the last poll
    reason: str = ""
    http_status: int | None = None
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_new_entries_at: datetime | None = None
    next_poll_at: datetime | None = None
    retry_after_until: datetime | None = None
    interval: int | None = None  # current adaptive interval, seconds
    hint_interval: int | None = None  # from the feed's ttl / sy:updatePeriod
    new_ratio: float | None = None
    consecutive_failures: int = 0
    total_polls: int = 0
    total_new_entries: int = 0
    last_entry_count: int = 0
    disabled: bool = False
    disabled_reason: str | None = None
    parse_warning: str | None = None  # bozo problem recorded even when recovered
    recent_hashes: list[str] = Field(default_factory=list)
    recent_polls: list[PollRecord] = Field(default_factory=list)  # newest last

    def record_poll(self, poll: PollRecord) -> None:
        self.recent_polls = [*self.recent_polls, poll][-RECENT_POLLS:]

    def remember(self, hashes: Iterable[str]) -> None:
        known = set(self.recent_hashes)
        fresh: list[str] = []
        for h in hashes:
            if h not in known:
                known.add(h)
                fresh.append(h)
        self.recent_hashes = (self.recent_hashes + fresh)[-RECENT_HASHES:]


_DATE = {"type": "date"}
_KW = {"type": "keyword"}
FEED_STATE_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "feed_id": _KW,
        "url": _KW,
        "permanent_url": _KW,
        "etag": {"type": "keyword", "index": False},
        "last_modified": {"type": "keyword", "index": False},
        "body_hash": {"type": "keyword", "index": False},
        "status": _KW,
        "reason": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
        "http_status": {"type": "short"},
        "last_polled_at": _DATE,
        "last_success_at": _DATE,
        "last_new_entries_at": _DATE,
        "next_poll_at": _DATE,
        "retry_after_until": _DATE,
        "interval": {"type": "integer"},
        "hint_interval": {"type": "integer"},
        "new_ratio": {"type": "float"},
        "consecutive_failures": {"type": "integer"},
        "total_polls": {"type": "long"},
        "total_new_entries": {"type": "long"},
        "last_entry_count": {"type": "integer"},
        "disabled": {"type": "boolean"},
        "disabled_reason": {"type": "text"},
        "parse_warning": {"type": "text"},
        "recent_hashes": {"type": "keyword", "index": False, "doc_values": False},
        "recent_polls": {"type": "object", "enabled": False},  # kept for the page, never searched
    },
}


@runtime_checkable
class FeedStateStore(Protocol):
    def get(self, feed_id: str) -> FeedState | None: ...

    def get_many(self, feed_ids: Iterable[str]) -> dict[str, FeedState]: ...

    def put(self, state: FeedState) -> None: ...

    def put_many(self, states: Iterable[FeedState]) -> None: ...

    def all(self) -> list[FeedState]: ...


class InMemoryFeedStateStore:
    def __init__(self) -> None:
        self._states: dict[str, str] = {}  # stored serialised, so callers never share objects

    def get(self, feed_id: str) -> FeedState | None:
        raw = self._states.get(feed_id)
        return FeedState.model_validate_json(raw) if raw else None

    def get_many(self, feed_ids: Iterable[str]) -> dict[str, FeedState]:
        return {i: s for i in feed_ids if (s := self.get(i)) is not None}

    def put(self, state: FeedState) -> None:
        self._states[state.feed_id] = state.model_dump_json()

    def put_many(self, states: Iterable[FeedState]) -> None:
        for s in states:
            self.put(s)

    def all(self) -> list[FeedState]:
        return [FeedState.model_validate_json(r) for r in self._states.values()]


class JsonFileFeedStateStore(InMemoryFeedStateStore):
    """All states in one JSON file, rewritten atomically on every put."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._lock = threading.Lock()
        if self.path.exists():
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
            self._states = {k: json.dumps(v) for k, v in data.items()}

    def put(self, state: FeedState) -> None:
        self.put_many([state])

    def put_many(self, states: Iterable[FeedState]) -> None:
        with self._lock:
            for s in states:
                self._states[s.feed_id] = s.model_dump_json()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = {k: json.loads(v) for k, v in self._states.items()}
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".feed-state-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh)
            os.replace(tmp, self.path)


class ElasticsearchFeedStateStore:
    """One document per feed (id = feed_id) in the feeds alias. The index comes from the explicit
    set-up step (`pipeline.index.setup.ensure_indices`); the store never creates it. Connection
    failures surface as `ClusterUnavailable`."""

    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    def get(self, feed_id: str) -> FeedState | None:
        return self.get_many([feed_id]).get(feed_id)

    def get_many(self, feed_ids: Iterable[str]) -> dict[str, FeedState]:
        ids = list(dict.fromkeys(feed_ids))
        if not ids:
            return {}
        with translated(self.es):
            resp = self.es.mget(index=self.index, ids=ids)
        return {d["_id"]: FeedState.model_validate(d["_source"]) for d in resp["docs"] if d.get("found")}

    def put(self, state: FeedState) -> None:
        self.put_many([state])

    def put_many(self, states: Iterable[FeedState]) -> None:
        from elasticsearch import helpers

        actions = [{"_op_type": "index", "_index": self.index, "_id": s.feed_id,
                    "_source": s.model_dump(mode="json")} for s in states]
        if actions:
            with translated(self.es):
                helpers.bulk(self.es, actions)  # get and mget are realtime: no refresh to wait for

    def all(self) -> list[FeedState]:
        from elasticsearch import helpers

        with translated(self.es):
            return [FeedState.model_validate(h["_source"])
                    for h in helpers.scan(self.es, index=self.index, query={"query": {"match_all": {}}})]
