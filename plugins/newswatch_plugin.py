"""The newswatch Airflow plugin: operator pages in the Airflow UI (Airflow 3.1+ plugin interface).

- a FastAPI app at /newswatch (feed health, claim search, watches, health JSON): newswatch_airflow/web.py;
- nav entries under Browse that show those pages inside the Airflow UI;
- a nav link to Kibana, only when NEWSWATCH_KIBANA_URL is set (a link to a default address that
  may serve nothing would be a dead end).
"""

from __future__ import annotations

import os

from airflow.plugins_manager import AirflowPlugin

from pipeline.config import ENV_VARS


def kibana_link() -> list[dict[str, str]]:
    """The Kibana nav entry, when NEWSWATCH_KIBANA_PUBLIC_URL (the address browsers use; in the compose
    stack NEWSWATCH_KIBANA_URL is the containers' own) or NEWSWATCH_KIBANA_URL says where Kibana is."""
    url = (os.environ.get(ENV_VARS["kibana_public_url"], "").strip()
           or os.environ.get(ENV_VARS["kibana_url"], "").strip())
    return [{"name": "Kibana", "href": url, "destination": "nav", "category": "browse"}] if url else []


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
        *kibana_link(),
    ]
