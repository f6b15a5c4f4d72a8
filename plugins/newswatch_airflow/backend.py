"""What the pages read from: the Settings (Airflow Connection and Variable, else NEWSWATCH_* variables)
and one long-lived Elasticsearch client per cluster configuration. A client per request would throw
away its connection pool and re-probe the cluster's features (`detect_features` caches per client)
on every search.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from elastic_transport import TransportError
from elasticsearch import ApiError

from pipeline.config import Settings, load_settings
from pipeline.index.errors import IndexLayerError

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

log = logging.getLogger(__name__)

PAGE_REQUEST_TIMEOUT = 5.0  # seconds: a page says "unavailable" rather than hang
# what talking to Elasticsearch may raise; anything else is a bug and shows as one
ES_ERRORS: tuple[type[BaseException], ...] = (IndexLayerError, ApiError, TransportError)

SETTINGS_TTL = 30.0  # seconds: a changed Connection or Variable shows within this

_lock = threading.Lock()
_clients: dict[str, Elasticsearch] = {}
_settings: tuple[float, tuple[tuple[str, str], ...], Settings] | None = None


def settings() -> Settings:
    """The pages' Settings, looked up at most every SETTINGS_TTL seconds (a page view should not cost
    two metadata-database queries), and at once when the NEWSWATCH_* or Airflow environment changes."""
    global _settings
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith(("NEWSWATCH_", "AIRFLOW_CONN_",
                                                                              "AIRFLOW_VAR_"))))
    now = time.monotonic()
    cached = _settings
    if cached is not None and cached[1] == env and now - cached[0] < SETTINGS_TTL:
        return cached[2]
    fresh = _load_settings()
    _settings = (now, env, fresh)
    return fresh


def _load_settings() -> Settings:
    try:
        from newswatch_airflow.config import settings_from_airflow

        return settings_from_airflow()
    except Exception as exc:  # no metadata database here (e.g. a unit test): the environment decides
        log.debug("falling back to environment settings: %s", exc)
        return load_settings()


def client(s: Settings) -> Elasticsearch:
    from pipeline.es import client_from_settings, client_kwargs

    key = repr(sorted((k, repr(v)) for k, v in client_kwargs(s).items()))
    with _lock:
        es = _clients.get(key)
        if es is None:
            es = client_from_settings(s).options(request_timeout=PAGE_REQUEST_TIMEOUT, max_retries=0)
            _clients[key] = es
        return es


def problem(exc: BaseException, s: Settings) -> str:
    """What went wrong talking to Elasticsearch, for a person: no stack, no pipeline advice."""
    from elastic_transport import ConnectionError as TransportConnectionError
    from elastic_transport import ConnectionTimeout
    from elasticsearch import ApiError

    from pipeline.index.errors import ClusterUnavailable

    cause: Any = exc.__cause__ if isinstance(exc, ClusterUnavailable) and exc.__cause__ else exc
    if isinstance(cause, ConnectionTimeout):
        return f"Elasticsearch at {s.es_url} did not answer within {PAGE_REQUEST_TIMEOUT:g} s"
    if isinstance(cause, TransportConnectionError) or isinstance(exc, ClusterUnavailable):
        return f"Elasticsearch at {s.es_url} is not reachable"
    if isinstance(cause, ApiError):
        if cause.meta.status in (401, 403):
            return (f"Elasticsearch at {s.es_url} refused newswatch's credentials (HTTP {cause.meta.status}); "
                    "check the elasticsearch_default connection")
        return f"Elasticsearch at {s.es_url} answered HTTP {cause.meta.status} ({cause.message})"
    return f"Elasticsearch at {s.es_url} answered unexpectedly: {str(exc)[:200]}"
