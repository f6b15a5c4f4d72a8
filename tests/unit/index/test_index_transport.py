"""Transport failures become ClusterUnavailable at the index layer's boundary; other errors do not."""

from __future__ import annotations

from elastic_transport import ApiResponseMeta, ConnectionError, HttpHeaders, NodeConfig
from elasticsearch import ApiError, Elasticsearch

from pipeline.index.errors import ClusterUnavailable
from pipeline.index.transport import unavailable

ES = Elasticsearch("http://127.0.0.1:9")


def _api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status=status, http_version="1.1", headers=HttpHeaders(), duration=0.0,
                           node=NodeConfig("http", "127.0.0.1", 9))
    return ApiError(message="x", meta=meta, body={"error": {"type": "x", "reason": "y"}})


def test_connection_errors_and_overload_are_cluster_unavailable():
    err = unavailable(ConnectionError("refused"), ES, indexed_ids=["a"], pending_ids=["b"])
    assert isinstance(err, ClusterUnavailable) and err.retryable
    assert "http://127.0.0.1:9 is unreachable" in str(err) and err.indexed_ids == ["a"] and err.pending_ids == ["b"]
    busy = unavailable(_api_error(503), ES)
    assert isinstance(busy, ClusterUnavailable) and "HTTP 503" in str(busy)


def test_bad_requests_are_not_unavailability():
    assert unavailable(_api_error(400), ES) is None
    assert unavailable(ValueError("bug"), ES) is None


def test_ids_are_filled_into_an_existing_error():
    first = ClusterUnavailable("down")
    assert unavailable(first, ES, pending_ids=["p"]) is first and first.pending_ids == ["p"]
