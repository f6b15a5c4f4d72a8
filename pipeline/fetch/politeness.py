"""Per-host politeness shared by the feed poller and the article fetcher:
at most `per_host_concurrency` requests in flight per host, and request starts spaced by
`per_host_delay` seconds. A host asking us to back off (Retry-After) is paused as a whole: callers
check `paused_for(host)` and skip it (with a reason) rather than sleeping through the pause.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field


@dataclass
class _Host:
    semaphore: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0
    paused_until: float = 0.0


class Politeness:
    def __init__(self, per_host_concurrency: int = 2, per_host_delay: float = 1.0,
                 global_concurrency: int = 32) -> None:
        self.per_host_concurrency = max(1, per_host_concurrency)
        self.per_host_delay = max(0.0, per_host_delay)
        self._global = asyncio.Semaphore(max(1, global_concurrency))
        self._hosts: dict[str, _Host] = {}

    def _host(self, key: str) -> _Host:
        host = self._hosts.get(key)
        if host is None:
            host = self._hosts[key] = _Host(asyncio.Semaphore(self.per_host_concurrency))
        return host

    def pause(self, key: str, seconds: float) -> None:
        """Mark `key` as asking us to stay away for `seconds` (Retry-After, 429, 503)."""
        host = self._host(key)
        host.paused_until = max(host.paused_until, time.monotonic() + seconds)

    def paused_for(self, key: str) -> float:
        """Seconds left in a pause of `key` (0 when not paused)."""
        host = self._hosts.get(key)
        return max(0.0, host.paused_until - time.monotonic()) if host else 0.0

    def slot(self, key: str) -> _Slot:
        """`async with politeness.slot(host):` holds a request slot for `host`, spacing request starts
        by the per-host delay."""
        return _Slot(self, self._host(key))


class _Slot:
    __slots__ = ("_politeness", "_host")

    def __init__(self, politeness: Politeness, host: _Host) -> None:
        self._politeness = politeness
        self._host = host

    async def __aenter__(self) -> None:
        host = self._host
        delay = self._politeness.per_host_delay
        await host.semaphore.acquire()
        try:
            if delay > 0:
                async with host.lock:
                    wait = host.next_start - time.monotonic()
                    if wait > 0:
                        await asyncio.sleep(wait)
                    host.next_start = time.monotonic() + delay
            await self._politeness._global.acquire()
        except BaseException:
            host.semaphore.release()
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._politeness._global.release()
        self._host.semaphore.release()
