"""Politeness slots: per-host and global bounds, and a cancelled wait that gives its slots back."""

import asyncio

from pipeline.fetch.politeness import Politeness


def test_in_flight_requests_stay_within_the_host_and_global_bounds():
    politeness = Politeness(per_host_concurrency=2, per_host_delay=0.0, global_concurrency=3)
    in_flight: dict[str, int] = {"a": 0, "b": 0}
    peaks = {"a": 0, "b": 0, "all": 0}

    async def request(host: str) -> None:
        async with politeness.slot(host):
            in_flight[host] += 1
            peaks[host] = max(peaks[host], in_flight[host])
            peaks["all"] = max(peaks["all"], sum(in_flight.values()))
            await asyncio.sleep(0.01)
            in_flight[host] -= 1

    async def main() -> None:
        await asyncio.gather(*(request(h) for h in "ab" * 6))

    asyncio.run(main())
    assert peaks == {"a": 2, "b": 2, "all": 3}


def test_a_cancelled_wait_gives_the_host_slot_back():
    politeness = Politeness(per_host_concurrency=1, per_host_delay=0.0, global_concurrency=1)

    async def enter(host: str) -> None:
        async with politeness.slot(host):
            await asyncio.sleep(10)

    async def main() -> None:
        async with politeness.slot("a"):  # holds the only global slot
            waiting = asyncio.create_task(enter("b"))  # takes host b's slot, then waits for the global one
            await asyncio.sleep(0.01)
            waiting.cancel()
            await asyncio.gather(waiting, return_exceptions=True)
        async with asyncio.timeout(1):
            async with politeness.slot("b"):
                pass

    asyncio.run(main())


def test_request_starts_are_spaced_by_the_per_host_delay():
    politeness = Politeness(per_host_concurrency=3, per_host_delay=0.05, global_concurrency=3)
    starts: list[float] = []

    async def request() -> None:
        async with politeness.slot("a"):
            starts.append(asyncio.get_running_loop().time())

    async def main() -> None:
        await asyncio.gather(*(request() for _ in range(3)))

    asyncio.run(main())
    assert min(b - a for a, b in zip(starts, starts[1:], strict=False)) >= 0.045
