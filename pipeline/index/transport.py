"""Translate the client's transport errors into ClusterUnavailable at the index layer's boundary."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch

from pipeline.index.errors import ClusterUnavailable

# whole-request answers that mean "the cluster cannot take this now" (per-item 429/5xx are retried instead)
OVERLOADED = frozenset({429, 502, 503, 504})


def cluster_url(es: Elasticsearch) -> str:
    try:
        return ", ".join(node.base_url for node in es.transport.node_pool.all())
    except Exception:  # noqa: BLE001 - only used in messages
        return "?"


def unavailable(exc: BaseException, es: Elasticsearch, *, indexed_ids: list[str] | None = None,
                pending_ids: list[str] | None = None) -> ClusterUnavailable | None:
    """A ClusterUnavailable for connection-level failures, or None when `exc` is something else."""
    if isinstance(exc, ClusterUnavailable):
        if indexed_ids is not None and not exc.indexed_ids:
            exc.indexed_ids = list(indexed_ids)
        if pending_ids is not None and not exc.pending_ids:
            exc.pending_ids = list(pending_ids)
        return exc
    if isinstance(exc, ApiError) and exc.meta.status in OVERLOADED:
        url = cluster_url(es)
        return ClusterUnavailable(
            f"Elasticsearch at {url} answered HTTP {exc.meta.status} ({exc.message}); it is overloaded or has "
            "no master: nothing was dropped, retry the batch later",
            url=url, indexed_ids=indexed_ids, pending_ids=pending_ids,
        )
    if isinstance(exc, TransportConnectionError | ConnectionTimeout):
        url = cluster_url(es)
        kind = "timed out" if isinstance(exc, ConnectionTimeout) else "is unreachable"
        return ClusterUnavailable(
            f"Elasticsearch at {url} {kind} ({type(exc).__name__}: {exc}); nothing was dropped, "
            "retry the batch later (ids are deterministic, so re-sending is safe)",
            url=url, indexed_ids=indexed_ids, pending_ids=pending_ids,
        )
    return None


@contextmanager
def translated(es: Elasticsearch) -> Iterator[None]:
    """Run a block against Elasticsearch; a connection-level failure leaves it as ClusterUnavailable."""
    try:
        yield
    except Exception as exc:
        if (err := unavailable(exc, es)) is not None:
            raise err from exc
        raise
