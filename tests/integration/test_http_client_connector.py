"""How HttpClient sets up its own connector, each setting observable on real sockets: the SSRF guard
at connect time holds even with the check before the hop switched off, connection limits hold even
when politeness would allow more, environment proxies are ignored, and every new connection is
resolved through the guard (aiohttp keeps no DNS cache of its own). The scripted server of
test_http_client.py."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import test_http_client as scripted
from test_http_client import STRICT, Reply, client, failure, ok

from pipeline.fetch import http as http_module
from pipeline.fetch.http import HttpClient
from pipeline.fetch.politeness import Politeness
from pipeline.outcomes import Status

pytestmark = pytest.mark.integration

serve, run = scripted.serve, scripted.run  # the fixtures: a scripted server, each event loop


@pytest.fixture
def no_check_before_the_hop(monkeypatch: pytest.MonkeyPatch) -> None:
    """Switch off the SSRF check that runs before every hop: only the connector's guard is left."""
    async def allow(url: str, policy: Any, resolver: Any) -> None:
        return None

    monkeypatch.setattr(http_module, "check_url", allow)


def test_the_connector_refuses_a_literal_address_on_its_own(serve, run, no_check_before_the_hop):
    server = serve(lambda n, i, head: Reply(ok()))

    async def main() -> Any:
        async with client(**STRICT) as http:
            return await http.get(server.url())

    result = run(main())
    assert failure(result) == (Status.REFUSED, "ssrf guard: 127.0.0.1 is a loopback address")
    assert result.final_url == server.url() and server.accepted == 0


def test_the_connector_refuses_a_resolved_address_on_its_own(serve, run, no_check_before_the_hop):
    server = serve(lambda n, i, head: Reply(ok()))

    async def to_loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def main() -> Any:
        async with client(resolver=to_loopback, **STRICT) as http:
            return await http.get(server.url(host="news.test"))

    assert failure(run(main())) == (Status.REFUSED, "ssrf guard: host news.test: 127.0.0.1 is a loopback address")
    assert server.accepted == 0


HOLD = 0.4  # seconds each answer is held back: the requests that arrive before the first answer are
# the ones the client let run at once


def first_wave_counter(arrivals: list[float]):
    def reply(n: int, i: int, head: bytes) -> Reply:
        arrivals.append(time.monotonic())
        return Reply(ok(), delay=HOLD)
    return reply


def first_wave(arrivals: list[float]) -> int:
    """Requests that arrived before any answer could have gone out (so before any slot was free)."""
    return sum(1 for t in arrivals if t < min(arrivals) + HOLD * 0.95)


def _permissive() -> Politeness:
    return Politeness(per_host_concurrency=100, per_host_delay=0.0, global_concurrency=100)


@pytest.mark.parametrize(("per_host", "total", "hosts", "expected"), [
    (1, 8, ["a.test"], 1),  # per host: at most per_host_concurrency connections
    (2, 8, ["a.test"], 2),
    (8, 1, [f"h{n}.test" for n in range(8)], 4),  # in all: global_concurrency, but never fewer than 4
    (8, 6, [f"h{n}.test" for n in range(8)], 6),
])
def test_the_connector_caps_connections_whatever_politeness_allows(serve, run, per_host, total, hosts, expected):
    arrivals: list[float] = []
    server = serve(first_wave_counter(arrivals))

    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def main() -> list[int | None]:
        settings = scripted.settings(per_host_concurrency=per_host, global_concurrency=total, total_timeout=30.0,
                                     read_timeout=10.0)
        async with HttpClient(settings, resolver=loopback, politeness=_permissive()) as http:
            urls = [server.url(f"/{n}", host=hosts[n % len(hosts)]) for n in range(8)]
            return [r.status for r in await asyncio.gather(*(http.get(u) for u in urls))]

    assert run(main()) == [200] * 8
    assert first_wave(arrivals) == expected


def test_proxies_from_the_environment_are_ignored(serve, run, monkeypatch):
    target = serve(lambda n, i, head: Reply(ok(b"direct")))
    proxy = serve(lambda n, i, head: Reply(ok(b"via proxy")))
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy.url("/"))
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)

    async def main() -> Any:
        async with client() as http:
            return await http.get(target.url())

    assert run(main()).body == b"direct"
    assert (target.accepted, proxy.accepted) == (1, 0)


def test_every_new_connection_is_resolved_through_the_guard(serve, run):
    """Connections that are not kept (Connection: close) are each resolved again, and each answer is
    checked: no DNS cache inside aiohttp, so nothing can reuse an answer the guard did not see."""
    server = serve(lambda n, i, head: Reply(ok(b"x", "Connection: close")))
    asked: list[str] = []

    async def counting(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"]

    async def main() -> list[bytes | None]:
        async with client(resolver=counting) as http:
            return [(await http.get(server.url(host="news.test"))).body for _ in range(3)]

    assert run(main()) == [b"x"] * 3
    assert server.accepted == 3
    assert asked == ["news.test"] * 6  # before each hop, and again for each of the three connections


def test_politeness_caps_the_whole_client_at_global_concurrency(serve, run):
    """Without a politeness object of its own, the client's allows `global_concurrency` requests at
    once, across hosts (below the connector's own floor of 4)."""
    arrivals: list[float] = []
    server = serve(first_wave_counter(arrivals))

    async def loopback(host: str, port: int) -> list[str]:
        return ["127.0.0.1"]

    async def main() -> None:
        async with client(resolver=loopback, global_concurrency=2, per_host_concurrency=4) as http:
            await asyncio.gather(*(http.get(server.url("/", host=f"h{n}.test")) for n in range(6)))

    run(main())
    assert first_wave(arrivals) == 2 and server.accepted >= 2


def test_the_default_resolver_is_the_systems(serve, run):
    server = serve(lambda n, i, head: Reply(ok(b"local")))

    async def main() -> Any:
        async with HttpClient(scripted.settings(allowed_private_networks="127.0.0.0/8,::1/128")) as http:
            return await http.get(server.url(host="localhost"))

    assert run(main()).body == b"local"


def test_failures_at_connect_time_name_the_url(serve, run, free_port):
    hanging = serve(lambda n, i, head: Reply(hang=True))
    answers: list[list[str]] = [["127.0.0.1"]]

    async def vanishing(host: str, port: int) -> list[str]:
        if not answers:
            raise OSError("Name or service not known")
        return answers.pop()

    async def main() -> list[Any]:
        async with client(resolver=vanishing, read_timeout=0.2) as http:
            gone = await http.get(hanging.url(host="flaky.test"))  # resolves for the check, not for the connect
            timed_out = await http.get(hanging.url())
            refused = await http.get(f"http://127.0.0.1:{free_port()}/x")
            return [gone, timed_out, refused]

    gone, timed_out, refused = run(main())
    assert failure(gone) == (Status.HTTP_ERROR, "dns: cannot resolve flaky.test: Name or service not known")
    assert gone.final_url == hanging.url(host="flaky.test")
    assert failure(timed_out) == (Status.TIMEOUT, "read timeout") and timed_out.final_url == hanging.url()
    assert failure(refused)[0] == Status.HTTP_ERROR and refused.final_url == refused.url
