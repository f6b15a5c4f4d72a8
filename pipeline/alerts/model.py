"""The records of watchlists and alerts.

A `Watch` is stored in `<prefix>-watches` (id = its name): the definition (search, target, mode) the
CLI writes, and the `WatchState` the alert runs write (high-water mark, last match and delivery,
failures, pause reason, lease). The deliveries index `<prefix>-deliveries` holds two kinds of record:

    AlertMatch   one per (watch, matched claim or article); id `match_id(watch, doc)`; `state` pending ->
                 delivered; `delivery_id` once it is put in a message; `item` is the snapshot the message
                 is rendered from (so a re-send is the same message)
    Delivery     one per message; id `delivery_id(watch, match ids)`, which is also the idempotency key
                 the receiver sees; `state` sending -> delivered (or failed, with the reason)

Credentials never live here: a target names a webhook (`webhook:ops`, resolved from the
`newswatch_webhook_ops` Connection or NEWSWATCH_ALERT_WEBHOOKS) or e-mail recipients (`email:a@x,b@y`,
sent through `newswatch_smtp` or NEWSWATCH_SMTP_*).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from email.utils import parseaddr
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from pipeline.tagging.schema import CertaintyLevel

# matched words in `AlertItem.highlighted` (private-use characters: never in news text, escaped by no one);
# the renderer turns them into *bold* (Slack), <mark> (HTML) or [brackets] (plain text)
HL_PRE, HL_POST = "\ue000", "\ue001"

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]{0,62}")
WEBHOOK_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

Mode = Literal["immediate", "digest"]
Channel = Literal["webhook", "email"]


class WatchError(ValueError):
    """A watch the user has to fix (bad name, search or target); the message says how."""


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name or ""):
        raise WatchError(f"bad watch name {name!r}: use 1-63 lowercase letters, digits, '-', '_' or '.', "
                         "starting with a letter or digit (e.g. stoltenberg-nk)")
    return name


class Target(BaseModel):
    """Where a watch's messages go: a named webhook, or e-mail recipients. No credentials."""

    channel: Channel
    webhook: str | None = None
    recipients: list[str] = Field(default_factory=list)

    @classmethod
    def parse(cls, spec: str) -> Target:
        kind, sep, rest = (spec or "").partition(":")
        rest = rest.strip()
        if sep and kind == "webhook":
            if not WEBHOOK_NAME.fullmatch(rest):
                raise WatchError(f"bad webhook name {rest!r}: letters, digits, '-' and '_' only (it names the "
                                 "Connection newswatch_webhook_<name> or an entry of NEWSWATCH_ALERT_WEBHOOKS)")
            return cls(channel="webhook", webhook=rest)
        if sep and kind == "email":
            recipients = [r.strip() for r in rest.split(",") if r.strip()]
            bad = [r for r in recipients if not _is_address(r)]
            if not recipients or bad:
                raise WatchError(f"bad e-mail recipient(s) {', '.join(bad) or '(none)'}: use email:a@example.org,b@...")
            return cls(channel="email", recipients=recipients)
        raise WatchError(f"bad target {spec!r}: use webhook:NAME or email:ADDRESS[,ADDRESS...]")

    def spec(self) -> str:
        return f"webhook:{self.webhook}" if self.channel == "webhook" else "email:" + ",".join(self.recipients)


def _is_address(value: str) -> bool:
    _, addr = parseaddr(value)
    local, at, domain = addr.rpartition("@")
    return bool(at and local and "." in domain and not any(c.isspace() for c in addr))


class WatchSearch(BaseModel):
    """The same filters as `newswatch search` (pipeline.search.SearchQuery), minus paging and dates."""

    text: str = ""
    entities: list[str] = Field(default_factory=list)
    speakers: list[str] = Field(default_factory=list)
    certainty: CertaintyLevel | None = None
    sites: list[str] = Field(default_factory=list)
    claims: bool = False

    @field_validator("entities", "speakers", "sites")
    @classmethod
    def _strip(cls, values: list[str]) -> list[str]:
        return [v.strip() for v in values if v and v.strip()]

    @property
    def kind(self) -> Literal["claim", "article"]:
        return "claim" if self.claims else "article"

    def is_empty(self) -> bool:
        return not (self.text.strip() or self.entities or self.speakers or self.certainty or self.sites)

    def describe(self) -> str:
        parts = [repr(self.text)] if self.text else []
        parts += [f"--entity {e!r}" for e in self.entities] + [f"--speaker {s!r}" for s in self.speakers]
        parts += [f"--certainty {self.certainty}"] if self.certainty else []
        parts += [f"--site {s}" for s in self.sites] + (["--claims"] if self.claims else [])
        return " ".join(parts)


