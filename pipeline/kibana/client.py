"""Import saved objects through Kibana's saved objects API (`POST /api/saved_objects/_import`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from pipeline.config import Settings


class KibanaImportError(Exception):
    """Kibana could not be reached, refused the credentials, or rejected the file."""


@dataclass
class ImportResult:
    success: bool
    success_count: int
    errors: list[str] = field(default_factory=list)


def _auth_headers(settings: Settings) -> tuple[dict[str, str], httpx.BasicAuth | None]:
    headers = {"kbn-xsrf": "newswatch"}
    user = settings.kibana_username or settings.es_username
    password = settings.kibana_password if settings.kibana_username else settings.es_password
    if user:
        return headers, httpx.BasicAuth(user, password or "")
    if settings.es_api_key:
        headers["Authorization"] = f"ApiKey {settings.es_api_key}"
    return headers, None


def import_saved_objects(ndjson: str, settings: Settings, url: str | None = None, *, overwrite: bool = True,
                         timeout: float = 60.0) -> ImportResult:
    base = (url or settings.kibana_url).rstrip("/")
    space = f"/s/{settings.kibana_space}" if settings.kibana_space else ""
    endpoint = f"{base}{space}/api/saved_objects/_import"
    headers, auth = _auth_headers(settings)
    verify: Any = settings.es_ca_certs or settings.es_verify_certs
    try:
        resp = httpx.post(endpoint, params={"overwrite": str(overwrite).lower()}, headers=headers, auth=auth,
                          files={"file": ("saved_objects.ndjson", ndjson.encode("utf-8"), "application/ndjson")},
                          timeout=timeout, verify=verify)
    except httpx.HTTPError as exc:
        raise KibanaImportError(f"cannot reach Kibana at {base}: {type(exc).__name__}: {exc}") from exc
    if resp.status_code in (401, 403):
        raise KibanaImportError(f"Kibana at {base} refused the credentials (HTTP {resp.status_code}); "
                                "set NEWSWATCH_KIBANA_USERNAME/NEWSWATCH_KIBANA_PASSWORD")
    try:
        body = resp.json()
    except ValueError:
        body = {}
    if resp.status_code >= 400 or not isinstance(body, dict):
        message = body.get("message") if isinstance(body, dict) else None
        raise KibanaImportError(f"Kibana rejected the import (HTTP {resp.status_code}): "
                                f"{message or resp.text[:300]}")
    errors = [f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type', '')} "
              f"{e.get('error', {}).get('message', '')}".strip() for e in body.get("errors", []) or []]
    return ImportResult(bool(body.get("success")), int(body.get("successCount", 0)), errors)
