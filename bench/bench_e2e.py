"""End-to-end benchmark: articles/s through the news_ingest DAG vs the bare component ceiling, and freshness.

    .venv/bin/python bench/bench_e2e.py [--articles 240] [--rounds 4] [--interval 15]

1. Throughput: a simulator serving `--articles` pages (the demo site's articles, each with a line of its
   own, so near-copies of a dozen articles; `--distinct`: paragraphs mixed across them) in
   `--feeds` feeds; one news_ingest run through real Airflow (dag.test on SQLite, real Elasticsearch:
   NEWSWATCH_ES_URL or a throwaway embedded node). Articles indexed / wall time of the run.
2. Ceiling, same pages, same process, no orchestration, fetching or indexing: trafilatura extraction
   (one pass) + spaCy parsing (`nlp.pipe` of the model as `spacy.load` gives it: the bare components).
   Ratio = pipeline / ceiling (goal >= 0.8). The full tagger (parsing + claim/entity rules) is timed too,
   as a second reference.
3. Freshness: `--rounds` scheduled polls `--interval` seconds apart; new items appear in the feeds at
   random moments between polls; for each, the time from appearing in a feed to being searchable
   (a search hit, not a realtime get). Prints p50/p95, and the pipeline latency (poll start ->
   searchable) that adds to the schedule interval in production (default */5: +150 s on average).

Figures are printed, never asserted. The spaCy model is loaded in the benchmark process before any
timing (for the ceiling). Elasticsearch is warmed before the timed run by bulk-writing tagged
articles under a throwaway id range: a fresh JVM compiles its hot paths during the first bulks (the
first takes seconds), and a production cluster is long-running. newswatch's own worker processes are
not warmed: the timed run starts them, as every `process` task does in production.

The run uses the machine's cores through the `process` task's worker processes
(`NEWSWATCH_INGEST_PROCESSES`, default one per core); the ceiling is one process. Both are printed,
with the ceiling run split over the same number of processes ("at equal parallelism", goal >= 0.85), and
that ceiling again with newswatch's own spaCy pipeline (whose attribute ruler matches by lookup, the same
annotations for less CPU) as a stricter reference.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DEMO_SITE = REPO / "seeds" / "demo-site"
PREFIX = f"nwbench-{os.getpid()}"


def _airflow_env(home: Path) -> None:
    os.environ.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "ERROR",
        "NEWSWATCH_RETRY_DELAY_SECONDS": "2",
    })


def _newswatch_env(es_url: str, data_dir: Path, feeds_file: Path) -> None:
    import json
    from urllib.parse import urlsplit

    parts = urlsplit(es_url)
    os.environ.update({
        "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT": json.dumps(
            {"conn_type": "elasticsearch", "host": parts.hostname, "port": parts.port, "schema": parts.scheme}),
        "NEWSWATCH_ES_URL": es_url,
        "NEWSWATCH_INDEX_PREFIX": PREFIX,
        "NEWSWATCH_DATA_DIR": str(data_dir),
        "NEWSWATCH_FEEDS_FILE": str(feeds_file),
        "NEWSWATCH_ALLOW_PRIVATE_ADDRESSES": "true",
        "NEWSWATCH_ALLOWED_PRIVATE_NETWORKS": "127.0.0.0/8",
        "NEWSWATCH_PER_HOST_DELAY": "0",  # one local host serves everything; politeness is not measured here
        "NEWSWATCH_PER_HOST_CONCURRENCY": "8",
    })


def _bodies() -> list[tuple[str, str]]:
    from simulator import load_site

    return [(i.title, i.body) for f in load_site(DEMO_SITE).feeds for i in f.items if len(i.body or "") > 1500]


class Site:
    """The simulator plus bookkeeping of when each item appeared."""

    def __init__(self, feeds: int, distinct: bool = False) -> None:
        from simulator import Simulator

        self.sim = Simulator(name="Bench News")
        self.sim.start()
        self.feeds = [f"bench-{n}" for n in range(feeds)]
        for f in self.feeds:
            self.sim.add_feed(f, title=f"Bench feed {f}")
        self.bodies = _bodies()
        self.count = 0
        self.distinct = distinct
        self.appeared: dict[str, float] = {}  # url -> monotonic time it appeared in a feed
        self.lock = threading.Lock()

    def add(self) -> str:
        with self.lock:
            n = self.count
            self.count += 1
        title, body = self.bodies[n % len(self.bodies)]
        if self.distinct:  # paragraphs drawn from every body: distinct articles, not copies of a dozen
            rng = random.Random(n)
            paragraphs = [p for _, b in self.bodies for p in b.split("\n\n") if p.strip()]
            body = "\n\n".join(rng.sample(paragraphs, min(len(paragraphs), max(6, len(body.split("\n\n"))))))
        unique = f"This is bench story number {n}, filed by desk {n % 7} for edition {n // 7}."
        url = self.sim.add_article(self.feeds[n % len(self.feeds)], f"{title} ({n})", f"{unique}\n\n{body}",
                                   slug=f"bench-{n}")
        self.appeared[url] = time.monotonic()
        return url

    def feeds_yaml(self) -> str:
        rows = "".join(f"- {{id: {f}, name: {f}, url: '{self.sim.feed_url(f)}', min_interval: 1}}\n"
                       for f in self.feeds)
        return "feeds:\n" + rows


def _task_seconds(run) -> dict[str, float]:
    """Seconds spent in each task (summed over mapped instances), from Airflow's own records."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    out: dict[str, float] = {}
    with create_session() as session:
        for ti in session.query(TaskInstance).filter(TaskInstance.dag_id == run.dag_id,
                                                     TaskInstance.run_id == run.run_id):
            out[ti.task_id] = out.get(ti.task_id, 0.0) + (ti.duration or 0.0)
    return out


