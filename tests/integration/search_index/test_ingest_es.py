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
from pipeline.jobs.sources import InputError
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
    local = dataclasses.replace(settings, allow_private_addresses=True, per_host_delay=0.0)
    sources = [str(text), str(page), f"{site}/story.html", f"{site}/missing.html"]
    ensure_indices(es_client, local)
    finished = []
    report = ingest(sources, local, es_client, run_id="t", on_result=finished.append)
    status = {i.source: i.outcome.status.value for i in report.items}
    assert [i.source for i in report.items] == sources
    assert status == {str(text): "ok", str(page): "ok", f"{site}/story.html": "ok", f"{site}/missing.html": "http_error"}
    assert sorted(i.source for i in finished) == sorted(sources)  # each told once, as it finished
    assert {i.source: i.outcome.status.value for i in finished} == status
    assert not report.ok and report.summary() == (
        f"4 input(s): 3 indexed ({sum(i.claims for i in report.items)} claims), failed: 1 http_error")
    assert all(i.claims > 0 for i in report.items if i.outcome.ok)
    es_client.indices.refresh(index=f"{settings.index_prefix}-*")
    found = search(es_client, SearchQuery(entities=["DPRK"], speakers=["Stoltenberg"]), settings)
    assert found.total == 3 and all(a.claims for a in found.articles)
    events = es_client.search(index=f"{settings.index_prefix}-events", size=10)["hits"]["hits"]
    assert [e["_source"]["status"] for e in events] == ["http_error"]

    # the CLI prints one line per input as it finishes and a summary, exiting 1 because an input failed
    monkeypatch.setenv("NEWSWATCH_ES_URL", settings.es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", settings.index_prefix)
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    monkeypatch.setenv("NEWSWATCH_PER_HOST_DELAY", "0")
    assert main(["ingest", str(text), f"{site}/missing.html"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    by_source = {line.split()[1]: line for line in lines[:2]}
    assert by_source[str(text)].startswith("ok ") and "claims=" in by_source[str(text)]
    assert by_source[f"{site}/missing.html"].startswith("http_error ") and "HTTP 404" in by_source[f"{site}/missing.html"]
    claims = by_source[str(text)].split("claims=")[1].split()[0]
    assert lines[2] == f"2 input(s): 1 indexed ({claims} claims), failed: 1 http_error"


def test_inputs_that_cannot_be_used_stop_before_any_work(es_client, settings, tmp_path):
    """A missing file, an unsupported file type, a mistyped URL: the caller's mistakes, reported to
    them; nothing is fetched or indexed, and no failure event is recorded."""
    good = tmp_path / "note.txt"
    good.write_text("Shells for Moscow\n\n" + STORY, encoding="utf-8")
    other = tmp_path / "slides.pdf"
    other.write_bytes(b"%PDF-1.4")
    bad = [str(other), str(tmp_path / "gone.html"), "not a url", "ftp://example.org/a.html", str(tmp_path)]
    ensure_indices(es_client, settings)
    with pytest.raises(InputError) as raised:
        ingest([str(good), *bad], settings, es_client, run_id="t")
    assert list(raised.value.problems) == bad
    assert "unsupported file type" in raised.value.problems[str(other)]
    assert "no such file" in raised.value.problems["not a url"]
    assert "only http and https" in raised.value.problems["ftp://example.org/a.html"]
    assert "directory" in raised.value.problems[str(tmp_path)]
    es_client.indices.refresh(index=f"{settings.index_prefix}-*")
    for kind in ("articles", "events"):
        assert es_client.count(index=f"{settings.index_prefix}-{kind}")["count"] == 0
