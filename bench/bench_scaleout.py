"""Scale-out benchmark: news_ingest on the local distributed stack through one Celery worker, then two,
and the Celery executor against the LocalExecutor at equal parallelism.

    .venv/bin/python bench/bench_scaleout.py [--articles 240] [--chunk 30] [--repeat 1] [--keep]

The stack is `newswatch stack up`'s (pipeline.stack): PostgreSQL, Redis, three Elasticsearch nodes,
the Airflow services, in a throwaway folder. The workload is bench_e2e's replica workload: the demo
site's articles, each made unique, served by the simulator in `--feeds` feeds. Every measurement gets
articles of its own (new URLs, so nothing is skipped as already indexed), the same number each time.

Each Celery worker takes one task at a time and each `process` task tags on one core
(NEWSWATCH_INGEST_PROCESSES=1): one worker stands for one single-core machine. So:

1. one worker  (worker2 stopped): articles/s, wall time from trigger to the run's end;
2. two workers: articles/s, and the ratio to one worker; per-core efficiency = ratio / 2;
3. LocalExecutor with [core] parallelism 2 (the scheduler runs the tasks; workers stopped), the same
   two task slots: articles/s, and Celery's cost = 1 - celery / local.

This machine has two cores, also running PostgreSQL, Redis, Elasticsearch and the Airflow services:
the figures say how well a second worker's core is used, not what two machines would do; the README's
"Outgrowing one machine" says how they extrapolate. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
DAG = "news_ingest"
DEMO_SITE = REPO / "seeds" / "demo-site"


class Workload:
    """The simulator, and a fresh set of `articles` unique articles in `feeds` feeds per measurement."""

    def __init__(self, feeds: int) -> None:
        from simulator import Simulator, load_site

        self.sim = Simulator(name="Scale-out News")
        self.sim.start()
        self.feeds = feeds
        self.bodies = [(i.title, i.body) for f in load_site(DEMO_SITE).feeds for i in f.items
                       if len(i.body or "") > 1500]
        self.rounds = 0

    def next(self, articles: int, folder: Path) -> tuple[Path, list[str]]:
        """Feeds with `articles` new articles; the feeds file that lists them, and their URLs."""
        self.rounds += 1
        ids = [f"r{self.rounds}-f{n}" for n in range(self.feeds)]
        for feed in ids:
            self.sim.add_feed(feed, title=f"Scale-out feed {feed}")
        urls = []
        for n in range(articles):
            title, body = self.bodies[n % len(self.bodies)]
            unique = f"This is story {n} of round {self.rounds}, filed by desk {n % 7} for edition {n // 7}."
            urls.append(self.sim.add_article(ids[n % self.feeds], f"{title} ({self.rounds}.{n})",
                                             f"{unique}\n\n{body}", slug=f"r{self.rounds}-{n}"))
        path = folder / f"feeds-{self.rounds}.yaml"
        path.write_text("feeds:\n" + "".join(f"- {{id: {f}, name: {f}, url: '{self.sim.feed_url(f)}'}}\n" for f in ids))
        return path, urls

    def stop(self) -> None:
        self.sim.stop()


def _seconds(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else 0.0


def run_once(stack: Any, workload: Workload, articles: int, folder: Path) -> dict[str, Any]:
    from pipeline.jobs.ingest import run_key_for
    from pipeline.spool import RUNS, Spool, default_root

    api = stack.api()
    feeds, urls = workload.next(articles, folder)
    api.set_variable("newswatch_settings", {"feeds_file": str(feeds), "allow_private_addresses": True,
                                            "allowed_private_networks": "127.0.0.0/8", "per_host_delay": 0.0,
                                            "per_host_concurrency": 8})
    started = time.perf_counter()
    run_id = api.trigger(DAG, {"force": True})
    run = api.wait_for_run(DAG, run_id, timeout=1800)
    wall = time.perf_counter() - started
    if run["state"] != "success":
        raise SystemExit(f"{DAG} run {run_id} ended {run['state']}; logs in {stack.config.path / 'airflow' / 'logs'}")
    summary = Spool(default_root(str(stack.config.path / "data"))).read_json(RUNS, run_key_for(run_id))
    es = stack.es_client()
    try:  # what is searchable, whichever try of a task indexed it (a retry counts only what it did)
        es.indices.refresh(index="newswatch-articles")
        indexed = es.count(index="newswatch-articles", query={"terms": {"url": urls}})["count"]
    finally:
        es.close()
    tis = api.task_instances(DAG, run_id)
    retried = sorted({f"{t['task_id']}[{t['map_index']}]" for t in tis if t["try_number"] > 1})
    busy: dict[str, float] = {}
    for ti in tis:
        busy[ti["task_id"]] = busy.get(ti["task_id"], 0.0) + (ti["duration"] or 0.0)
    queued = [_seconds(t["start_date"]) - _seconds(t["queued_when"]) for t in tis if t["queued_when"] and t["start_date"]]
    if indexed != articles or retried:
        print(f"  note: run {run_id}: {indexed} of {articles} articles searchable; tasks retried: {retried or 'none'}; "
              f"failures {summary.get('failures_by_reason')}; the retried tasks' first tries: "
              f"{_first_errors(stack, run_id, retried)}", flush=True)
    return {"wall": wall, "articles": indexed, "aps": indexed / wall, "retried": retried,
            "task_seconds": busy, "queued_to_start_p50": statistics.median(queued) if queued else 0.0,
            "process_tasks": sum(1 for t in tis if t["task_id"] == "process")}


def _first_errors(stack: Any, run_id: str, retried: list[str]) -> list[str]:
    """The exception of each retried task's first try, from its log."""
    import json

    errors = []
    for name in retried:
        task_id, map_index = name.rstrip("]").split("[")
        log = (stack.config.path / "airflow" / "logs" / f"dag_id={DAG}" / f"run_id={run_id}" / f"task_id={task_id}"
               / f"map_index={map_index}" / "attempt=1.log")
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                detail = json.loads(line).get("error_detail") or []
            except ValueError:
                continue
            errors += [f"{name}: {d.get('exc_type')}: {str(d.get('exc_value'))[:160]}" for d in detail]
    return errors


