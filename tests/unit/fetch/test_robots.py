"""RobotsCache over plain values: it needs a status, a body and a failure, not the HTTP client."""

import asyncio
import subprocess
import sys
from dataclasses import dataclass

from pipeline.fetch.robots import RobotsCache
from pipeline.outcomes import Outcome, Status


@dataclass
class Fetched:
    status: int | None = None
    body: bytes | None = None
    failure: Outcome | None = None


def refusals(answer: Fetched, *urls: str) -> tuple[list[str | None], int]:
    asked = []

    async def fetch(url: str) -> Fetched:
        asked.append(url)
        return answer

    async def run() -> list[str | None]:
        cache = RobotsCache(fetch, "newswatch")
        return [await cache.refusal(url) for url in urls]

    result = asyncio.run(run())
    assert set(asked) <= {"https://news.example/robots.txt"}
    return result, len(asked)


def test_rules_are_applied_and_fetched_once_per_origin():
    rules = Fetched(200, b"User-agent: newswatch\nDisallow: /private/\n")
    result, fetches = refusals(rules, "https://news.example/private/a", "https://news.example/ok")
    assert result == ["robots.txt disallows /private/a for newswatch", None]
    assert fetches == 1


def test_4xx_and_an_oversized_file_allow_everything_5xx_and_failures_nothing():
    assert refusals(Fetched(404), "https://news.example/a")[0] == [None]
    too_large = Fetched(failure=Outcome.failure(Status.TOO_LARGE, "body exceeds limit"))
    assert refusals(too_large, "https://news.example/a")[0] == [None]
    [down], _ = refusals(Fetched(503), "https://news.example/a")
    assert down == "robots.txt unavailable (HTTP 503); not fetching from this host for now"
    [timeout], _ = refusals(Fetched(failure=Outcome.failure(Status.TIMEOUT, "read timeout")), "https://news.example/a")
    assert timeout == "robots.txt unavailable (read timeout); not fetching from this host for now"


def test_robots_does_not_import_the_http_client():
    code = ("import sys, pipeline.fetch.robots; "
            "assert 'pipeline.fetch.http' not in sys.modules and 'aiohttp' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
