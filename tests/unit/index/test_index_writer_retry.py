"""The writer retries 429/5xx items with backoff (an in-process stand-in for the _bulk API; the real node is
exercised in tests/integration/search_index)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.config import load_settings
from pipeline.es import client_from_settings
from pipeline.index.synthetic import recombined_corpus
from pipeline.index.writer import IndexWriter


class FakeBulk(BaseHTTPRequestHandler):
    bulk_calls: list[int] = []
    fail_first_with = 429

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _reply(self, body: dict, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("X-Elastic-Product", "Elasticsearch")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if "/_mget" in self.path:
            ids = json.loads(raw)["ids"]
            return self._reply({"docs": [{"_id": i, "found": False} for i in ids]})
        if "/_search" in self.path:
            return self._reply({"_scroll_id": "s", "hits": {"total": {"value": 0}, "hits": []}})
        if "/_bulk" in self.path:
            lines = [json.loads(x) for x in raw.splitlines() if x.strip()]
            headers = [x for x in lines if set(x) & {"index", "delete"}]
            FakeBulk.bulk_calls.append(len(headers))
            first = len(FakeBulk.bulk_calls) == 1
            items = []
            for n, h in enumerate(headers):
                op, meta = next(iter(h.items()))
                status = FakeBulk.fail_first_with if first and n == 0 else 201
                item = {"_index": meta["_index"] + "-v1", "_id": meta["_id"], "status": status}
                if status >= 300:
                    item["error"] = {"type": "es_rejected_execution_exception", "reason": "queue full"}
                items.append({op: item})
            return self._reply({"took": 1, "errors": any("error" in next(iter(i.values())) for i in items),
                                "items": items})
        return self._reply({"error": "unexpected " + self.path}, 400)

    do_PUT = do_POST  # noqa: N815 - the client sends _bulk as PUT
    do_GET = do_POST  # noqa: N815

    def do_DELETE(self) -> None:  # noqa: N802 - clearing the scroll
        self._reply({"succeeded": True})


@pytest.fixture
def fake_es():
    FakeBulk.bulk_calls = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeBulk)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.mark.parametrize("status", [429, 503])
def test_rejected_items_are_retried_then_succeed(fake_es, status):
    FakeBulk.fail_first_with = status
    settings = load_settings(env={}, es_url=fake_es, index_prefix="nw")
    writer = IndexWriter(client_from_settings(settings), settings, initial_backoff=0.01)
    batch = list(recombined_corpus(2, seed=1))
    report = writer.write(batch)
    assert report.ok and report.indexed == 2
    actions = sum(len(t.tags.claims) + 1 for t in batch)
    assert FakeBulk.bulk_calls == [actions, 1]  # only the rejected item went again


def test_items_still_rejected_after_the_retries_are_reported_as_retryable(fake_es):
    FakeBulk.fail_first_with = 429
    settings = load_settings(env={}, es_url=fake_es, index_prefix="nw")
    writer = IndexWriter(client_from_settings(settings), settings, max_retries=0)
    report = writer.write(list(recombined_corpus(2, seed=1)))
    assert report.indexed == 1 and len(report.failed) == 1
    assert report.failed[0].retryable and "es_rejected_execution_exception" in report.failed[0].outcome.reason
