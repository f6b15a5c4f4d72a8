"""Watches in `<prefix>-watches`: one document per watch, id = its name.

The CLI writes the definition; alert runs write `state` with partial updates and optimistic concurrency
(`if_seq_no`/`if_primary_term`), so a pause typed while a run is going is never overwritten. A run takes a
per-watch **lease** before it delivers, so overlapping runs (the asset-triggered and the cron-triggered
news_alerts, a manual trigger) never send a watch's messages twice. The index comes from the explicit
set-up step (`pipeline.index.setup.ensure_indices`); the store never creates it. Connection failures
surface as `ClusterUnavailable`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from elasticsearch import ApiError, ConflictError, NotFoundError

from pipeline.alerts.model import Watch, WatchError, WatchState
from pipeline.index.transport import translated

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

log = logging.getLogger(__name__)

CAS_TRIES = 8


class WatchNotFound(WatchError):
    """No watch by that name."""


class WatchStore:
    def __init__(self, es: Elasticsearch, index: str) -> None:
        self.es = es
        self.index = index

    # definitions ----------------------------------------------------------------------------------

    def add(self, watch: Watch, *, replace: bool = False) -> Watch:
        """Store a new watch; `replace` keeps the state (high-water mark, failures) of an existing one."""
        with translated(self.es):
            if replace:
                current = self.get(watch.name, missing_ok=True)
                if current is not None:
                    watch = watch.model_copy(update={"state": current.state, "created_at": current.created_at,
                                                     "paused": current.paused, "paused_reason": current.paused_reason,
                                                     "paused_at": current.paused_at})
                self.es.index(index=self.index, id=watch.watch_id, document=watch.model_dump(mode="json"))
                return watch
            try:
                self.es.create(index=self.index, id=watch.watch_id, document=watch.model_dump(mode="json"))
            except ConflictError:
                raise WatchError(f"a watch named {watch.name!r} exists already (use --replace to change it)") from None
        return watch

    def get(self, name: str, *, missing_ok: bool = False) -> Watch | None:
        with translated(self.es):
            try:
                doc = self.es.get(index=self.index, id=name)
            except NotFoundError:
                if missing_ok:
                    return None
                raise WatchNotFound(f"no watch named {name!r} (see `newswatch watch list`)") from None
        return Watch.model_validate(doc["_source"])

    def get_many(self, names: list[str]) -> dict[str, Watch]:
        if not names:
            return {}
        with translated(self.es):
            resp = self.es.mget(index=self.index, ids=names)
        return {d["_id"]: Watch.model_validate(d["_source"]) for d in resp["docs"] if d.get("found")}

    def all(self) -> list[Watch]:
        """Every watch, by name; remembers each one's version for `update_states`."""
        from elasticsearch import helpers

        with translated(self.es):
            try:
                self.es.indices.refresh(index=self.index)
            except NotFoundError:  # before `newswatch index setup`: no watches yet
                return []
            hits = list(helpers.scan(self.es, index=self.index, query={"query": {"match_all": {}}},
                                     seq_no_primary_term=True))
        self._versions = {h["_id"]: (h["_seq_no"], h["_primary_term"]) for h in hits}
        return sorted((Watch.model_validate(h["_source"]) for h in hits), key=lambda w: w.name)

    def active(self) -> list[Watch]:
        return [w for w in self.all() if not w.paused]

    def remove(self, name: str) -> None:
        with translated(self.es):
            try:
                self.es.delete(index=self.index, id=name)
            except NotFoundError:
                raise WatchNotFound(f"no watch named {name!r}") from None

    def pause(self, name: str, reason: str, now: datetime | None = None) -> Watch:
        now = now or datetime.now(UTC)
        return self.modify(name, lambda w: {"paused": True, "paused_reason": reason, "paused_at": now.isoformat(),
                                            "updated_at": now.isoformat()})

    def resume(self, name: str, *, from_now: bool = False, now: datetime | None = None) -> Watch:
        """Resume; what was indexed while paused is still evaluated unless `from_now`. Failures are cleared,
        so undelivered messages are retried on the next run."""
        now = now or datetime.now(UTC)

        def change(w: Watch) -> dict[str, Any]:
            state: dict[str, Any] = {"consecutive_failures": 0}
            if from_now:
                state["high_water_mark"] = state["not_before"] = now.isoformat()
            return {"paused": False, "paused_reason": None, "paused_at": None, "updated_at": now.isoformat(),
                    "state": state}

        return self.modify(name, change)

    # state: read-modify-write with optimistic concurrency ------------------------------------------

    def modify(self, name: str, change: Callable[[Watch], dict[str, Any] | None]) -> Watch:
        """Apply `change(watch) -> partial document` (None: nothing to do) with a compare-and-set, retried
        when someone else wrote in between. Returns the watch as written."""
        for _ in range(CAS_TRIES):
            with translated(self.es):
                try:
                    doc = self.es.get(index=self.index, id=name)
                except NotFoundError:
                    raise WatchNotFound(f"no watch named {name!r}") from None
                watch = Watch.model_validate(doc["_source"])
                partial = change(watch)
                if not partial:
                    return watch
                try:
                    self.es.update(index=self.index, id=name, doc=partial, if_seq_no=doc["_seq_no"],
                                   if_primary_term=doc["_primary_term"])
                except ConflictError:
                    continue
            merged = _merge(watch.model_dump(mode="json"), partial)
            return Watch.model_validate(merged)
        raise RuntimeError(f"watch {name!r} kept changing under {CAS_TRIES} tries; try again")

    def update_state(self, name: str, change: Callable[[WatchState], dict[str, Any] | None]) -> Watch | None:
        """Partial update of `state` (None when the watch was removed meanwhile)."""
        def wrap(w: Watch) -> dict[str, Any] | None:
            partial = change(w.state)
            return {"state": partial} if partial else None
        try:
            return self.modify(name, wrap)
        except WatchNotFound:
            return None

    def update_states(self, partials: dict[str, dict[str, Any]]) -> None:
        """Many `state` updates in one bulk, each conditional on the version `all()` read; those that lost a
        race (or were not read by `all()`) go through `update_state` one by one."""
        from elasticsearch import helpers

        versions = getattr(self, "_versions", {})
        actions = [{"_op_type": "update", "_index": self.index, "_id": name, "doc": {"state": partial},
                    "if_seq_no": versions[name][0], "if_primary_term": versions[name][1]}
                   for name, partial in partials.items() if name in versions]
        retry = [name for name in partials if name not in versions]
        with translated(self.es):
            for ok, info in helpers.streaming_bulk(self.es, actions, raise_on_error=False, yield_ok=True):
                (_, item), = info.items()
                versions.pop(item.get("_id"), None)  # used: a second update needs a fresh read
                if not ok and item.get("status") != 404:
                    retry.append(item["_id"])
        for name in retry:
            self.update_state(name, lambda s, p=partials[name]: p)

    def acquire(self, name: str, owner: str, seconds: float, now: datetime | None = None) -> Watch | None:
        """Take the watch's lease for `seconds` (None: another run holds it, or the watch is gone)."""
        now = now or datetime.now(UTC)
        until = (now + timedelta(seconds=seconds)).isoformat()
        taken: list[bool] = []

        def change(state: WatchState) -> dict[str, Any] | None:
            taken.clear()
            if state.lease_owner not in (None, owner) and state.lease_until and state.lease_until > now:
                return None
            taken.append(True)
            return {"lease_owner": owner, "lease_until": until}

        watch = self.update_state(name, change)
        return watch if watch is not None and taken else None

    def release(self, name: str, owner: str) -> None:
        try:
            self.update_state(name, lambda s: {"lease_owner": None, "lease_until": None}
                              if s.lease_owner == owner else None)
        except ApiError as exc:  # the lease expires by itself
            log.warning("could not release the lease on watch %s: %s", name, exc)


def _merge(base: dict[str, Any], partial: dict[str, Any]) -> dict[str, Any]:
    """Elasticsearch's partial-update merge: objects merge recursively, everything else replaces."""
    out = dict(base)
    for key, value in partial.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