def _run_ingest() -> tuple[float, dict]:
    from newswatch_airflow.runner import load_dag

    from pipeline.jobs.ingest import run_key_for
    from pipeline.spool import RUNS, Spool, default_root

    dag = load_dag("news_ingest")
    t0 = time.perf_counter()
    run = dag.test(run_conf={"force": True})
    elapsed = time.perf_counter() - t0
    if str(getattr(run.state, "value", run.state)) != "success":
        raise SystemExit(f"news_ingest run {run.run_id} ended {run.state}")
    summary = Spool(default_root(os.environ["NEWSWATCH_DATA_DIR"])).read_json(RUNS, run_key_for(run.run_id))
    summary["task_seconds"] = _task_seconds(run)
    return elapsed, summary


def _cpu_seconds(pids: list[int], exclude: int | None = None) -> dict[tuple[int, str], float]:
    """CPU seconds (user + system) so far of these processes and all their descendants, by (pid, role);
    without `exclude` and its descendants (the Elasticsearch node, when this process started it)."""
    import psutil

    out: dict[tuple[int, str], float] = {}
    skip: set[int] = set()
    if exclude:
        try:
            node = psutil.Process(exclude)
            skip = {node.pid, *(c.pid for c in node.children(recursive=True))}
        except psutil.Error:
            pass
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for proc in [root, *root.children(recursive=True)]:
                if proc.pid in skip and proc.pid != root.pid:
                    continue
                times = proc.cpu_times()
                out[(proc.pid, _role(proc, root))] = times.user + times.system
        except psutil.Error:
            continue
    return out


def _role(proc, root) -> str:
    if proc.pid == root.pid:
        return "main"
    cmd = " ".join(proc.cmdline())
    if "forkserver" in cmd:
        return "pool"
    try:
        if any("forkserver" in " ".join(p.cmdline()) for p in proc.parents()):
            return "pool"
    except Exception:  # noqa: BLE001 - a process that ended meanwhile
        pass
    return "simulator" if "simulator" in cmd else "other"


def _fetch(urls: list[str]) -> list[tuple[str, str]]:
    import httpx

    return [(u, httpx.get(u, timeout=30).text) for u in urls]  # untimed: the ceiling has no I/O


