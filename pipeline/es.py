"""The one place an Elasticsearch client is built from Settings (Airflow's Connection maps onto Settings)."""

from __future__ import annotations

from typing import Any

from elasticsearch import Elasticsearch

from pipeline.config import Settings


def es_hosts(settings: Settings) -> list[str]:
    """The node URLs of `es_url`: one, or several comma-separated (a cluster without a load balancer;
    the client spreads requests over them and retries a request on another node when one is down)."""
    return [url.strip() for url in settings.es_url.split(",") if url.strip()]


def client_kwargs(settings: Settings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "hosts": es_hosts(settings),
        "request_timeout": settings.es_request_timeout,
        "retry_on_timeout": True,
        "max_retries": 2,
    }
    if settings.es_api_key:
        kwargs["api_key"] = settings.es_api_key
    elif settings.es_username:
        kwargs["basic_auth"] = (settings.es_username, settings.es_password or "")
    if settings.es_url.startswith("https"):
        kwargs["verify_certs"] = settings.es_verify_certs
        if settings.es_ca_certs:
            kwargs["ca_certs"] = settings.es_ca_certs
    return kwargs


def client_from_settings(settings: Settings) -> Elasticsearch:
    return Elasticsearch(**client_kwargs(settings))
