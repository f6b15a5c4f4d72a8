"""Realistic feed list, untuned: the news_ingest DAG vs a naive sequential loop over the same feeds.

    .venv/bin/python bench/bench_feeds.py [--corpus PATH] [--repeat N] [--keep]

What a new user does: take a list of real sites, import their feeds from OPML, run the DAG with the
default settings. The 181 real news pages of the article-extraction-benchmark corpus
(`../shared/corpus/article-extraction-benchmark`, never copied into the repo) are grouped into one
RSS 2.0 feed per site (host of the page's URL: ~126 feeds of one or two items), served with the
original HTML bytes, each site from its own loopback address (127.0.0.2, 127.0.0.3, ...: one host per site,
as on the web, so per-host limits apply per site), listed in an OPML file and imported with
`newswatch feeds import-opml`.

1. DAG: one `news_ingest` run through real Airflow (`dag.test(run_conf={"force": True})`, SQLite,
   real Elasticsearch: NEWSWATCH_ES_URL or a throwaway embedded node) with the default settings except
   what a loopback test needs (private addresses allowed for 127.0.0.0/8), no per-host delay (as in the
   issue's run; `--per-host-delay 1` gives the polite default) and the locations (ES, data dir, feeds
   file, a throwaway index prefix). No NEWSWATCH_INGEST_* or concurrency knob is set. Each repetition runs in a fresh Python
   process (as an Airflow task process would be: nothing of newswatch's own is loaded or warm), after an
   untimed warm-up run on an empty feed list (index creation, Airflow's first-task costs).
2. Naive: in this process, for each feed `feedparser.parse(url)`, for each item a urllib fetch,
   `trafilatura.bare_extraction(html, url=..., with_metadata=True)`, then spaCy `nlp(text)` with
   `en_core_web_sm` (loaded before timing). No indexing.

Ratio = naive seconds / DAG seconds; the goal is >= 1.5x on 2 cores, indexing included. Figures are
printed, never asserted; progress goes to stderr, measurements to stdout.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import json
import multiprocessing as mp
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit
from xml.sax.saxutils import escape, quoteattr

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "article-extraction-benchmark"
PREFIX = f"nwbench-feeds-{os.getpid()}"
MIN_CHARS = 250  # the pipeline's too_short threshold (pipeline/extract/extractor.py), for the comparison
EXAMPLE = """example:
  .venv/bin/python bench/bench_feeds.py                     # one DAG run and one naive loop
  .venv/bin/python bench/bench_feeds.py --repeat 3 --keep   # three of each, median, keep the work dir
  NEWSWATCH_ES_URL=http://127.0.0.1:9200 .venv/bin/python bench/bench_feeds.py   # an existing cluster
