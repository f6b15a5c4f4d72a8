"""Fixtures of the browser tests: a real Airflow API server with the repo's plugin (airflow_server.py),
headless Chromium driven by Playwright, and the screenshot folder.

`api_server` runs SimpleAuthManager with two known users (`viewer` with the viewer role, `nobody` with
none), pointed at the test Elasticsearch node with a little real data (tests/plugin_sample.py), and
stops at the end, failing when any process of its group is left. `browser` is Debian's Chromium
(installed by scripts/system-packages); without it the browser tests skip and say so.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from airflow_server import REPO, migrated_db, serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = REPO / "test-output" / "screenshots"


@dataclass(frozen=True)
class ApiServer:
    url: str
    passwords: dict[str, str]
    prefix: str
    sample: object  # plugin_sample.Sample
    log: Path


@pytest.fixture(scope="session")
def airflow_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once (about 5 s of CPU); every server starts from a copy."""
    folder = tmp_path_factory.mktemp("airflow-db")
    (folder / "dags").mkdir()
    return migrated_db(folder)


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory, airflow_db_template: Path, es_url: str,
               es_client: object, free_port: object) -> Iterator[ApiServer]:
    """SimpleAuthManager (Airflow's default, what `airflow standalone` uses) and the sample data."""
    from plugin_sample import index_sample

    from pipeline.config import load_settings
    from pipeline.index.setup import drop_prefix

    home = tmp_path_factory.mktemp("airflow-api-server")
    prefix = f"t15b-{uuid.uuid4().hex[:8]}"
    sample = index_sample(es_client, load_settings({}, es_url=es_url, index_prefix=prefix))
    try:
        with serve(home, airflow_db_template, es_url, prefix, free_port()) as (url, passwords):  # type: ignore[operator]
            yield ApiServer(url=url, passwords=passwords, prefix=prefix, sample=sample, log=home / "api-server.log")
    finally:
        drop_prefix(es_client, prefix)


# module scope: Playwright's sync API keeps an event loop running in this thread while it is open, and
# code after the browser tests (asyncio.run in the fetcher) must find none
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"no browser: {CHROMIUM} is missing (scripts/system-packages installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