@functools.cache
def _bare_nlp(ours: bool = False):
    """The spaCy pipeline of the bare ceiling: the model as spaCy loads it (the bare component), or with
    `ours` the very pipeline newswatch's tagger runs (its faster attribute matcher included)."""
    from _spacy import stock_nlp

    from pipeline.tagging.tagger import get_tagger

    return get_tagger().nlp if ours else stock_nlp()[1]


def _ceiling(pages: list[tuple[str, str]]) -> dict[str, float]:
    import trafilatura

    from pipeline.tagging.tagger import get_tagger

    nlp = _bare_nlp()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    texts = []
    for url, html in pages:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        texts.append(doc.text if doc is not None and doc.text else "")
    t_extract = time.perf_counter() - t0
    t1 = time.perf_counter()
    for _ in nlp.pipe(texts, batch_size=16):
        pass
    t_parse = time.perf_counter() - t1
    cpu = time.process_time() - cpu0
    t2 = time.perf_counter()
    get_tagger().tag_many(texts)
    t_tag = time.perf_counter() - t2
    n = len(pages)
    return {"n": n, "extract_s": t_extract, "parse_s": t_parse, "tag_s": t_tag, "cpu_s": cpu,
            "ceiling_aps": n / (t_extract + t_parse), "tagger_ceiling_aps": n / (t_extract + t_tag)}


def _ceiling_worker(conn, pages: list[tuple[str, str]], ours: bool) -> None:
    import trafilatura

    sys.path.insert(0, str(REPO))
    nlp = _bare_nlp(ours)
    nlp("Warm-up.")
    conn.send("ready")
    conn.recv()
    texts = []
    for url, html in pages:
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
        texts.append(doc.text if doc is not None and doc.text else "")
    for _ in nlp.pipe(texts, batch_size=16):
        pass
    conn.send("done")


def _ceiling_parallel(pages: list[tuple[str, str]], processes: int, ours: bool = False) -> float:
    """The bare ceiling with the pages split over `processes` processes (model loading untimed)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    size = -(-len(pages) // processes)
    conns, procs = [], []
    saved = {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    os.environ.update(dict.fromkeys(saved, "1"))  # as newswatch's workers: one BLAS thread per process
    try:
        for i in range(processes):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=_ceiling_worker, args=(child, pages[i * size:(i + 1) * size], ours), daemon=True)
            proc.start()
            conns.append(parent)
            procs.append(proc)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    for conn in conns:
        assert conn.recv() == "ready"
    t0 = time.perf_counter()
    for conn in conns:
        conn.send("go")
    for conn in conns:
        assert conn.recv() == "done"
    elapsed = time.perf_counter() - t0
    for proc in procs:
        proc.join(10)
    return len(pages) / elapsed


_ES_WORK = {"indexing": ("indexing", "index_time_in_millis"), "refresh": ("refresh", "total_time_in_millis"),
            "merges": ("merges", "total_time_in_millis"), "flush": ("flush", "total_time_in_millis"),
            "search query": ("search", "query_time_in_millis"), "search fetch": ("search", "fetch_time_in_millis")}


def node_cpu_seconds(es) -> float:
    from _es import node_cpu_seconds as cpu

    return cpu(es)


def _es_work(es) -> dict[str, float]:
    """Elasticsearch's own time accounting per index family and kind of work (seconds, cumulative)."""
    stats = es.indices.stats(index=f"{PREFIX}-*", metric="indexing,refresh,merge,flush,search")["indices"]
    out: dict[str, float] = {}
    for name, data in stats.items():
        family = re.sub(r"-v\d+(-\d{6})?$", "", name.removeprefix(f"{PREFIX}-"))
        for label, (section, key) in _ES_WORK.items():
            section_data = data["total"].get(section, {})
            out[f"{family} {label}"] = out.get(f"{family} {label}", 0.0) + section_data.get(key, 0) / 1000
    return out


def _es_work_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: v - before.get(k, 0.0) for k, v in sorted(after.items(), key=lambda kv: -(kv[1] - before.get(kv[0], 0.0)))}