def measure(label: str, stack: Any, workload: Workload, args: argparse.Namespace, folder: Path) -> dict[str, Any]:
    results = [run_once(stack, workload, args.articles, folder) for _ in range(args.repeat)]
    best = sorted(results, key=lambda r: r["aps"])[len(results) // 2]  # the median run
    tasks = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(best["task_seconds"].items(), key=lambda kv: -kv[1]))
    print(f"{label:<34} {best['aps']:6.2f} articles/s  ({best['articles']} in {best['wall']:.1f}s; "
          f"{best['process_tasks']} process tasks, {len(best['retried'])} retried; queued->running p50 "
          f"{best['queued_to_start_p50']:.1f}s)")
    print(f"{'':<34} time in tasks: {tasks}", flush=True)
    if args.repeat > 1:
        every = ", ".join(f"{r['aps']:.2f}" for r in results)
        print(f"{'':<34} all runs: {every} articles/s")
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=240, help="articles per measured run (default 240)")
    parser.add_argument("--chunk", type=int, default=30, help="articles per process task (default 30)")
    parser.add_argument("--feeds", type=int, default=8, help="feeds the articles are spread over (default 8)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per configuration; the median is shown")
    parser.add_argument("--keep", action="store_true", help="leave the stack running (newswatch stack down --dir ...)")
    args = parser.parse_args()

    from pipeline.stack.stack import Stack

    folder = Path(tempfile.mkdtemp(prefix="newswatch-bench-scaleout-"))
    dotenv = {"AIRFLOW_DAGS_PAUSED_AT_CREATION": "true", "NEWSWATCH_INGEST_PROCESSES": "1",
              "NEWSWATCH_INGEST_CHUNK_SIZE": str(args.chunk), "NEWSWATCH_RETRY_DELAY_SECONDS": "5"}
    stack = Stack.open(folder / "stack", workers=2, es_nodes=3, worker_concurrency=1, dotenv=dotenv,
                       extra_env={"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"},
                       owner_pid=None if args.keep else os.getpid(), remove_with_owner=not args.keep)
    workload = Workload(args.feeds)
    try:
        t0 = time.perf_counter()
        stack.up(timeout=900)
        print(f"stack up in {time.perf_counter() - t0:.0f}s ({stack.config.root}); load average "
              f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
        stack.api().set_paused(DAG, False)
        run_once(stack, workload, max(args.chunk, 10), folder)  # warm-up: JVMs, caches, the first imports

        stack.stop("worker2")
        one = measure("Celery, 1 worker x 1 slot", stack, workload, args, folder)
        stack.start("worker2")
        two = measure("Celery, 2 workers x 1 slot", stack, workload, args, folder)
        for worker in stack.config.workers:
            stack.stop(worker)
        stack.restart("scheduler", env={"AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "AIRFLOW__CORE__PARALLELISM": "2"})
        local = measure("LocalExecutor, parallelism 2", stack, workload, args, folder)

        ratio = two["aps"] / one["aps"]
        print(f"\ntwo workers / one worker: {ratio:.2f}x  (per-core efficiency {ratio / 2:.0%} on "
              f"{os.cpu_count()} cores shared with the rest of the stack)")
        print(f"Celery / LocalExecutor at parallelism 2: {two['aps'] / local['aps']:.2f}  "
              f"(Celery's cost: {1 - two['aps'] / local['aps']:+.0%} of throughput)")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        workload.stop()
        if args.keep:
            print(f"the stack keeps running: newswatch stack down --dir {stack.config.root} --remove")
        else:
            stack.down(timeout=30)
            stack.remove()
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
