"""`newswatch ingest` end to end: real extractor, real tagger, real node, a real local HTTP server."""

from __future__ import annotations

import dataclasses
import gzip
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.cli import main
from pipeline.index.setup import ensure_indices
from pipeline.jobs.sources import ingest_sources as ingest
from pipeline.search import SearchQuery, search

pytestmark = pytest.mark.integration

STORY = ("North Korea has sent thousands of artillery shells to Russia, officials in Seoul said on Tuesday. "
         "\"There is no doubt that Pyongyang is arming Moscow,\" NATO Secretary General Jens Stoltenberg told "
         "reporters in Brussels. The shipments may continue through the winter, according to analysts at the "
         "Institute for the Study of War, who said the deliveries had grown by 40 percent since the spring. ")
PAGE = ("<html><head><title>{title}</title><meta name='author' content='Kim Reporter'></head><body>"
        "<nav>Home | World</nav><article><h1>{title}</h1>" + "".join(f"<p>{STORY}</p>" for _ in range(3))
        + "</article><footer>(c) Example News</footer></body></html>")


class Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "story.html").write_text(PAGE.format(title="Shells for Moscow, from the web"), encoding="utf-8")
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_ingest_files_and_urls(es_client, settings, tmp_path, site, monkeypatch, capsys):
    text = tmp_path / "note.txt"
    text.write_text("Shells for Moscow\n\n" + STORY, encoding="utf-8")
    page = tmp_path / "page.html.gz"
    page.write_bytes(gzip.compress(PAGE.format(title="Shells for Moscow, archived").encode()))
    other = tmp_path / "slides.pdf"
    other.write_bytes(b"%PDF-1.4")
    local = dataclasses.replace(settings, allow_private_addresses=True, per_host_delay=0.0)
    sources = [str(text), str(page), str(other), str(tmp_path / "gone.html"), f"{site}/story.html",
               f"{site}/missing.html"]
    ensure_indices(es_client, local)
    report = ingest(sources, local, es_client, run_id="t")
    status = {i.source: i.outcome.status.value for i in report.items}
    assert [i.source for i in report.items] == sources
    assert status == {str(text): "ok", str(page): "ok", str(other): "not_article",
                      str(tmp_path / "gone.html"): "parse_error", f"{site}/story.html": "ok",
                      f"{site}/missing.html": "http_error"}
    assert not report.ok and report.summary().startswith("6 input(s): 3 indexed")
    assert all(i.claims > 0 for i in report.items if i.outcome.ok)
    es_client.indices.refresh(index=f"{settings.index_prefix}-*")
    found = search(es_client, SearchQuery(entities=["DPRK"], speakers=["Stoltenberg"]), settings)
    assert found.total == 3 and all(a.claims for a in found.articles)
    events = es_client.search(index=f"{settings.index_prefix}-events", size=10)["hits"]["hits"]
    assert sorted(e["_source"]["status"] for e in events) == ["http_error", "not_article", "parse_error"]

    # the CLI prints one line per input and a summary, exiting non-zero because some inputs failed
    monkeypatch.setenv("NEWSWATCH_ES_URL", settings.es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", settings.index_prefix)
    assert main(["ingest", str(text), str(other)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("ok ") and str(text) in lines[0] and "claims=" in lines[0]
    assert lines[1].startswith("not_article ") and "unsupported file type" in lines[1]
    assert lines[2] == "2 input(s): 1 indexed (" + lines[0].split("claims=")[1].split()[0] + " claims), failed: 1 not_article"
