"""The simulator as a real server: in-process API and `python -m simulator`."""

import socket
import subprocess
import sys
import time
from datetime import UTC, datetime

import feedparser
import httpx
import pytest

from pipeline.config import REPO_ROOT
from simulator import Simulator

pytestmark = pytest.mark.integration


def test_feeds_conditional_get_behaviours_and_runtime_articles():
    with Simulator() as sim:
        url = sim.add_feed("world", "World")
        r1 = httpx.get(url)
        assert r1.status_code == 200 and feedparser.parse(r1.content).entries == []
        article = sim.add_article("world", "Quake hits coast", "First para.\n\nSecond para.", author="Ann",
                                  published=datetime(2026, 11, 20, 8, tzinfo=UTC))
        assert httpx.get(url, headers={"If-None-Match": r1.headers["etag"]}).status_code == 200
        r2 = httpx.get(url)
        assert [e.link for e in feedparser.parse(r2.content).entries] == [article]
        assert httpx.get(url, headers={"If-None-Match": r2.headers["etag"]}).status_code == 304
        assert httpx.get(url, headers={"If-Modified-Since": r2.headers["last-modified"]}).status_code == 304
        page = httpx.get(article)
        assert page.status_code == 200 and "<p>Second para.</p>" in page.text
        sim.set_behaviour("/feeds/world.xml", status=503, retry_after=7, times=1)
        r3 = httpx.get(url)
        assert (r3.status_code, r3.headers["retry-after"]) == (503, "7")
        assert httpx.get(url).status_code == 200  # `times` ran out
        assert sim.hits("/feeds/world.xml") == 7
        with pytest.raises(ValueError):
            sim.set_behaviour("/x", colour="red")


def test_synthetic_feeds():
    with Simulator() as sim:
        urls = sim.add_synthetic_feeds(50, items_per_feed=5)
        assert len(urls) == 50 and len(set(urls)) == 50
        parsed = feedparser.parse(httpx.get(urls[7]).content)
        assert len(parsed.entries) == 5


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runs_as_a_module_with_a_site_directory(tmp_path):
    (tmp_path / "site.yaml").write_text(
        "name: Module Site\nfeeds:\n  - id: local\n    items:\n      - slug: hello\n        title: Hello\n"
        "        body: Hello there.\n")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "simulator", "--port", str(port), "--site", str(tmp_path),
                             "--synthetic", "3"], cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                r = httpx.get(f"{base}/feeds/local.xml", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("simulator did not start: " + proc.stderr.read1().decode())
        assert feedparser.parse(r.content).entries[0].link == f"{base}/articles/hello.html"
        assert "Module Site" in httpx.get(f"{base}/articles/hello.html").text
        assert httpx.get(f"{base}/feeds/syn-0002.xml").status_code == 200
        assert "xmlUrl" in httpx.get(f"{base}/opml.xml").text
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_module_rejects_a_bad_site(tmp_path):
    (tmp_path / "site.yaml").write_text("feeds: 3\n")
    proc = subprocess.run([sys.executable, "-m", "simulator", "--port", "0", "--site", str(tmp_path)],
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "feeds" in proc.stderr
