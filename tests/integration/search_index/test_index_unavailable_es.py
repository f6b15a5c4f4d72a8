"""The cluster going away: a clear, retryable ClusterUnavailable, and the caller's batch is intact."""

from __future__ import annotations

import socket
import threading
from urllib.parse import urlsplit

import pytest

from pipeline.config import load_settings
from pipeline.es import client_from_settings
from pipeline.index.errors import ClusterUnavailable
from pipeline.index.names import IndexNames
from pipeline.index.setup import ensure_indices
from pipeline.index.synthetic import recombined_corpus
from pipeline.index.writer import IndexWriter

pytestmark = pytest.mark.integration


class DyingProxy:
    """A real TCP proxy to Elasticsearch that lets `bulks_allowed` bulk requests through, then closes
    every connection and stops listening, as a node that dies mid-batch does."""

    def __init__(self, upstream: str, bulks_allowed: int) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.bulks_left = bulks_allowed
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.dead = threading.Event()
        self.sockets: list[socket.socket] = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.dead.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream, timeout=10)
            with self.lock:
                self.sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        try:
            while data := src.recv(65536):
                if from_client and b"/_bulk" in data:
                    with self.lock:
                        self.bulks_left -= 1
                        if self.bulks_left < 0:
                            self.die()
                            return
                dst.sendall(data)
        except OSError:
            pass

    def die(self) -> None:
        self.dead.set()
        for s in [self.listener, *self.sockets]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def test_an_unreachable_cluster_raises_cluster_unavailable(settings, free_port):
    dead = load_settings(es_url=f"http://127.0.0.1:{free_port()}", index_prefix=settings.index_prefix,
                         es_request_timeout=5)
    batch = list(recombined_corpus(3, seed=11))
    writer = IndexWriter(client_from_settings(dead), dead)
    with pytest.raises(ClusterUnavailable) as caught:
        writer.write(batch)
    err = caught.value
    assert err.retryable and "unreachable" in str(err) and "nothing was dropped" in str(err)
    assert err.pending_ids == [t.article.article_id for t in batch] and err.indexed_ids == []
    assert len(batch) == 3  # the caller still holds the batch


def test_the_cluster_dying_mid_bulk_loses_nothing(es_client, es_url, settings):
    names = IndexNames(settings.index_prefix)
    ensure_indices(es_client, settings)
    batch = list(recombined_corpus(6, seed=12))
    proxy = DyingProxy(es_url, bulks_allowed=2)
    via_proxy = load_settings(es_url=proxy.url, index_prefix=settings.index_prefix, es_request_timeout=10)
    # chunk_size 2: each article (plus its claims) spans several bulk requests
    writer = IndexWriter(client_from_settings(via_proxy), via_proxy, chunk_size=2)
    with pytest.raises(ClusterUnavailable) as caught:
        writer.write(batch)
    assert proxy.dead.is_set()
    err = caught.value
    ids = [t.article.article_id for t in batch]
    assert err.indexed_ids and err.pending_ids, "the failure happened mid-batch"
    assert sorted(err.indexed_ids + err.pending_ids) == sorted(ids)
    # the caller retries the same batch once the cluster is back: everything lands, nothing is doubled
    report = IndexWriter(es_client, settings, refresh="wait_for").write(batch)
    assert report.ok and report.indexed == 6
    es_client.indices.refresh(index=f"{names.articles},{names.claims}")
    assert es_client.count(index=names.articles)["count"] == 6
    assert es_client.count(index=names.claims)["count"] == sum(len(t.tags.claims) for t in batch)