def _stories_cost(site: Site, es, es_pid: int | None, articles: int, pairs: int) -> None:
    """Runs with story clustering off and on, alternately (ABBA: neither side always meets the larger index)."""
    per_article: dict[bool, list[float]] = {False: [], True: []}
    cpu_per_article: dict[bool, list[float]] = {False: [], True: []}
    # a first pair unmeasured: the first few runs still get faster (measured: 15.8 s, then 11-12 s, for one load)
    order = [None, None] + [flag for i in range(pairs) for flag in ((False, True) if i % 2 == 0 else (True, False))]
    for step, flag in enumerate(order):
        clustering = bool(step % 2) if flag is None else flag
        for _ in range(articles):
            site.add()
        os.environ["NEWSWATCH_STORY_CLUSTERING"] = "true" if clustering else "false"
        cpu0, es0 = _cpu_seconds([os.getpid()], exclude=es_pid), node_cpu_seconds(es)
        work0 = _es_work(es)
        try:
            elapsed, summary = _run_ingest()
        finally:
            del os.environ["NEWSWATCH_STORY_CLUSTERING"]
        cpu1, es1 = _cpu_seconds([os.getpid()], exclude=es_pid), node_cpu_seconds(es)
        n = max(1, summary["articles_indexed"])
        if flag is None:
            print(f"stories:  warm-up run, clustering {'on' if clustering else 'off'}: {n} articles in {elapsed:.1f}s")
            continue
        per_article[clustering].append(elapsed / n)
        cpu_per_article[clustering].append((sum(v - cpu0.get(k, 0.0) for k, v in cpu1.items()) + es1 - es0) / n)
        own = sum(v - cpu0.get(k, 0.0) for k, v in cpu1.items())
        print(f"stories:  clustering {'on ' if clustering else 'off'}: {n} articles in {elapsed:.1f}s, "
              f"{cpu_per_article[clustering][-1] * n:.1f} CPU-s (newswatch {own:.1f} + Elasticsearch {es1 - es0:.1f})")
        work = _es_work_delta(work0, _es_work(es))
        stories_work = sum(v for k, v in work.items() if k.startswith("fingerprints "))
        print(f"           Elasticsearch's own accounting (fingerprints, all kinds: {stories_work:.2f}s): "
              + ", ".join(f"{k} {v:.2f}s" for k, v in list(work.items())[:8] if v >= 0.01))
    wall = [on / off - 1 for off, on in zip(per_article[False], per_article[True], strict=True)]
    cpu = [on / off - 1 for off, on in zip(cpu_per_article[False], cpu_per_article[True], strict=True)]
    print("stories:  clustering adds " + ", ".join(f"{w:+.1%}" for w in wall) + f" to the wall time per article "
          f"(median {statistics.median(wall):+.1%}; goal <= +10%) and " + ", ".join(f"{c:+.1%}" for c in cpu)
          + f" to the CPU-s (median {statistics.median(cpu):+.1%})")


