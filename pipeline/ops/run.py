"""One `_msearch` round trip for all the queries of a page.

A missing index reads as empty (a fresh cluster before `newswatch index setup` shows empty pages, not
errors); a connection failure is `ClusterUnavailable`; any other per-query error is `OpsQueryError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipeline.index.errors import IndexLayerError
from pipeline.index.transport import translated

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch


class OpsQueryError(IndexLayerError):
    """Elasticsearch refused one of a page's queries (e.g. a mapping older than the code)."""


def msearch(es: Elasticsearch, searches: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Run (index, body) searches together; the responses in the same order."""
    body: list[dict[str, Any]] = []
    for index, request in searches:
        body += [{"index": index, "ignore_unavailable": True, "allow_no_indices": True}, request]
    with translated(es):
        resp = es.msearch(searches=body)
    out: list[dict[str, Any]] = []
    for (index, _), answer in zip(searches, resp["responses"], strict=True):
        if "error" in answer:
            error = answer["error"]
            reason = error.get("reason") if isinstance(error, dict) else str(error)
            cause = (error.get("root_cause") or [{}])[0].get("reason") if isinstance(error, dict) else None
            raise OpsQueryError(f"Elasticsearch refused a query on {index}: {cause or reason}")
        out.append(answer)
    return out


def hits(resp: dict[str, Any]) -> list[dict[str, Any]]:
    return list(resp.get("hits", {}).get("hits", []))


def total(resp: dict[str, Any]) -> int:
    value = resp.get("hits", {}).get("total", 0)
    return int(value.get("value", 0) if isinstance(value, dict) else value)