"""


def say(message: str) -> None:
    """A progress line on stderr."""
    print(f"[bench_feeds {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# corpus -> feeds ---------------------------------------------------------------------------------


@dataclass
class Page:
    doc_id: str
    original_url: str
    body: bytes  # the HTML bytes as captured
    title: str
    summary: str
    path: str = ""  # path (and query) on the local server


@dataclass
class Feed:
    host: str
    pages: list[Page] = field(default_factory=list)

    @property
    def path(self) -> str:
        return f"/{self.host}/rss.xml"


_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _title(body: bytes, fallback: str) -> str:
    m = _TITLE.search(body)
    text = " ".join(html.unescape(m.group(1).decode("utf-8", "replace")).split()) if m else ""
    return text[:300] or fallback


def _summary(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " ..."


def load_corpus(corpus: Path) -> list[Feed]:
    """The corpus pages grouped into one feed per host of their URL, in a stable order."""
    truth = json.loads((corpus / "ground-truth.json").read_text(encoding="utf-8"))
    feeds: dict[str, Feed] = {}
    for doc_id in sorted(truth):
        entry = truth[doc_id]
        gz, plain = corpus / "html" / f"{doc_id}.html.gz", corpus / "html" / f"{doc_id}.html"
        if gz.exists():
            body = gzip.decompress(gz.read_bytes())
        elif plain.exists():
            body = plain.read_bytes()
        else:
            say(f"warning: no HTML for {doc_id}; skipped")
            continue
        url = entry.get("url") or f"https://unknown.example/{doc_id}"
        parts = urlsplit(url)
        host = (parts.hostname or "unknown.example").lower()
        page = Page(doc_id=doc_id, original_url=url, body=body, title=_title(body, host),
                    summary=_summary(entry.get("articleBody") or ""))
        # the article lives under its feed's folder, at the original path and query
        page.path = f"/{host}{quote(parts.path or '/', safe='/%:@!$&()*+,;=~-._')}" + (
            f"?{parts.query}" if parts.query else "")
        feeds.setdefault(host, Feed(host)).pages.append(page)
    return [feeds[h] for h in sorted(feeds)]


def rss(feed: Feed, base: str, now: datetime) -> bytes:
    items = []
    for n, page in enumerate(feed.pages):
        link = base + page.path
        published = format_datetime(now - timedelta(minutes=37 * (n + 1)), usegmt=True)
        items.append(
            "    <item>\n"
            f"      <title>{escape(page.title)}</title>\n"
            f"      <link>{escape(link)}</link>\n"
            f'      <guid isPermaLink="true">{escape(link)}</guid>\n'
            f"      <pubDate>{published}</pubDate>\n"
            f"      <description>{escape(page.summary)}</description>\n"
            "    </item>\n")
    text = ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">\n  <channel>\n'
            f"    <title>{escape(feed.host)}</title>\n"
            f"    <link>{escape(base)}/{escape(feed.host)}/</link>\n"
            f"    <description>Latest stories from {escape(feed.host)}</description>\n"
            f"    <lastBuildDate>{format_datetime(now, usegmt=True)}</lastBuildDate>\n"
            + "".join(items) + "  </channel>\n</rss>\n")
    return text.encode("utf-8")


def opml(feeds: list[Feed], bases: dict[str, str]) -> str:
    rows = "".join(f"    <outline type=\"rss\" text={quoteattr(f.host)} title={quoteattr(f.host)} "
                   f"xmlUrl={quoteattr(bases[f.host] + f.path)} htmlUrl={quoteattr(f'{bases[f.host]}/{f.host}/')}/>\n"
                   for f in feeds)
    return ('<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">\n'
            "  <head><title>bench_feeds: the article-extraction-benchmark sites</title></head>\n"
            f"  <body>\n{rows}  </body>\n</opml>\n")


# the local server --------------------------------------------------------------------------------


def _query_key(path: str) -> str:
    """A lenient spelling of path+query: sorted parameters, blank ones dropped."""
    parts = urlsplit(path)
    return parts.path + "?" + "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query)))


class Site:
    """One threaded HTTP server per site, each on its own loopback address, serving the site's feed, its
    articles and /robots.txt."""

    def __init__(self, feeds: list[Feed]) -> None:
        self.routes: dict[str, tuple[str, bytes, str]] = {}  # path -> (content type, body, etag)
        self.lenient: dict[str, str] = {}
        self.requests: Counter[str] = Counter()
        self.last_modified = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
        routes, requests, last_modified = self.routes, self.requests, self.last_modified
        lenient = self.lenient

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "bench-feeds/1.0"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (stdlib signature)
                pass

            def _answer(self, head_only: bool) -> None:
                path = self.path.split("#", 1)[0]
                route = routes.get(path) or routes.get(lenient.get(_query_key(path), ""))
                if route is None:
                    requests["404"] += 1
                    self._send(404, "text/plain; charset=utf-8", b"not found\n", {}, head_only)
                    return
                ctype, body, etag = route
                requests["feed" if ctype.startswith("application/rss") else
                         "page" if ctype.startswith("text/html") else "other"] += 1
                headers = {"ETag": etag, "Last-Modified": last_modified, "Cache-Control": "max-age=60"}
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, None, b"", headers, True)
                    return
                self._send(200, ctype, body, headers, head_only)

            def _send(self, status: int, ctype: str | None, body: bytes, headers: dict[str, str],
                      head_only: bool) -> None:
                self.send_response(status)
                if ctype:
                    self.send_header("Content-Type", ctype)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(0 if status == 304 else len(body)))
                self.end_headers()
                if not head_only and status != 304:
                    self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 (stdlib name)
                self._answer(False)

            def do_HEAD(self) -> None:  # noqa: N802 (stdlib name)
                self._answer(True)

        self.servers: list[ThreadingHTTPServer] = []
        self.bases: dict[str, str] = {}  # feed host -> base URL of its server
        now = datetime.now(UTC)
        self._add("/robots.txt", "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n")
        for n, feed in enumerate(feeds):
            server = ThreadingHTTPServer((f"127.0.{(n + 2) // 254}.{(n + 2) % 254 or 254}", 0), Handler)
            server.daemon_threads = True
            self.servers.append(server)
            base = self.bases[feed.host] = f"http://{server.server_address[0]}:{server.server_address[1]}"
            self._add(feed.path, "application/rss+xml; charset=utf-8", rss(feed, base, now))
            for page in feed.pages:
                self._add(page.path, "text/html", page.body)  # the original bytes; charset as the page says
                self.lenient[_query_key(page.path)] = page.path
        for server in self.servers:
            threading.Thread(target=server.serve_forever, name="bench-feeds-http", daemon=True).start()

    def feed_url(self, feed: Feed) -> str:
        return self.bases[feed.host] + feed.path

    def _add(self, path: str, ctype: str, body: bytes) -> None:
        self.routes[path] = (ctype, body, '"' + hashlib.sha1(body).hexdigest()[:16] + '"')

    def stop(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


# the DAG side (a fresh process per repetition) ---------------------------------------------------


def airflow_env(home: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        # quiet unless asked otherwise (AIRFLOW__LOGGING__LOGGING_LEVEL=INFO shows the tasks' logs)
        "AIRFLOW__LOGGING__LOGGING_LEVEL": os.environ.get("AIRFLOW__LOGGING__LOGGING_LEVEL", "ERROR"),
    }


def newswatch_env(es_url: str, prefix: str, data_dir: Path, feeds_file: Path,
                  per_host_delay: float = 0.0) -> dict[str, str]:
    """Defaults, except the locations, what serving sites from loopback addresses needs and the per-host delay."""
    parts = urlsplit(es_url)
    return {
        "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT": json.dumps(
            {"conn_type": "elasticsearch", "host": parts.hostname, "port": parts.port, "schema": parts.scheme}),
        "NEWSWATCH_ES_URL": es_url,
        "NEWSWATCH_INDEX_PREFIX": prefix,
        "NEWSWATCH_DATA_DIR": str(data_dir),
        "NEWSWATCH_FEEDS_FILE": str(feeds_file),
        "NEWSWATCH_ALLOW_PRIVATE_ADDRESSES": "true",
        "NEWSWATCH_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "NEWSWATCH_PER_HOST_DELAY": f"{per_host_delay:g}",
    }


def _task_seconds(run: Any) -> dict[str, dict[str, Any]]:
    """Per task: mapped instances, seconds summed over them, and their end states (Airflow's records)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    out: dict[str, dict[str, Any]] = {}
    with create_session() as session:
        for ti in session.query(TaskInstance).filter(TaskInstance.dag_id == run.dag_id,
                                                     TaskInstance.run_id == run.run_id):
            row = out.setdefault(ti.task_id, {"n": 0, "seconds": 0.0, "states": Counter()})
            row["n"] += 1
            row["seconds"] += ti.duration or 0.0
            row["states"][str(getattr(ti.state, "value", ti.state))] += 1
    return {k: {**v, "states": dict(v["states"])} for k, v in out.items()}


def _one_run(dag_id: str) -> tuple[float, Any]:
    from newswatch_airflow.runner import load_dag

    dag = load_dag(dag_id)
    t0 = time.perf_counter()
    run = dag.test(run_conf={"force": True})
    return time.perf_counter() - t0, run


def dag_child(conn: Any, env: dict[str, str], empty_feeds: str, feeds_file: str) -> None:
    """In a fresh process: warm-up run on an empty feed list, then the timed run; results to `conn`."""
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # Airflow's chatter goes to stderr
    os.environ.update(env)
    sys.path.insert(0, str(REPO))
    try:
        import airflow  # noqa: F401  (configured by the environment; puts plugins/ on sys.path)
        from newswatch_airflow.runner import prepare_airflow

        from pipeline.jobs.ingest import run_key_for
        from pipeline.spool import RUNS, Spool, default_root

        prepare_airflow()
        os.environ["NEWSWATCH_FEEDS_FILE"] = empty_feeds
        warm, run = _one_run("news_ingest")
        say(f"warm-up: an empty run took {warm:.1f}s ({getattr(run.state, 'value', run.state)})")
        os.environ["NEWSWATCH_FEEDS_FILE"] = feeds_file
        say("timed news_ingest run starts")
        cpu0 = _tree_cpu()
        elapsed, run = _one_run("news_ingest")
        cpu = _tree_cpu() - cpu0
        state = str(getattr(run.state, "value", run.state))
        say(f"timed news_ingest run ended {state} after {elapsed:.1f}s")
        spool = Spool(default_root(os.environ["NEWSWATCH_DATA_DIR"]))
        try:
            summary = spool.read_json(RUNS, run_key_for(run.run_id))
        except Exception as exc:  # no summary: the run failed before summarize
            summary = {"error": f"no run summary ({type(exc).__name__}: {exc})"}
        conn.send({"warm_s": warm, "elapsed": elapsed, "cpu": cpu, "state": state, "run_id": run.run_id,
                   "summary": summary, "tasks": _task_seconds(run)})
    except BaseException as exc:
        import traceback

        traceback.print_exc()
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def _tree_cpu(pid: int | None = None) -> float:
    """CPU seconds (user + system) so far of a process (default: this one) and its descendants."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            times = proc.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def measure_dag(env: dict[str, str], empty_feeds: Path, feeds_file: Path) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=dag_child, args=(child, env, str(empty_feeds), str(feeds_file)), name="bench-dag")
    proc.start()
    child.close()
    try:
        result = parent.recv()
    except EOFError:
        result = {"error": "the DAG process died without a result"}
    proc.join(30)
    if proc.is_alive():
        say(f"the DAG process {proc.pid} did not exit; killing it")
        proc.kill()
        proc.join(10)
    return result


# the naive side ----------------------------------------------------------------------------------


def measure_naive(nlp: Any, feed_urls: list[str]) -> dict[str, Any]:
    """feedparser -> urllib -> trafilatura -> spaCy, one item after the other; nothing is indexed."""
    import urllib.request

    import feedparser
    import trafilatura

    counts: Counter[str] = Counter()
    t0 = time.perf_counter()
    cpu0 = time.process_time()
    for feed_url in feed_urls:
        parsed = feedparser.parse(feed_url)
        counts["feeds"] += 1
        for entry in parsed.entries:
            url = entry.get("link")
            if not url:
                continue
            counts["items"] += 1
            try:
                with urllib.request.urlopen(url, timeout=30) as resp:
                    body = resp.read()
            except OSError:
                counts["fetch_failed"] += 1
                continue
            doc = trafilatura.bare_extraction(body, url=url, with_metadata=True)
            text = doc.text if doc is not None and doc.text else ""
            if not text:
                counts["no_text"] += 1
                continue
            counts["extracted"] += 1
            counts[f">= {MIN_CHARS} chars" if len(text) >= MIN_CHARS else f"< {MIN_CHARS} chars"] += 1
            counts["tokens"] += len(nlp(text))
    return {"elapsed": time.perf_counter() - t0, "cpu": time.process_time() - cpu0, "counts": dict(counts)}


def load_spacy() -> tuple[str, Any]:
    """en_core_web_sm, or the packaging of it newswatch falls back to (NEWSWATCH_SPACY_MODEL first)."""
    from _spacy import stock_nlp

    say("loading the spaCy model for the naive loop (not timed)")
    return stock_nlp()


# Elasticsearch -----------------------------------------------------------------------------------


def start_elasticsearch(work: Path) -> tuple[str, Path | None]:
    from pipeline import devnode

    es_url = os.environ.get("NEWSWATCH_ES_URL")
    if es_url:
        return es_url, None
    node_dir = work / "es-node"
    say("starting a throwaway embedded Elasticsearch node")
    return devnode.start(node_dir, port=devnode.free_port(), timeout=180, stop_with_caller=True), node_dir


# report ------------------------------------------------------------------------------------------


def report_dag(rep: int, result: dict[str, Any], items: int) -> None:
    if "error" in result:
        print(f"dag[{rep}]:   FAILED before a result: {result['error']}")
        return
    s = result["summary"]
    if "error" in s:
        print(f"dag[{rep}]:   run {result['state']} in {result['elapsed']:.1f}s; {s['error']}")
    else:
        g = {k: s.get(k, "?") for k in ("articles_indexed", "new_entries", "feeds_polled", "chunks", "claims",
                                        "entities", "failures")}
        print(f"dag[{rep}]:   {result['elapsed']:.1f}s, run {result['state']}: {g['articles_indexed']} articles "
              f"indexed of {items} items ({g['new_entries']} new entries from {g['feeds_polled']} feeds polled, "
              f"{g['chunks']} chunks), claims {g['claims']}, entities {g['entities']}, failures {g['failures']}")
        reasons = s.get("failures_by_reason") or {}
        if reasons:
            print(f"dag[{rep}]:   failures by reason: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(reasons.items(), key=lambda kv: -kv[1])))
        if s.get("pending_batches"):
            print(f"dag[{rep}]:   batches left in the spool: {len(s['pending_batches'])}")
    tasks = result["tasks"]
    busy = sum(t["seconds"] for t in tasks.values())
    print(f"dag[{rep}]:   time in tasks: " + ", ".join(
        f"{k} {t['seconds']:.1f}s" + (f" ({t['n']} mapped)" if t["n"] > 1 else "")
        + ("" if set(t["states"]) == {"success"} else f" [{', '.join(f'{st} {c}' for st, c in t['states'].items())}]")
        for k, t in tasks.items()) + f"; sum {busy:.1f}s, outside tasks {result['elapsed'] - busy:.1f}s")


def report_naive(rep: int, result: dict[str, Any]) -> None:
    c = result["counts"]
    print(f"naive[{rep}]: {result['elapsed']:.1f}s: {c.get('feeds', 0)} feeds, {c.get('items', 0)} items fetched, "
          f"{c.get('extracted', 0)} with text parsed by spaCy ({c.get(f'>= {MIN_CHARS} chars', 0)} of "
          f">= {MIN_CHARS} chars, {c.get(f'< {MIN_CHARS} chars', 0)} shorter), {c.get('no_text', 0)} without "
          f"text, {c.get('fetch_failed', 0)} fetch failures, {c.get('tokens', 0)} tokens")


# main --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=EXAMPLE,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                        help=f"the article-extraction-benchmark folder (default: {DEFAULT_CORPUS})")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="measure both sides N times (fresh index prefix and spool each time); "
                             "prints each and the median")
    parser.add_argument("--per-host-delay", type=float, default=0.0, metavar="SECONDS",
                        help="seconds between request starts to one site, as NEWSWATCH_PER_HOST_DELAY (default 0, "
                             "as in the issue's run; 1 is newswatch's polite default)")
    parser.add_argument("--keep", action="store_true", help="keep the work dir (feeds, OPML, spool, Airflow DB)")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    corpus = args.corpus.expanduser().resolve()
    if not (corpus / "ground-truth.json").exists() or not (corpus / "html").is_dir():
        print(f"bench_feeds: skipped: no corpus at {corpus} (ground-truth.json and html/ expected; "
              "see --corpus)")
        return 0
    feeds = load_corpus(corpus)
    items = sum(len(f.pages) for f in feeds)
    sizes = Counter(len(f.pages) for f in feeds)
    print(f"corpus:     {items} pages from {corpus}")
    print(f"feeds:      {len(feeds)} feeds (one per site), {items} items; "
          + ", ".join(f"{n} feeds of {k} item{'s' if k > 1 else ''}" for k, n in sorted(sizes.items())))

    work = Path(tempfile.mkdtemp(prefix="newswatch-bench-feeds-"))
    (work / "airflow").mkdir()
    site: Site | None = None
    node_dir: Path | None = None
    es: Any = None
    prefixes: list[str] = []
    status = 0
    try:
        site = Site(feeds)
        say(f"serving {len(feeds)} feeds and {items} pages from {len(site.servers)} loopback addresses")
        opml_file = work / "feeds.opml"
        opml_file.write_text(opml(feeds, site.bases), encoding="utf-8")
        feeds_file = work / "feeds.yaml"
        cli = Path(sys.executable).with_name("newswatch")
        command = ([str(cli)] if cli.exists() else [sys.executable, "-m", "pipeline.cli"]) + [
            "feeds", "--feeds", str(feeds_file), "import-opml", str(opml_file)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
        if done.returncode != 0 or not feeds_file.exists():
            raise SystemExit(f"import-opml failed ({done.returncode}): {done.stdout}{done.stderr}")
        say("import-opml: " + done.stdout.strip().splitlines()[0][:120])
        empty_feeds = work / "empty-feeds.yaml"
        empty_feeds.write_text("feeds: []\n", encoding="utf-8")

        es_url, node_dir = start_elasticsearch(work)
        from pipeline.config import load_settings
        from pipeline.es import client_from_settings

        es = client_from_settings(load_settings(es_url=es_url))
        from _es import node_cpu_seconds, warm_cluster

        took, passes = warm_cluster(es, es_url)
        print(f"warm-up:    Elasticsearch wrote, clustered and deleted 240 tagged articles {passes} times in {took:.1f}s "
              "(not timed: until a pass cost it no less CPU, as on a long-running production node)")

        model, nlp = load_spacy()
        print(f"naive:      spaCy model {model} (the one newswatch's tagger loads), loaded before timing")
        feed_urls = [site.feed_url(f) for f in feeds]

        dag_times: list[float] = []
        naive_times: list[float] = []
        for rep in range(1, args.repeat + 1):
            prefix = f"{PREFIX}-r{rep}"
            prefixes.append(prefix)
            data_dir = work / f"run-{rep}"
            data_dir.mkdir()
            env = {**airflow_env(work / "airflow"), **newswatch_env(es_url, prefix, data_dir, feeds_file,
                                                                  args.per_host_delay)}
            say(f"repetition {rep}/{args.repeat}: news_ingest in a fresh process (prefix {prefix})")
            es_cpu0 = node_cpu_seconds(es)
            result = measure_dag(env, empty_feeds, feeds_file)
            es_cpu = node_cpu_seconds(es) - es_cpu0
            report_dag(rep, result, items)
            if "error" not in result and result["state"] == "success":
                dag_times.append(result["elapsed"])
            else:
                status = 1
            say(f"repetition {rep}/{args.repeat}: the naive loop")
            naive = measure_naive(nlp, feed_urls)
            report_naive(rep, naive)
            naive_times.append(naive["elapsed"])
            if "cpu" in result:
                used = result["cpu"] + es_cpu
                print(f"cpu[{rep}]:   the DAG run used {result['cpu']:.1f} CPU-s in newswatch's processes + "
                      f"{es_cpu:.1f} in Elasticsearch (its warm-up run included) = {used:.1f}; the naive loop "
                      f"{naive['cpu']:.1f} (the test server's threads included); naive / DAG = "
                      f"{naive['cpu'] / used:.2f} (below 1: the DAG does more work; wall time on 2 free cores "
                      "can be up to twice this)")
            if "error" not in result and "articles_indexed" in result["summary"]:
                parsed, indexed = naive["counts"].get("extracted", 0), result["summary"]["articles_indexed"]
                print(f"compare[{rep}]: the naive loop parsed {parsed} articles, the DAG indexed {indexed}"
                      + (f" ({parsed - indexed} fewer: the DAG drops pages it judges too short, not articles, "
                         "paywalled or blocked, see its failures by reason; the naive loop parses whatever "
                         "text trafilatura returns)" if parsed > indexed else ""))
            print(f"server:     requests so far, both sides: {dict(site.requests)}")
        if dag_times and naive_times:
            dag_s, naive_s = statistics.median(dag_times), statistics.median(naive_times)
            if args.repeat > 1:
                print(f"median:     DAG {dag_s:.1f}s over {len(dag_times)} runs, naive {naive_s:.1f}s "
                      f"over {len(naive_times)} runs")
            print(f"ratio: newswatch DAG is {naive_s / dag_s:.2f}x the naive loop "
                  f"(goal >= 1.5x on {os.cpu_count()} cores, indexing included)")
        else:
            print("ratio: none (no successful DAG run)")
    finally:
        if site is not None:
            site.stop()
        if es is not None:
            from pipeline.index.setup import drop_prefix

            for prefix in prefixes:
                try:
                    drop_prefix(es, prefix)
                except Exception as exc:  # cleanup goes on; say what is left
                    say(f"could not drop index prefix {prefix}: {type(exc).__name__}: {exc}")
        if node_dir is not None:
            from pipeline import devnode

            say("stopping the embedded Elasticsearch node")
            devnode.stop(node_dir)
        if args.keep:
            say(f"kept the work dir {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
