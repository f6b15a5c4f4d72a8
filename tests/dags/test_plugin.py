"""The newswatch Airflow plugin: it loads through Airflow's plugin manager, every path of its app needs a
signed-in Airflow user who may read the UI (through Airflow's own app, auth manager and JWT), and its
pages say plainly when Elasticsearch is down. Pages over real data: test_plugin_pages_es.py; in a real
browser against a real API server: tests/browser."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from plugin_client import client, token


@pytest.fixture(scope="module", autouse=True)
def _db(airflow_db):  # token revocation is looked up in the metadata database
    return airflow_db


@pytest.fixture
def es_down(monkeypatch):
    monkeypatch.setenv("NEWSWATCH_ES_URL", "http://127.0.0.1:9")  # nothing listens on the discard port
    monkeypatch.delenv("AIRFLOW_CONN_ELASTICSEARCH_DEFAULT", raising=False)


def test_plugin_loads_with_app_and_nav_entries():
    from airflow import plugins_manager

    plugins, errors = plugins_manager._get_plugins()
    assert not {k: v for k, v in errors.items() if "newswatch" in k}
    (plugin,) = [p for p in plugins if p.name == "newswatch"]
    apps, _ = plugins_manager.get_fastapi_plugins()
    assert any(a["url_prefix"] == "/newswatch" for a in apps)
    routes = {v.get("url_route") for v in plugin.external_views}
    assert {"newswatch-feeds", "newswatch-search", "newswatch-watches"} <= routes
    assert all(not v["href"].startswith("/") for v in plugin.external_views)  # relative, proxy-safe


@pytest.mark.parametrize("path", ["/newswatch/feeds", "/newswatch/feeds/some-feed", "/newswatch/search?q=x",
                                  "/newswatch/watches", "/newswatch/no-such-page", "/newswatch/docs"])
def test_anonymous_page_requests_go_to_the_login_page_and_come_back(path):
    r = client(None).get(path)
    assert r.status_code == 303
    target = urlsplit(r.headers["location"])
    assert target.path.endswith("/auth/login")
    assert parse_qs(target.query)["next"] == [path]


def test_anonymous_json_gets_401_and_is_not_served_anything():
    r = client(None).get("/newswatch/health")
    assert r.status_code == 401 and r.json() == {"detail": "Not authenticated"}
    assert r.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("credential", ["garbage", "expired"])
def test_an_invalid_or_expired_token_counts_as_signed_out(credential):
    bad = token("viewer", expires_in=-60) if credential == "expired" else "not-a-jwt"
    c = client(None)
    c.cookies.set("_token", bad)
    assert c.get("/newswatch/feeds").status_code == 303
    assert client(None).get("/newswatch/health", headers={"Authorization": f"Bearer {bad}"}).status_code == 401


def test_a_signed_in_user_without_permission_gets_403():
    c = client("")  # a SimpleAuthManager user without a role may read nothing
    r = c.get("/newswatch/feeds")
    assert r.status_code == 403 and "Signed in as viewer" in r.text and "viewer access" in r.text
    assert c.get("/newswatch/health").status_code == 403
    assert c.get("/newswatch/health").json()["detail"].startswith("Signed in as viewer")


@pytest.mark.parametrize("role", ["viewer", "user", "op", "admin"])
def test_every_role_from_viewer_up_sees_the_pages(role, es_down):
    r = client(role).get("/newswatch/search")
    assert r.status_code == 200 and "<form" in r.text and "Signed in as viewer" in r.text


def test_a_bearer_token_works_too_and_wins_over_the_cookie(es_down):
    c = client("")  # the cookie alone would be refused
    r = c.get("/newswatch/health", headers={"Authorization": f"Bearer {token('viewer')}"})
    assert r.status_code == 503 and r.json()["elasticsearch"] == "unreachable"


def test_no_openapi_or_docs_even_when_signed_in():
    c = client("admin")
    for path in ("/newswatch/openapi.json", "/newswatch/docs", "/newswatch/redoc"):
        assert c.get(path).status_code == 404


def test_pages_say_once_and_plainly_that_elasticsearch_is_down(es_down):
    c = client("viewer")
    for path, title in (("/newswatch/feeds", "Feed health"), ("/newswatch/feeds/wire", "Feed wire"),
                        ("/newswatch/watches", "Watches")):
        r = c.get(path)
        assert r.status_code == 503, path
        assert f"{title} is unavailable." in r.text and "http://127.0.0.1:9 is not reachable" in r.text
        assert "newswatch es status" in r.text and "retry" not in r.text.lower()
        assert r.text.count("is not reachable") == 1
    assert c.get("/newswatch/health").json()["elasticsearch"] == "unreachable"


def test_search_keeps_its_form_when_elasticsearch_is_down(es_down):
    r = client("viewer").get("/newswatch/search", params={"q": "North Korea", "speaker": "Jens Stoltenberg"})
    assert r.status_code == 503
    assert 'value="North Korea"' in r.text and 'value="Jens Stoltenberg"' in r.text and "<form" in r.text
    assert "Search is unavailable right now." in r.text and r.text.count("is not reachable") == 1
    assert "batch" not in r.text and "retry" not in r.text.lower()


def test_outlets_appear_only_for_stories_seen_in_more_than_one_outlet():
    from newswatch_airflow.pages.search import _outlets

    assert _outlets(SimpleNamespace()) == ""  # a search without story clustering
    assert _outlets(SimpleNamespace(story=None)) == ""
    assert _outlets(SimpleNamespace(story={"id": "s1", "size": 1, "outlets": ["a.example"]})) == ""
    many = _outlets(SimpleNamespace(story={"id": "s2", "size": 3, "outlets": ["a.example", "b.example"],
                                           "first_seen_at": "2026-01-01T00:00:00Z",
                                           "first_url": "https://a.example/x"}))
    assert ">2 outlets</a>" in many and 'href="https://a.example/x"' in many and "a.example, b.example" in many
    assert ">3 copies<" in _outlets(SimpleNamespace(story=SimpleNamespace(size=3, outlets=None, first_url=None)))
    counted = SimpleNamespace(size=9, outlets=["a.example"], outlet_count=4, first_url=None)
    assert ">4 outlets<" in _outlets(SimpleNamespace(story=counted))  # the outlets shown may be fewer


def test_search_page_sort_parameters_map_to_the_search_sort():
    from newswatch_airflow.pages.search import columns, sort_of

    assert sort_of("", "", words=True) == ("relevance", "relevance", True)
    assert sort_of("", "", words=False) == ("relevance", "published", True)  # newest first without words
    assert sort_of("published", "asc", words=True) == ("oldest", "published", False)
    assert sort_of("published", "", words=True) == ("newest", "published", True)
    assert sort_of("speaker", "desc", words=False) == ("speaker", "speaker", False)  # A to Z only
    assert sort_of("checkworthiness", "asc", words=False) == ("checkworthiness", "checkworthiness", True)
    assert sort_of("<script>", "x", words=False) == ("relevance", "published", True)
    assert [c.sort for c in columns(words=False)] == ["", "speaker", "", "published", "", "checkworthiness"]
    assert columns(words=True)[0].sort == "relevance"


def test_websockets_are_closed_unopened():
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as closed, client("admin").websocket_connect("/newswatch/feeds"):
        pass
    assert closed.value.code == 1008


def test_only_http_links_are_made_from_the_data():
    from newswatch_airflow.pages.html import link

    assert link("javascript:alert(1)", "x") == "x" and link("JavaScript:alert(1)") == "JavaScript:alert(1)"
    assert link("https://a.example/<b>", "A & B").startswith('<a href="https://a.example/&lt;b&gt;" target="_blank"')
