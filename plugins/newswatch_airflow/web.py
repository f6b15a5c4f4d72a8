"""Operator pages mounted in the Airflow API server at /newswatch (see newswatch_plugin.py).

- /newswatch/feeds            Feed health: feeds by health class, articles and failures per hour over
                              48 hours, failures by reason over time, every feed sorted and paged
- /newswatch/feeds/{feed_id}  one feed: its state, volume, recent failures and articles
- /newswatch/search           Claim search by words, speaker and certainty
- /newswatch/watches          Watches: each watch's last match, last delivery, waiting matches, failures
- /newswatch/health           JSON: is Elasticsearch reachable

Every path needs a signed-in Airflow user who may read the UI (newswatch_airflow.auth). Pages are
server-rendered HTML with relative links, so they work inside the Airflow UI's iframe and behind a
proxy. Endpoints are sync: FastAPI runs them in its thread pool.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from newswatch_airflow import backend
from newswatch_airflow.auth import AirflowAuth
from newswatch_airflow.pages import feeds, search, watches

JSON_PATHS = ("/health",)

# no /docs, /redoc or /openapi.json: the app is for people signed in to Airflow, not a public API
app = FastAPI(title="newswatch", description="Feed health and claim search for newswatch operators",
              docs_url=None, redoc_url=None, openapi_url=None)
app.add_middleware(AirflowAuth, json_paths=JSON_PATHS)
app.include_router(feeds.router)
app.include_router(search.router)
app.include_router(watches.router)


@app.get("/health")
def health() -> JSONResponse:
    settings = backend.settings()
    try:
        info = backend.client(settings).info()
    except backend.ES_ERRORS as exc:
        return JSONResponse({"elasticsearch": "unreachable", "url": settings.es_url,
                             "error": backend.problem(exc, settings)}, status_code=503)
    return JSONResponse({"elasticsearch": "ok", "url": settings.es_url, "version": info["version"]["number"]})
