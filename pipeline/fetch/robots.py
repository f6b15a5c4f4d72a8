"""robots.txt, fetched once per host and cached (RFC 9309: 4xx means allow all, 5xx or unreachable
means disallow all for now)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

from pipeline.outcomes import Outcome, Status

ROBOTS_MAX_BYTES = 512 * 1024


class RobotsResponse(Protocol):
    """What the cache needs of a fetch of robots.txt (an `HttpResult` is one)."""

    @property
    def status(self) -> int | None: ...

    @property
    def body(self) -> bytes | None: ...

    @property
    def failure(self) -> Outcome | None: ...


@dataclass
class _Entry:
    parser: RobotFileParser | None  # None: allow everything
    blocked_reason: str | None  # set: disallow everything (robots.txt unavailable)
    expires: float


class RobotsCache:
    def __init__(self, fetch: Callable[[str], Awaitable[RobotsResponse]], agent: str,
                 ttl: float = 3600.0, error_ttl: float = 300.0) -> None:
        self._fetch = fetch
        self._agent = agent
        self._ttl = ttl
        self._error_ttl = error_ttl
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self.fetches = 0

    async def refusal(self, url: str) -> str | None:
        """Why robots.txt forbids `url`, or None when allowed."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        entry = await self._entry(origin)
        if entry.blocked_reason:
            return entry.blocked_reason
        if entry.parser is not None and not entry.parser.can_fetch(self._agent, url):
            return f"robots.txt disallows {parts.path or '/'} for {self._agent}"
        return None

    async def _entry(self, origin: str) -> _Entry:
        entry = self._entries.get(origin)
        if entry is not None and entry.expires > time.monotonic():
            return entry
        lock = self._locks.setdefault(origin, asyncio.Lock())
        async with lock:
            entry = self._entries.get(origin)
            if entry is None or entry.expires <= time.monotonic():
                entry = await self._load(origin)
                self._entries[origin] = entry
            return entry

    async def _load(self, origin: str) -> _Entry:
        self.fetches += 1
        result = await self._fetch(origin + "/robots.txt")
        now = time.monotonic()
        status = result.status
        if result.body is not None and status is not None and 200 <= status < 300:
            parser = RobotFileParser()
            parser.parse(result.body.decode("utf-8", errors="replace").splitlines())
            return _Entry(parser, None, now + self._ttl)
        if status is not None and 400 <= status < 500:
            return _Entry(None, None, now + self._ttl)
        if result.failure is not None and result.failure.status == Status.TOO_LARGE:
            return _Entry(None, None, now + self._ttl)
        why = f"HTTP {status}" if status is not None else (result.failure.reason if result.failure else "no response")
        return _Entry(None, f"robots.txt unavailable ({why}); not fetching from this host for now",
                      now + self._error_ttl)