class WatchState(BaseModel):
    """Written by the alert runs. The high-water mark only moves once the matches up to it are recorded."""

    high_water_mark: datetime
    not_before: datetime | None = None  # the look-back never reaches before this (creation, resume --from-now)
    last_evaluated_at: datetime | None = None
    last_match_at: datetime | None = None
    last_delivery_at: datetime | None = None
    last_delivery_id: str | None = None
    last_digest_at: datetime | None = None
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    lease_owner: str | None = None
    lease_until: datetime | None = None


class Watch(BaseModel):
    watch_id: str
    name: str
    search: WatchSearch
    target: Target
    mode: Mode = "immediate"
    digest_hours: int = Field(default=24, ge=1, le=24 * 31)
    max_items: int | None = Field(default=None, ge=1, le=100)  # per message; default: Settings.alert_max_items
    description: str = ""
    created_at: datetime
    updated_at: datetime
    paused: bool = False
    paused_reason: str | None = None
    paused_at: datetime | None = None
    state: WatchState

    @classmethod
    def new(cls, name: str, search: WatchSearch, target: Target, *, mode: Mode = "immediate",
            digest_hours: int = 24, max_items: int | None = None, description: str = "",
            now: datetime | None = None) -> Watch:
        """A new watch; it sees what is indexed from now on (`watch test` shows the last 24 hours)."""
        now = now or datetime.now(UTC)
        check_name(name)
        if search.is_empty():
            raise WatchError("a watch needs a search: text and/or --entity/--speaker/--certainty/--site")
        return cls(watch_id=name, name=name, search=search, target=target, mode=mode, digest_hours=digest_hours,
                   max_items=max_items, description=description, created_at=now, updated_at=now,
                   state=WatchState(high_water_mark=now, not_before=now))

    def digest_due(self, now: datetime) -> bool:
        if self.mode != "digest":
            return True
        last = self.state.last_digest_at or self.created_at
        return (now - last).total_seconds() >= self.digest_hours * 3600


class AlertItem(BaseModel):
    """What a message says about one match (a snapshot: the message is rendered from it, also on re-sends)."""

    doc_kind: Literal["claim", "article"]
    doc_id: str
    article_id: str = ""
    title: str | None = None
    site: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    indexed_at: datetime | None = None
    speaker: str | None = None
    certainty: str | None = None
    claim_kind: str | None = None
    text: str = ""  # the claim (or, for an article, its best matching passage)
    highlighted: str = ""  # `text` with the matched words between HL_PRE and HL_POST


class AlertMatch(BaseModel):
    record: Literal["match"] = "match"
    match_id: str
    watch_id: str
    doc_kind: Literal["claim", "article"]
    doc_id: str
    matched_at: datetime
    state: Literal["pending", "delivered"] = "pending"
    delivery_id: str | None = None
    delivered_at: datetime | None = None
    item: AlertItem


class Delivery(BaseModel):
    record: Literal["delivery"] = "delivery"
    delivery_id: str  # also the idempotency key the receiver sees
    watch_id: str
    channel: Channel
    target: str  # Target.spec(): a name or addresses, never a credential
    match_ids: list[str] = Field(default_factory=list)
    match_count: int = 0
    state: Literal["sending", "delivered", "failed"] = "sending"
    attempts: int = 0
    created_at: datetime
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    last_error: str | None = None
    status_code: int | None = None
    # the matches the message lists, with highlights, fixed before the first send: a re-send is the same message
    shown: list[AlertItem] = Field(default_factory=list)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def match_id(watch_id: str, doc_id: str) -> str:
    """One match per watch and document, however often it is evaluated."""
    return _digest("match", watch_id, doc_id)


def delivery_id(watch_id: str, match_ids: Iterable[str]) -> str:
    """The message's id and idempotency key: the same watch and matches give the same key."""
    return _digest("delivery", watch_id, *sorted(match_ids))
