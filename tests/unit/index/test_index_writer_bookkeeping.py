"""The bulk writer's bookkeeping, item by item, against a scripted stand-in for the cluster's HTTP API
(the real node is in tests/integration/search_index): which article a bulk item belongs to, when an
article counts as acknowledged, transient versus permanent rejections, stale claims, events, and
the already-indexed lookup. (Mutation testing found these unpinned: scripts/mutation writer.)"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pipeline.config import load_settings
from pipeline.es import client_from_settings
from pipeline.index.documents import claim_doc_id
from pipeline.index.errors import ClusterUnavailable
from pipeline.index.synthetic import ClaimSpec, EntitySpec, tagged_article
from pipeline.index.writer import (
    RETRY_STATUSES,
    BulkFailure,
    IndexReport,
    IndexWriter,
    ItemResult,
    existing_article_ids,
)
from pipeline.outcomes import Outcome, Status
from pipeline.records import Event

PREFIX = "nw"
TEXT = ('"There is no doubt that North Korea is arming Russia," Jens Stoltenberg said.\n\n'
        'Exports rose by 40 percent last year. Prices may rise again.')
SHARDS = {"total": 1, "successful": 1, "skipped": 0, "failed": 0}
JS = EntitySpec("person:jens-stoltenberg", "Jens Stoltenberg", "PERSON")


def article(url: str, *claims: str):
    return tagged_article(url, TEXT, title=url, entities=[JS],
                          claims=[ClaimSpec(c, kind="assertion") for c in claims])


@dataclass
class Cluster:
    """What the stand-in answers. Each callback gets the parsed request and returns (status, body)."""

    # article id -> claim_ids in its stored document ("no claim_ids": stored by a version without the field)
    stored_claims: dict[str, Any] = field(default_factory=dict)
    scan_hits: list[dict[str, Any]] = field(default_factory=list)  # claims a query by article id finds
    item_status: Callable[[str, str, dict[str, Any]], int] = lambda op, index, meta: 201
    item_error: dict[str, Any] = field(default_factory=lambda: {"type": "mapper_parsing_exception",
                                                                "reason": "failed to parse field [published_at]"})
    mget_status: int = 200
    search_status: int = 200
    drop_bulk_after: int | None = None  # close the connection instead of answering bulk number n+1
    bulk_status: int = 200  # answer every bulk request as a whole with this status (an error: no items)
    rename_index: Callable[[str, str], str] = lambda index, doc_id: index  # the _index an item comes back with
    requests: list[tuple[str, str, dict[str, list[str]], Any]] = field(default_factory=list)
    bulks: list[list[tuple[str, str, str]]] = field(default_factory=list)  # (op, index, id) per bulk request


def _handler(cluster: Cluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("X-Elastic-Product", "Elasticsearch")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, kind: str) -> None:
            self._reply(status, {"error": {"type": kind, "reason": kind}, "status": status})

        def _any(self) -> None:
            parts = urlsplit(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
            query = parse_qs(parts.query)
            if parts.path.endswith("/_bulk"):
                lines = [json.loads(x) for x in raw.splitlines() if x.strip()]
                cluster.requests.append((self.command, parts.path, query, lines))
                return self._bulk(lines)
            body = json.loads(raw) if raw.strip() else None
            cluster.requests.append((self.command, parts.path, query, body))
            if parts.path.endswith("/_mget"):
                if cluster.mget_status != 200:
                    return self._error(cluster.mget_status, "index_not_found_exception")
                docs = []
                for i in body["ids"]:
                    stored = cluster.stored_claims.get(i, "absent")
                    doc: dict[str, Any] = {"_id": i, "found": stored != "absent"}
                    if isinstance(stored, list):
                        doc["_source"] = {"claim_ids": stored}
                    elif stored == "no claim_ids":
                        doc["_source"] = {}
                    docs.append(doc)
                return self._reply(200, {"docs": docs})
            if parts.path.endswith("/_search"):  # the scan's first page
                if cluster.search_status != 200:
                    return self._error(cluster.search_status, "index_not_found_exception")
                hits = [{"_id": h["_id"], "_source": {"article_id": h["article_id"]}} for h in cluster.scan_hits]
                return self._reply(200, {"_scroll_id": "s1", "_shards": SHARDS,
                                         "hits": {"total": {"value": len(hits)}, "hits": hits}})
            if parts.path.endswith("/_search/scroll"):
                if self.command == "DELETE":
                    return self._reply(200, {"succeeded": True, "num_freed": 1})
                return self._reply(200, {"_scroll_id": "s1", "_shards": SHARDS, "hits": {"total": {"value": 0}, "hits": []}})
            return self._reply(400, {"error": f"unexpected {self.command} {self.path} {raw[:200]}"})

        def _bulk(self, lines: list[dict[str, Any]]) -> None:
            if cluster.bulk_status != 200:
                cluster.bulks.append([])
                return self._error(cluster.bulk_status, "illegal_argument_exception")
            if cluster.drop_bulk_after is not None and len(cluster.bulks) >= cluster.drop_bulk_after:
                self.close_connection = True
                self.connection.shutdown(2)
                return
            items, seen = [], []
            for line in lines:
                if not (set(line) & {"index", "delete"}):
                    continue
                op, meta = next(iter(line.items()))
                seen.append((op, meta["_index"], meta["_id"]))
                status = cluster.item_status(op, meta["_index"], meta)
                item = {"_index": cluster.rename_index(f"{meta['_index']}-v1", meta["_id"]), "_id": meta["_id"],
                        "status": status}
                if status >= 300:
                    item["error"] = cluster.item_error if status != 404 else {"type": "not_found", "reason": "gone"}
                items.append({op: item})
            cluster.bulks.append(seen)
            self._reply(200, {"took": 1, "errors": any(i[next(iter(i))]["status"] >= 300 for i in items),
                              "items": items})

        do_GET = do_POST = do_PUT = do_DELETE = _any  # noqa: N815 - http.server API

    return Handler


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    scripted = Cluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(scripted))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    scripted.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield scripted
    server.shutdown()
    server.server_close()


def _writer(cluster: Cluster, **kw: Any) -> IndexWriter:
    settings = load_settings(env={}, es_url=cluster.url, index_prefix=PREFIX, es_request_timeout=5)  # type: ignore[attr-defined]
    es = client_from_settings(settings).options(max_retries=0)
    return IndexWriter(es, settings, initial_backoff=0.001, max_backoff=0.001, **kw)


def _claim_ids(tagged) -> list[str]:
    return [claim_doc_id(tagged.article.article_id, c.id) for c in tagged.tags.claims]


def test_nothing_to_write_asks_nothing(cluster):
    report = _writer(cluster).write([])
    assert (report.items, report.duplicates, report.ok) == ([], 0, True)
    assert _writer(cluster).record_events([]).indexed == 0
    assert existing_article_ids(_writer(cluster).es, [], load_settings(env={}, index_prefix=PREFIX)) == set()
    assert cluster.requests == []


def test_claims_go_first_and_the_last_version_of_an_article_wins(cluster):
    first, other = article("https://a.example/1", "Prices may rise again"), article("https://a.example/2")
    newer = article("https://a.example/1", "Exports rose by 40 percent last year")
    report = _writer(cluster, refresh="wait_for").write([first, other, newer])
    assert report.duplicates == 1 and [i.article_id for i in report.items] == [
        first.article.article_id, other.article.article_id]
    (bulk,) = cluster.bulks
    assert bulk == [("index", "nw-claims", _claim_ids(newer)[0]), ("index", "nw-articles", newer.article.article_id),
                    ("index", "nw-articles", other.article.article_id)]
    assert next(r for r in cluster.requests if r[1].endswith("/_bulk"))[2].get("refresh") == ["wait_for"]
    assert report.claims_indexed == 1 and report.indexed == 2 and report.ok
    assert report.summary() == "2 article(s) indexed, 0 failed, 1 claim(s) indexed, 0 stale claim(s) removed"
    mget = next(r for r in cluster.requests if r[1].endswith("/_mget"))
    assert mget[1] == "/nw-articles/_mget" and mget[3]["ids"] == [first.article.article_id, other.article.article_id]
    assert mget[2].get("_source_includes") == ["claim_ids"]  # the stored claim ids, not whole articles
    assert [(i.transient, i.retryable, i.errors) for i in report.items] == [(False, False, [])] * 2
    sources = [line for line in next(r for r in cluster.requests if r[1].endswith("/_bulk"))[3]
               if "indexed_at" in line]
    stamps = {line["indexed_at"] for line in sources}
    assert len(sources) == 3 and len(stamps) == 1  # one timestamp for the whole write ...
    assert stamps.pop().endswith(("+00:00", "Z"))  # ... in UTC


def test_no_refresh_parameter_unless_asked(cluster):
    _writer(cluster).write([article("https://a.example/1")])
    bulk = next(r for r in cluster.requests if r[1].endswith("/_bulk"))
    assert "refresh" not in bulk[2]


def _status_for(failing: dict[str, int]) -> Callable[[str, str, dict[str, Any]], int]:
    return lambda op, index, meta: failing.get(meta["_id"], 201)


def test_a_rejected_claim_fails_its_article_only_and_says_why(cluster, caplog):
    good, bad = article("https://a.example/good", "Prices may rise again"), article("https://a.example/bad",
                                                                                   "Prices may rise again")
    bad_claim = _claim_ids(bad)[0]
    cluster.item_status = _status_for({bad_claim: 400})
    cluster.item_error = {"type": "mapper_parsing_exception", "reason": "bad date",
                          "caused_by": {"type": "illegal_argument_exception", "reason": "not a date"}}
    report = _writer(cluster).write([good, bad])
    assert [i.ok for i in report.items] == [True, False]
    failed = report.items[1]
    assert failed.outcome.status == Status.INDEX_ERROR and not failed.transient and not failed.retryable
    assert failed.outcome.reason == (
        f"rejected by Elasticsearch (permanent): claims/{bad_claim}: [400] mapper_parsing_exception: bad date "
        "(caused by illegal_argument_exception: not a date)")
    assert failed.errors == [failed.outcome.reason.removeprefix("rejected by Elasticsearch (permanent): ")]
    assert (failed.claims_indexed, report.items[0].claims_indexed) == (0, 1)
    assert report.summary() == "1 article(s) indexed, 1 failed, 1 claim(s) indexed, 0 stale claim(s) removed"
    assert f"article {bad.article.article_id} not indexed: {failed.outcome.reason}" in caplog.messages
    # only the articles that were stored get their stale claims looked up
    scan = next(r for r in cluster.requests if r[1].endswith("/_search"))
    assert scan[3]["query"]["bool"]["filter"] == [{"terms": {"article_id": [good.article.article_id]}}]


@pytest.mark.parametrize(("statuses", "transient"), [
    ([429], True), ([503], True), ([500, 502, 504], True), ([400], False), ([429, 400], False), ([409], False),
])
def test_rejections_are_transient_only_when_every_one_is(cluster, statuses, transient):
    tagged = article("https://a.example/t", "Prices may rise again", "Exports rose by 40 percent last year")
    ids = [*_claim_ids(tagged), tagged.article.article_id]
    cluster.item_status = _status_for(dict(zip(ids, statuses, strict=False)))
    (item,) = _writer(cluster, max_retries=0).write([tagged]).items
    assert item.transient is transient and item.retryable is transient
    assert len(item.errors) == len(statuses)
    assert item.outcome.reason.startswith("rejected by Elasticsearch (permanent): ") is not transient


def test_a_write_block_is_transient_whatever_its_status(cluster):
    tagged = article("https://a.example/blocked")
    cluster.item_status = _status_for({tagged.article.article_id: 403})
    cluster.item_error = {"type": "cluster_block_exception", "reason": "index [nw-articles-v1] blocked by: [FORBIDDEN/8/index write (api)];"}
    (item,) = _writer(cluster, max_retries=0).write([tagged]).items
    assert item.transient and item.retryable and not item.ok
    assert item.outcome.reason.startswith(f"articles/{tagged.article.article_id}: [403] cluster_block_exception: ")


def test_stale_claims_are_deleted_once_the_new_set_is_stored(cluster, caplog):
    tagged = article("https://a.example/re", "Prices may rise again", "Exports rose by 40 percent last year")
    aid = tagged.article.article_id
    kept, fresh = _claim_ids(tagged)
    cluster.stored_claims = {aid: [f"{aid}:old1", kept]}  # from the stored article's claim_ids
    cluster.scan_hits = [{"_id": f"{aid}:old2", "article_id": aid}, {"_id": f"{aid}:old3", "article_id": aid}]
    cluster.item_status = lambda op, index, meta: {f"{aid}:old3": 404}.get(meta["_id"], 200 if op == "delete" else 201)
    report = _writer(cluster).write([tagged])
    index_bulk, delete_bulk = cluster.bulks
    assert {i for _, _, i in index_bulk} == {kept, fresh, aid}
    assert delete_bulk == [("delete", "nw-claims", f"{aid}:old1"), ("delete", "nw-claims", f"{aid}:old2"),
                           ("delete", "nw-claims", f"{aid}:old3")]
    scan = next(r for r in cluster.requests if r[1].endswith("/_search"))
    assert scan[1] == "/nw-claims/_search" and scan[3]["_source"] == ["article_id"]
    query = scan[3]["query"]["bool"]
    assert query["filter"] == [{"terms": {"article_id": [aid]}}]
    assert [sorted(c["ids"]["values"]) for c in query["must_not"]] == [sorted([kept, fresh])]
    (item,) = report.items
    assert (item.claims_indexed, item.claims_deleted) == (2, 2)  # old3 was already gone (404): no warning
    assert report.claims_deleted == 2 and report.ok
    assert not [m for m in caplog.messages if "could not delete" in m]
    assert scan[2].get("size") == ["1000"] or scan[3].get("size") == 1000


def test_an_article_without_claims_has_every_stored_claim_removed(cluster):
    tagged = article("https://a.example/none")
    aid = tagged.article.article_id
    cluster.scan_hits = [{"_id": f"{aid}:x", "article_id": aid}]
    cluster.item_status = lambda op, index, meta: 200 if op == "delete" else 201
    report = _writer(cluster).write([tagged])
    scan = next(r for r in cluster.requests if r[1].endswith("/_search"))
    assert scan[3]["query"]["bool"] == {"filter": [{"terms": {"article_id": [aid]}}], "must_not": []}
    assert report.claims_deleted == 1


def test_a_failed_delete_of_a_stale_claim_is_logged_not_counted(cluster, caplog):
    tagged = article("https://a.example/d")
    aid = tagged.article.article_id
    cluster.scan_hits = [{"_id": f"{aid}:x", "article_id": aid}]
    cluster.item_status = lambda op, index, meta: 500 if op == "delete" else 201
    report = _writer(cluster, max_retries=0).write([tagged])
    assert report.ok and report.claims_deleted == 0
    assert caplog.messages == [f"could not delete stale claim {aid}:x: mapper_parsing_exception: failed to parse "
                               "field [published_at]"]


def test_missing_indices_mean_nothing_stored_yet(cluster):
    cluster.mget_status = cluster.search_status = 404
    report = _writer(cluster).write([article("https://a.example/new", "Prices may rise again")])
    assert report.ok and report.claims_deleted == 0


@pytest.mark.parametrize("where", ["mget", "search"])
def test_other_refusals_while_looking_up_stored_claims_are_raised(cluster, where):
    from elasticsearch import ApiError

    setattr(cluster, f"{where}_status", 400)
    with pytest.raises(ApiError) as raised:
        _writer(cluster).write([article("https://a.example/x")])
    assert raised.value.meta.status == 400 and not isinstance(raised.value, ClusterUnavailable)


def test_when_the_cluster_goes_away_mid_batch_the_acknowledged_articles_are_named(cluster):
    batch = [article(f"https://a.example/{n}", "Prices may rise again") for n in range(4)]
    cluster.drop_bulk_after = 1  # chunk_size 3: the first bulk holds article 0 (claim + doc) and 1's claim
    with pytest.raises(ClusterUnavailable) as raised:
        _writer(cluster, chunk_size=3, max_retries=0).write(batch)
    ids = [t.article.article_id for t in batch]
    assert raised.value.indexed_ids == ids[:1]
    assert raised.value.pending_ids == ids[1:]
    assert f"Elasticsearch at {cluster.url} is unreachable" in str(raised.value)


def test_events_are_indexed_and_failures_reported_per_event(cluster):
    from datetime import UTC, datetime

    events = [Event(event_id=f"ev-{n}", at=datetime.now(UTC), stage="fetch", status="timeout", reason="slow",
                    retryable=True, url=f"https://a.example/{n}") for n in range(3)]
    cluster.item_status = _status_for({"ev-1": 400})
    report = _writer(cluster).record_events(events)
    assert report.indexed == 2
    assert report.failures == [BulkFailure("ev-1", "nw-events-v1", 400,
                                           "mapper_parsing_exception: failed to parse field [published_at]")]
    assert not report.failures[0].retryable
    assert cluster.bulks == [[("index", "nw-events", f"ev-{n}") for n in range(3)]]


def test_events_when_the_cluster_is_away(cluster):
    from datetime import UTC, datetime

    cluster.drop_bulk_after = 0
    events = [Event(event_id="ev-9", at=datetime.now(UTC), stage="fetch", status="timeout", reason="slow",
                    retryable=True)]
    with pytest.raises(ClusterUnavailable) as raised:
        _writer(cluster).record_events(events)
    assert raised.value.pending_ids == ["ev-9"]
    assert raised.value.url == cluster.url and f"Elasticsearch at {cluster.url} is unreachable" in str(raised.value)


def test_existing_article_ids_asks_in_pages_of_a_thousand(cluster):
    settings = load_settings(env={}, index_prefix=PREFIX)
    ids = [f"a{n}" for n in range(2500)]
    cluster.stored_claims = {"a5": [], "a1500": [], "a2499": []}
    es = _writer(cluster).es
    assert existing_article_ids(es, ids + ["a5"], settings) == {"a5", "a1500", "a2499"}
    pages = [r[3]["ids"] for r in cluster.requests if r[1].endswith("/_mget")]
    assert [len(p) for p in pages] == [1000, 1000, 500] and sum(pages, []) == ids
    assert all(r[1] == "/nw-articles/_mget" and r[2].get("_source") == ["false"] for r in cluster.requests)


def test_existing_article_ids_when_the_index_is_missing_or_the_cluster_away(cluster, free_port):
    settings = load_settings(env={}, index_prefix=PREFIX)
    es = _writer(cluster).es
    cluster.mget_status = 404
    assert existing_article_ids(es, ["a1"], settings) == set()
    cluster.mget_status = 503
    with pytest.raises(ClusterUnavailable) as raised:
        existing_article_ids(es, ["a1", "a2", "a1"], settings)
    assert raised.value.pending_ids == ["a1", "a2"]
    assert str(raised.value).startswith(f"Elasticsearch at {cluster.url} answered HTTP 503")
    cluster.mget_status = 400
    from elasticsearch import ApiError
    with pytest.raises(ApiError):
        existing_article_ids(es, ["a1"], settings)
    gone_url = f"http://127.0.0.1:{free_port()}"
    gone = client_from_settings(load_settings(env={}, es_url=gone_url)).options(max_retries=0)
    with pytest.raises(ClusterUnavailable) as raised:
        existing_article_ids(gone, ["a3"], settings)
    assert raised.value.pending_ids == ["a3"] and f"Elasticsearch at {gone_url} is unreachable" in str(raised.value)


def test_report_and_failure_properties():
    ok = ItemResult("a", Outcome.success(), claims_indexed=2, claims_deleted=1)
    failed = ItemResult("b", Outcome.failure(Status.INDEX_ERROR, "x"), claims_indexed=1, transient=True)
    permanent = ItemResult("c", Outcome.failure(Status.INDEX_ERROR, "y"))
    assert (ok.retryable, failed.retryable, permanent.retryable) == (False, True, False)
    assert not ItemResult("d", Outcome.success(), transient=True).retryable
    report = IndexReport(items=[ok, failed, permanent], duplicates=2)
    assert (report.indexed, report.failed, report.ok) == (1, [failed, permanent], False)
    assert (report.claims_indexed, report.claims_deleted) == (3, 1)
    assert report.summary() == "1 article(s) indexed, 2 failed, 3 claim(s) indexed, 1 stale claim(s) removed"
    assert IndexReport().ok and IndexReport(items=[ok]).ok
    assert [s for s in (None, 400, 404, 409, 429, 500, 502, 503, 504) if BulkFailure("i", "x", s, "r").retryable] == [
        None, *RETRY_STATUSES]
    assert RETRY_STATUSES == (429, 500, 502, 503, 504)


@pytest.mark.parametrize(("item", "text"), [
    ({"error": {"type": "mapper_parsing_exception", "reason": "bad"}}, "mapper_parsing_exception: bad"),
    ({"error": {"reason": "bad"}}, "error: bad"),
    ({"error": {"type": "t"}}, "t: "),
    ({"error": {"type": "t", "reason": "r", "caused_by": {"type": "c", "reason": "why"}}}, "t: r (caused by c: why)"),
    ({"error": {"type": "t", "reason": "r", "caused_by": "not a dict"}}, "t: r"),
    ({"error": "plain words"}, "plain words"),
    ({"error": ""}, "unknown error"),
    ({}, "unknown error"),
])
def test_error_text(item, text):
    from pipeline.index.writer import _error_text

    assert _error_text(item) == text


def test_the_reason_names_the_first_five_errors(cluster):
    claims = ["Prices may rise again", "Exports rose by 40 percent last year", "There is no doubt",
              "North Korea is arming Russia", "Jens Stoltenberg said", "Exports rose"]
    tagged = article("https://a.example/many", *claims)
    cluster.item_status = lambda op, index, meta: 400 if index == "nw-claims" else 201
    (item,) = _writer(cluster).write([tagged]).items
    assert len(item.errors) == 6
    assert item.outcome.reason == "rejected by Elasticsearch (permanent): " + "; ".join(item.errors[:5])


def test_an_article_stored_without_claim_ids_has_none_to_replace(cluster):
    tagged = article("https://a.example/old-format", "Prices may rise again")
    cluster.stored_claims = {tagged.article.article_id: "no claim_ids"}
    assert _writer(cluster).write([tagged]).ok


def test_items_from_an_index_we_did_not_write_to_are_ignored(cluster):
    """An item the cluster reports under another index belongs to no article here; the items after it
    are still counted."""
    first, second = article("https://a.example/1", "Prices may rise again"), article("https://a.example/2",
                                                                                     "Prices may rise again")
    foreign = first.article.article_id
    cluster.rename_index = lambda index, doc_id: "nw-articles_legacy" if doc_id == foreign else index
    report = _writer(cluster).write([first, second])
    assert [(i.article_id, i.claims_indexed) for i in report.items] == [(foreign, 1), (second.article.article_id, 1)]


def _defaults(cluster: Cluster) -> IndexWriter:
    """A writer with the constructor's own defaults (chunk size, retries, backoff)."""
    settings = load_settings(env={}, es_url=cluster.url, index_prefix=PREFIX)  # type: ignore[attr-defined]
    return IndexWriter(client_from_settings(settings).options(max_retries=0), settings)


