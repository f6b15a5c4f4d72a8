"""The newswatch Airflow plugin: operator pages in the Airflow UI (Airflow 3.1+ plugin interface).

- a FastAPI app at /newswatch (feed health, claim search, watches, health JSON): newswatch_airflow/web.py;
- nav entries under Browse that show those pages inside the Airflow UI;
- a nav link to Kibana (NEWSWATCH_KIBANA_URL, default http://127.0.0.1:5601).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from pipeline.config import load_settings

KIBANA_URL = load_settings().kibana_url


def _app():  # noqa: ANN202 - FastAPI is imported only when the API server loads plugins
    from newswatch_airflow.web import app

    return app


class NewswatchPlugin(AirflowPlugin):
    name = "newswatch"
    fastapi_apps = [{"app": _app(), "url_prefix": "/newswatch", "name": "newswatch"}]
    external_views = [
        {"name": "Feed health", "href": "newswatch/feeds", "url_route": "newswatch-feeds",
         "destination": "nav", "category": "browse"},
        {"name": "Claim search", "href": "newswatch/search", "url_route": "newswatch-search",
         "destination": "nav", "category": "browse"},
        {"name": "Watches", "href": "newswatch/watches", "url_route": "newswatch-watches",
         "destination": "nav", "category": "browse"},
        {"name": "Kibana", "href": KIBANA_URL, "destination": "nav", "category": "browse"},
    ]