def _searchable(es, ids: dict[str, str], found: dict[str, float], deadline: float) -> None:
    """Poll search (not realtime get) until every id is a hit; record when each first was."""
    while len(found) < len(ids) and time.monotonic() < deadline:
        pending = [i for i in ids if i not in found]
        resp = es.search(index=f"{PREFIX}-articles", query={"ids": {"values": pending}}, size=len(pending),
                         source=False)
        now = time.monotonic()
        for hit in resp["hits"]["hits"]:
            found.setdefault(hit["_id"], now)
        time.sleep(0.1)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=240)
    parser.add_argument("--feeds", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=4, help="scheduled polls for the freshness run")
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between scheduled polls")
    parser.add_argument("--per-round", type=int, default=5, help="items appearing between two polls")
    parser.add_argument("--distinct", action="store_true",
                        help="articles made of paragraphs drawn from every demo body (distinct articles); by "
                             "default each is a copy of one of a dozen demo articles with a line of its own, "
                             "a syndication-heavy load for story clustering")
    parser.add_argument("--stories-pairs", type=int, default=0, metavar="N",
                        help="first measure the cost of story clustering: N pairs of runs of --articles new "
                             "articles each, with clustering off and on, in off-on-on-off order (the index grows "
                             "from run to run); prints each pair and the median")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="newswatch-bench-e2e-"))
    _airflow_env(work / "airflow")
    (work / "airflow").mkdir()

    from pipeline import devnode
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings

    node_dir = None
    es_url = os.environ.get("NEWSWATCH_ES_URL")
    if not es_url:
        node_dir = work / "es-node"
        es_url = devnode.start(node_dir, port=devnode.free_port(), timeout=180)
    try:
        site = Site(max(args.feeds, -(-args.articles // 40)), distinct=args.distinct)  # the simulator's feeds list 50 items at most
        feeds_file = work / "feeds.yaml"
        feeds_file.write_text(site.feeds_yaml())
        _newswatch_env(es_url, work, feeds_file)
        es = client_from_settings(load_settings())

        import airflow  # noqa: F401  (configured by the environment above; puts plugins/ on sys.path)
        from newswatch_airflow.runner import prepare_airflow

        from pipeline.tagging.tagger import get_tagger

        prepare_airflow()
        get_tagger().tag("Warm-up: the model loads before any timing, officials said.")
        # warm-up run on empty feeds: creates the indices and pays Airflow's one-off first-task cost
        warm, _ = _run_ingest()
        print(f"warm-up:  an empty run took {warm:.1f}s (index creation, first-task start-up)")
        for _ in range(8):
            site.add()
        warm, _ = _run_ingest()
        print(f"warm-up:  a run of 8 articles took {warm:.1f}s (starts the process pool: dag.test() runs every task "
              "in this process, whose pool then serves the timed runs, as in a long-lived `newswatch ingest`)")
        from _es import warm_cluster

        took, passes = warm_cluster(es, es_url)
        print(f"warm-up:  Elasticsearch wrote, clustered and deleted 240 tagged articles {passes} times in {took:.1f}s "
              "(until a pass cost it no less CPU: a production node's JIT is warm)")
        es_pid = int((node_dir / "node.pid").read_text()) if node_dir is not None else None
        if args.stories_pairs:  # before the timed run
            _stories_cost(site, es, es_pid, args.articles, args.stories_pairs)
        urls = [site.add() for _ in range(args.articles)]

        # 1. throughput through the DAG, between two measurements of the ceiling (the machine is shared)
        pages = _fetch(urls)
        before = _ceiling(pages)
        cpu0 = _cpu_seconds([os.getpid()], exclude=es_pid)
        es0 = node_cpu_seconds(es)
        work0 = _es_work(es)
        elapsed, summary = _run_ingest()
        cpu1 = _cpu_seconds([os.getpid()], exclude=es_pid)
        es1 = node_cpu_seconds(es)
        es_work = _es_work_delta(work0, _es_work(es))
        indexed = summary["articles_indexed"]
        pipeline_aps = indexed / elapsed
        print(f"pipeline: {indexed} articles indexed of {args.articles} in {elapsed:.1f}s "
              f"= {pipeline_aps:.2f} articles/s (claims {summary['claims']}, failures {summary['failures']})")
        tasks = summary["task_seconds"]
        print("  time in tasks: " + ", ".join(f"{k} {v:.1f}s" for k, v in tasks.items())
              + f"; orchestration between tasks {elapsed - sum(tasks.values()):.1f}s")

        # 2. the bare ceiling on the same pages: the faster of the two measurements (the stricter ratio)
        after = _ceiling(pages)
        pipeline_cpu = sum(v - cpu0.get(k, 0.0) for k, v in cpu1.items())
        roles: dict[str, float] = {}
        for key, v in cpu1.items():
            roles[key[1]] = roles.get(key[1], 0.0) + v - cpu0.get(key, 0.0)
        es_cpu = es1 - es0
        ceiling_cpu = min(m["cpu_s"] for m in (before, after))
        print(f"cpu:      the run used {pipeline_cpu:.1f} CPU-s in newswatch's processes (Airflow, fetching, "
              f"the pool) + {es_cpu:.1f} in Elasticsearch = {pipeline_cpu + es_cpu:.1f}, against "
              f"{ceiling_cpu:.1f} s for the bare ceiling's work: {(pipeline_cpu + es_cpu) / ceiling_cpu:.2f}x "
              "(on a busy machine, the ratio that wall time cannot show); by process: "
              + ", ".join(f"{k} {v:.1f}" for k, v in sorted(roles.items())))
        print("es work:  " + ", ".join(f"{k} {v:.1f}s" for k, v in es_work.items() if v >= 0.05))
        for label, m in (("before", before), ("after", after)):
            print(f"ceiling {label}: {m['ceiling_aps']:.2f} articles/s (tagger {m['tagger_ceiling_aps']:.2f})")
        c = max(before, after, key=lambda m: m["ceiling_aps"])
        print(f"ceiling:  trafilatura {c['extract_s']:.1f}s + spaCy parse {c['parse_s']:.1f}s over {c['n']} pages "
              f"= {c['ceiling_aps']:.2f} articles/s (with the full tagger instead of the bare parse: "
              f"{c['tagger_ceiling_aps']:.2f} articles/s)")
        print(f"ratio:    {pipeline_aps / c['ceiling_aps']:.2f} of the bare ceiling (goal >= 0.80); "
              f"{pipeline_aps / c['tagger_ceiling_aps']:.2f} of the tagger ceiling")
        from pipeline.jobs.pool import pool_size

        workers = pool_size(load_settings().ingest_processes)
        if workers > 1:
            wide = _ceiling_parallel(pages, workers)
            ours = _ceiling_parallel(pages, workers, ours=True)
            print(f"the pipeline used {workers} worker processes; the bare ceiling in {workers} processes: "
                  f"{wide:.2f} articles/s; ratio at equal parallelism {pipeline_aps / wide:.2f} (goal >= 0.85)")
            print(f"          the same ceiling with newswatch's own spaCy pipeline (its indexed attribute matcher) "
                  f"instead of spaCy's as loaded: {ours:.2f} articles/s; ratio {pipeline_aps / ours:.2f}")

        # 3. freshness over scheduled polls
        from pipeline.records import article_id_for
        from pipeline.urls import canonicalize_url

        stop = threading.Event()
        publishing = threading.Event()  # items appear between polls, not during a run
        fresh_urls: list[str] = []

        def publisher() -> None:
            rng = random.Random(6)
            while not stop.is_set():
                gap = rng.uniform(0, 2 * args.interval / max(1, args.per_round))
                if stop.wait(gap):
                    return
                publishing.wait()
                fresh_urls.append(site.add())

        latencies: list[float] = []
        freshness: list[float] = []
        thread = threading.Thread(target=publisher, daemon=True)
        thread.start()
        for _ in range(args.rounds):
            publishing.set()
            time.sleep(args.interval)
            publishing.clear()
            time.sleep(0.05)  # let an add in progress finish
            poll_start = time.monotonic()
            due = list(fresh_urls)
            _run_ingest()
            ids = {article_id_for(canonicalize_url(u)): u for u in due}
            found: dict[str, float] = {}
            _searchable(es, ids, found, time.monotonic() + 60)
            for aid, when in found.items():
                freshness.append(when - site.appeared[ids[aid]])
                latencies.append(when - poll_start)
            fresh_urls[:] = [u for u in fresh_urls if u not in set(due)]
        stop.set()
        publishing.set()
        if freshness:
            print(f"freshness over {args.rounds} polls every {args.interval:.0f}s, {len(freshness)} items: "
                  f"p50 {_pct(freshness, 0.5):.1f}s, p95 {_pct(freshness, 0.95):.1f}s")
            print(f"pipeline latency (poll start -> searchable): p50 {_pct(latencies, 0.5):.1f}s, "
                  f"p95 {_pct(latencies, 0.95):.1f}s; mean {statistics.mean(latencies):.1f}s")
        site.sim.stop()
        names = list(es.indices.get(index=f"{PREFIX}-*", expand_wildcards="all"))
        if names:
            es.indices.delete(index=",".join(names))
    finally:
        if node_dir is not None:
            devnode.stop(node_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