def test_the_default_bulk_size_and_retry_schedule(cluster, monkeypatch):
    import elasticsearch.helpers.actions as bulk_helpers

    slept: list[float] = []
    monkeypatch.setattr(bulk_helpers.time, "sleep", slept.append)
    batch = [article(f"https://a.example/{n}", "Prices may rise again") for n in range(251)]  # 502 actions
    assert _defaults(cluster).write(batch).ok
    assert [len(b) for b in cluster.bulks] == [500, 2]

    cluster.bulks.clear()
    cluster.item_status = lambda op, index, meta: 429
    (item,) = _defaults(cluster).write([article("https://a.example/busy")]).items
    assert item.retryable and len(cluster.bulks) == 4  # the first try and three retries
    assert slept == [0.5, 1.0, 2.0]  # exponential backoff from half a second

    slept.clear()
    writer = _defaults(cluster)
    writer.max_retries = 8
    writer.write([article("https://a.example/busier")])
    assert slept == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]  # at most 30 s apart


def test_a_bulk_refused_as_a_whole_fails_its_articles_without_raising(cluster):
    cluster.bulk_status = 400
    report = _writer(cluster).write([article("https://a.example/1", "Prices may rise again")])
    (item,) = report.items
    assert not item.ok and not item.retryable and item.errors
    assert all("[400]" in e for e in item.errors)
