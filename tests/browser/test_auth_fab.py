"""The plugin's authentication and authorisation with the FAB auth manager (what docker-compose.yml runs),
through a real API server: anonymous callers go to FAB's login page or get 401, a FAB Viewer signs in on
that page in Chromium and reads the pages, and a role without DAG access gets 403 (FAB gives every role
"can read on Website", so that permission alone would let anyone in). Elasticsearch holds nothing under
this prefix: the pages say so instead of failing."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from airflow_server import FAB, get, serve, sign_in

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fab_server(tmp_path_factory: pytest.TempPathFactory, airflow_db_template: Path, es_url: str,
               free_port: object) -> Iterator[tuple[str, dict[str, str]]]:
    home = tmp_path_factory.mktemp("airflow-fab")
    prefix = f"t15f-{uuid.uuid4().hex[:8]}"
    with serve(home, airflow_db_template, es_url, prefix, free_port(), FAB) as server:  # type: ignore[operator]
        yield server


def test_fab_refuses_anonymous_callers_and_roles_without_dag_access(fab_server):
    url, passwords = fab_server
    status, headers, _ = get(f"{url}/newswatch/watches")
    assert status == 303
    login = urlsplit(headers["location"])
    assert login.path == "/auth/login/" and parse_qs(login.query)["next"] == ["/newswatch/watches"]
    assert get(f"{url}/newswatch/health")[0] == 401
    nobody = sign_in(url, "nobody", passwords["nobody"])
    status, _, body = get(f"{url}/newswatch/feeds", nobody)
    assert status == 403 and "Signed in as nobody" in body and "news_ingest" in body
    viewer = sign_in(url, "viewer", passwords["viewer"])
    status, _, body = get(f"{url}/newswatch/feeds", viewer)
    assert status == 200 and "No feed state yet" in body


def test_a_fab_viewer_gets_the_plugin_menu_entries(fab_server):
    """The UI builds Browse > Feed health ... from /api/v2/plugins, which FAB opens to Op and Admin only
    unless the Viewer role is given "can read on Plugins" (as compose's airflow-init does)."""
    url, passwords = fab_server
    status, _, body = get(f"{url}/api/v2/plugins", sign_in(url, "viewer", passwords["viewer"]))
    assert status == 200
    views = [v["name"] for p in json.loads(body)["plugins"] for v in p.get("external_views", [])]
    assert {"Feed health", "Claim search"} <= set(views)
    assert get(f"{url}/api/v2/plugins", sign_in(url, "nobody", passwords["nobody"]))[0] == 403


def test_a_fab_viewer_signs_in_on_the_fab_login_page(fab_server, browser, screenshots: Path):
    url, passwords = fab_server
    context = browser.new_context(viewport={"width": 1328, "height": 900})
    try:
        page = context.new_page()
        page.set_default_timeout(20_000)
        page.goto(f"{url}/newswatch/search")
        page.wait_for_url(re.compile(r"/auth/login/"))
        page.locator("input[name=username]").fill("viewer")
        page.locator("input[name=password]").fill(passwords["viewer"])
        page.locator("input[name=password]").press("Enter")
        page.wait_for_url(f"{url}/newswatch/search")
        assert page.locator(".who").inner_text() == "Signed in as viewer"
        page.get_by_label("Words in the claim").fill("anything")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url(re.compile(r"q=anything"))
        assert "Nothing to search yet." in page.locator(".notice").inner_text()  # no claims index yet
        page.screenshot(path=screenshots / "09-fab-claim-search-empty.png", full_page=True)
    finally:
        context.close()
