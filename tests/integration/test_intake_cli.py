"""`newswatch extract` and `newswatch feeds` end to end against the simulator."""

import gzip
import json

import pytest

from pipeline.cli import main
from simulator import HOSTILE, Simulator

pytestmark = pytest.mark.integration


@pytest.fixture()
def sim():
    with Simulator(name="CLI Courier") as s:
        s.add_hostile_fixtures()
        s.first_article = s.add_article("world", "World story one", author="Ann Writer")
        s.add_article("world", "World story two")
        yield s


@pytest.fixture()
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWSWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSWATCH_FEEDS_FILE", str(tmp_path / "feeds.yaml"))
    monkeypatch.setenv("NEWSWATCH_PER_HOST_DELAY", "0")
    monkeypatch.setenv("NEWSWATCH_READ_TIMEOUT", "1")
    monkeypatch.setenv("NEWSWATCH_ALLOWED_PRIVATE_NETWORKS", "127.0.0.0/8")
    return tmp_path


def _lines(out):
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_extract_json_files_and_urls(sim, env, capsys):
    page = env / "story.html.gz"
    page.write_bytes(gzip.compress(sim_page(sim).encode()))
    plain = env / "story.html"
    plain.write_text(sim_page(sim))
    sources = [str(page), str(plain), sim.url(HOSTILE["ok_article"]), sim.url(HOSTILE["paywalled_article"]),
               str(env / "missing.html")]
    code = main(["extract", "--json", "--allow-private-addresses", *sources])
    rows = _lines(capsys.readouterr().out)
    assert code == 1  # two inputs were not extracted
    assert [r["source"] for r in rows] == sources
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "paywalled", "parse_error"]
    for key in ("source", "status", "text", "title", "authors", "published_at", "language", "site"):
        assert all(key in r for r in rows)
    assert rows[0]["title"] == "World story one" and rows[0]["authors"] == ["Ann Writer"]
    assert rows[0]["site"] == "CLI Courier" and rows[0]["language"] == "en" and rows[0]["published_at"]
    assert rows[0]["text"] == rows[1]["text"] and len(rows[0]["text"]) > 500
    assert "cannot read" in rows[4]["reason"]


def test_extract_refuses_loopback_urls_by_default(sim, env, capsys):
    code = main(["extract", "--json", sim.url(HOSTILE["ok_article"])])
    [row] = _lines(capsys.readouterr().out)
    assert code == 1 and row["status"] == "refused" and "loopback" in row["reason"]


def sim_page(sim):
    import httpx

    return httpx.get(sim.first_article).text


def test_feeds_import_poll_list_export(sim, env, capsys):
    opml = env / "in.opml"
    opml.write_text(
        '<?xml version="1.0"?><opml version="2.0"><head/><body>'
        f'<outline text="World" type="rss" xmlUrl="{sim.feed_url("world")}"/>'
        f'<outline text="Broken" type="rss" xmlUrl="{sim.url(HOSTILE["server_error_feed"])}"/>'
        f'<outline text="Malformed" type="rss" xmlUrl="{sim.url(HOSTILE["malformed_feed"])}"/>'
        '</body></opml>')
    assert main(["feeds", "import-opml", str(opml)]) == 0
    assert "3 new feeds" in capsys.readouterr().out
    entries = env / "entries.jsonl"
    code = main(["feeds", "--state", "file", "poll", "--allow-private-addresses", "--entries", str(entries)])
    out = capsys.readouterr().out
    assert code == 1  # the broken feed failed
    table = {line.split()[0]: line.split()[1] for line in out.splitlines()[2:] if line.strip() and "feeds polled" not in line}
    assert table == {"world": "ok", "broken": "http_error", "malformed": "ok"}
    assert "3 feeds polled: 4 new entries, 1 failed" in out
    assert len(entries.read_text().splitlines()) == 4
    # state persisted in the JSON file: nothing is due now
    assert main(["feeds", "--state", "file", "poll", "--allow-private-addresses"]) == 0
    assert "0 feeds polled" in capsys.readouterr().out
    # --all polls again; unchanged feeds answer 304 and yield nothing new
    main(["feeds", "--state", "file", "poll", "--all", "--json", "--allow-private-addresses"])
    rows = {r["feed_id"]: r for r in _lines(capsys.readouterr().out)}
    assert rows["world"]["status"] == "not_modified" and rows["world"]["new"] == 0
    assert main(["feeds", "--state", "file", "list"]) == 0
    listing = capsys.readouterr().out
    assert "http_error" in listing and "not_modified" in listing
    assert main(["feeds", "export-opml"]) == 0
    assert sim.feed_url("world") in capsys.readouterr().out
