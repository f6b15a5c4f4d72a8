"""`newswatch extract`, `ingest` and `feeds` end to end against the simulator (and, for what must not
reach the index, the real Elasticsearch node)."""

import gzip
import json
import uuid

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
    sources = [str(page), str(plain), sim.url(HOSTILE["ok_article"]), sim.url(HOSTILE["paywalled_article"])]
    code = main(["extract", "--json", "--allow-private-addresses", *sources])
    rows = _lines(capsys.readouterr().out)
    assert code == 1  # one input was not extracted
    assert [r["source"] for r in rows] == sources
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "paywalled"]
    for key in ("source", "status", "text", "title", "authors", "published_at", "language", "site"):
        assert all(key in r for r in rows)
    assert rows[0]["title"] == "World story one" and rows[0]["authors"] == ["Ann Writer"]
    assert rows[0]["site"] == "CLI Courier" and rows[0]["language"] == "en" and rows[0]["published_at"]
    assert rows[0]["text"] == rows[1]["text"] and len(rows[0]["text"]) > 500


def test_extract_input_errors_stop_before_any_work(sim, env, capsys):
    sim.reset_hits()
    code = main(["extract", "--json", "--allow-private-addresses", sim.url(HOSTILE["ok_article"]),
                 str(env / "missing.html"), "www.example.org/story"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert captured.err.splitlines() == [
        "newswatch extract: 2 input(s) cannot be used, nothing was done:",
        f"  {env / 'missing.html'}: no such file, and not an http(s) URL",
        "  www.example.org/story: no such file, and not an http(s) URL (did you mean https://www.example.org/story ?)"]
    assert sim.hits(HOSTILE["ok_article"]) == 0  # nothing was fetched


@pytest.fixture()
def es_env(env, es_url, es_client, monkeypatch):
    """The CLI on the real node, under an index prefix of its own; its indices set up."""
    prefix = f"nwcli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("NEWSWATCH_ES_URL", es_url)
    monkeypatch.setenv("NEWSWATCH_INDEX_PREFIX", prefix)
    assert main(["index", "setup"]) == 0
    yield prefix
    from pipeline.index.setup import drop_prefix

    drop_prefix(es_client, prefix)


def _events(es_client, prefix):
    es_client.indices.refresh(index=f"{prefix}-events")
    mapping = es_client.indices.get_mapping(index=f"{prefix}-events")
    return es_client.count(index=f"{prefix}-events")["count"], [m["mappings"] for m in mapping.body.values()]


def test_ingest_of_a_mistyped_input_is_an_input_error_not_an_event(sim, env, es_env, es_client, capsys):
    count, mapping_before = _events(es_client, es_env)
    assert count == 0
    capsys.readouterr()
    good = env / "note.txt"
    good.write_text("A title\n\n" + "The mayor said that the tram will open next year. " * 10)
    code = main(["ingest", "not a url", str(env / "missing.html"), str(good)])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.splitlines() == [
        "newswatch ingest: 2 input(s) cannot be used, nothing was done:",
        "  not a url: no such file, and not an http(s) URL",
        f"  {env / 'missing.html'}: no such file, and not an http(s) URL"]
    assert "Traceback" not in captured.err and captured.out == ""
    # not a pipeline failure: no event, no new field in the events mapping, and nothing indexed
    assert _events(es_client, es_env) == (0, mapping_before)
    es_client.indices.refresh(index=f"{es_env}-articles")
    assert es_client.count(index=f"{es_env}-articles")["count"] == 0


def test_ingest_streams_a_line_per_url_and_records_real_failures(sim, env, es_env, es_client, capsys,
                                                                  monkeypatch):
    monkeypatch.setenv("NEWSWATCH_ALLOW_PRIVATE_ADDRESSES", "true")
    urls = [sim.first_article, sim.url(HOSTILE["paywalled_article"]), sim.url("/no-such-page.html")]
    code = main(["ingest", *urls])
    lines = capsys.readouterr().out.splitlines()
    assert code == 1  # two pages failed
    status = {line.split()[1]: line.split()[0] for line in lines[:-1]}
    assert status == {urls[0]: "ok", urls[1]: "paywalled", urls[2]: "http_error"}
    assert lines[-1].startswith("3 input(s): 1 indexed") and "1 http_error, 1 paywalled" in lines[-1]
    count, _ = _events(es_client, es_env)
    assert count == 2  # the pipeline's own failures are events, as from the feeds


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
