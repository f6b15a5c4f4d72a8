"""Shared pieces of the stack tests: a news site whose pages the test can hold back, running
news_ingest through the stack's scheduler and Celery workers, and the exactly-once check."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEMO_SITE = REPO / "seeds" / "demo-site"
DAG = "news_ingest"
PREFIX = "newswatch"  # the stack's indices (NEWSWATCH_INDEX_PREFIX's default, as in compose)
ITEM_STAGES = ("fetch", "extract", "tag", "index")


def wait_until(check: Callable[[], Any], timeout: float, what: str | Callable[[], str],
               interval: float = 0.25) -> Any:
    """Poll `check` until it returns something true; its value. AssertionError naming `what` (or what
    it returns, then) on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what() if callable(what) else what}")
        time.sleep(interval)


@dataclass
class Site:
    """One feed on the simulator: articles that index, one 404 and one too-short brief that end as
    events; the last `held` articles' pages answer only after `hold` seconds the first time. (The feed
    lists them first, so they are asked for first.)"""

    sim: Any
    feed_id: str
    ok_urls: list[str] = field(default_factory=list)
    failed_urls: list[str] = field(default_factory=list)
    held_paths: list[str] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return self.ok_urls + self.failed_urls

    @property
    def feed_url(self) -> str:
        return str(self.sim.feed_url(self.feed_id))

    def held_requested(self) -> bool:
        return any(self.sim.hits(path) for path in self.held_paths)

    def feeds_yaml(self) -> str:
        return f"feeds:\n- {{id: {self.feed_id}, name: {self.feed_id}, url: '{self.feed_url}'}}\n"


def make_site(sim: Any, name: str, ok: int, held: int, hold: float) -> Site:
    """`ok` articles answered at once and `held` held back, all of which index."""
    from simulator import load_site

    bodies = [(i.title, i.body) for f in load_site(DEMO_SITE).feeds for i in f.items if len(i.body or "") > 1500]
    site = Site(sim, f"{name}-{uuid.uuid4().hex[:6]}")
    sim.add_feed(site.feed_id, title=f"Stack test feed {name}")
    for n in range(ok + held):
        title, body = bodies[n % len(bodies)]
        slug = f"{site.feed_id}-{n}"
        unique = f"This is story {n} of the {name} test, filed by desk {n % 5}."
        url = sim.add_article(site.feed_id, f"{title} ({name} {n})", f"{unique}\n\n{body}", slug=slug)
        site.ok_urls.append(url)
        if n >= ok:  # the last ones: held back once, answered normally when asked again
            path = f"/articles/{slug}.html"
            sim.set_behaviour(path, delay=hold, times=1)
            site.held_paths.append(path)
    site.failed_urls.append(sim.add_article(site.feed_id, f"Gone ({name})", link=sim.url(f"/articles/{slug}-gone.html")))
    site.failed_urls.append(sim.add_article(site.feed_id, f"Brief ({name})", "One line only.", slug=f"{slug}-brief"))
    return site


def configure_run(api: Any, site: Site, tmp: Path, **settings: Any) -> None:
    """Point the stack's workers at this site, through the same Airflow Variable production uses
    (`newswatch_settings`). The indices are the stack's own (`newswatch-*`, made at `stack up`), as
    in production; each test's entries are its own URLs."""
    feeds = tmp / f"{site.feed_id}.yaml"
    feeds.write_text(site.feeds_yaml())
    feeds.chmod(0o644)
    api.set_variable("newswatch_settings", {
        "feeds_file": str(feeds), "allow_private_addresses": True, "allowed_private_networks": "127.0.0.0/8",
        "per_host_delay": 0.02, "per_host_concurrency": 4,
        # a held page is late, not lost: it must not end as a fetch timeout
        "read_timeout": 60.0, "total_timeout": 90.0, **settings,
    })


def task_state(api: Any, run_id: str, task_id: str) -> dict[str, Any] | None:
    for ti in api.task_instances(DAG, run_id):
        if ti["task_id"] == task_id:
            return dict(ti)
    return None


def task_running(api: Any, run_id: str, task_id: str) -> dict[str, Any] | None:
    ti = task_state(api, run_id, task_id)
    return ti if ti and ti["state"] == "running" and ti.get("pid") else None


def task_done(api: Any, run_id: str, task_id: str) -> bool:
    ti = task_state(api, run_id, task_id)
    return bool(ti and ti["state"] in {"success", "failed", "upstream_failed", "skipped"})


def task_errors(stack: Any, run_id: str, task_id: str, map_index: int = 0) -> list[str]:
    """The exceptions in a task's logs (every try), for failure messages."""
    import json

    folder = (stack.config.path / "airflow" / "logs" / f"dag_id={DAG}" / f"run_id={run_id}" / f"task_id={task_id}"
              / f"map_index={map_index}")
    found = []
    for log in sorted(folder.glob("attempt=*.log")):
        for line in log.read_text(errors="replace").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            for error in record.get("error_detail") or []:
                found.append(f"{log.stem}: {error.get('exc_type')}: {error.get('exc_value')}")
    return found


def celery_results(stack: Any, run_id: str) -> dict[str, str | None]:
    """Each finished task instance of the run (`task[map index] try N`) and the status Celery's result
    backend (PostgreSQL, as in compose) holds for the Celery task that ran it (None: no result)."""
    from pipeline.stack import postgres

    conn = postgres.connect(stack.config.secrets["POSTGRES_PASSWORD"], stack.config.ports["postgres"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT ti.task_id, ti.map_index, ti.try_number, meta.status FROM task_instance ti "
                        "LEFT JOIN celery_taskmeta meta ON meta.task_id = ti.external_executor_id "
                        "WHERE ti.dag_id = %s AND ti.run_id = %s AND ti.state = 'success'", (DAG, run_id))
            rows = cur.fetchall()
    finally:
        conn.close()
    return {f"{task}[{index}] try {tries}": status for task, index, tries, status in rows}


def summary(stack: Any, run_id: str) -> dict[str, Any]:
    from pipeline.jobs.ingest import run_key_for
    from pipeline.spool import RUNS, Spool, default_root

    return Spool(default_root(str(stack.config.path / "data"))).read_json(RUNS, run_key_for(run_id))


def spool_empty(stack: Any) -> bool:
    from pipeline.spool import ENTRIES, TAGGED, Spool, default_root

    spool = Spool(default_root(str(stack.config.path / "data")))
    return spool.keys(ENTRIES) == [] and spool.keys(TAGGED) == []


def indexed_count(es: Any, site: Site, prefix: str = PREFIX) -> int:
    """How many of the site's articles are searchable now."""
    es.indices.refresh(index=f"{prefix}-articles")
    return int(es.count(index=f"{prefix}-articles", query={"terms": {"url": site.urls}})["count"])


def assert_exactly_once(es: Any, site: Site, prefix: str = PREFIX) -> dict[str, int]:
    """Every entry of the site is indexed, or recorded as an event, exactly once; no claim twice."""
    from elasticsearch import helpers

    es.indices.refresh(index=f"{prefix}-*")
    mine = {"terms": {"url": site.urls}}
    articles = list(helpers.scan(es, index=f"{prefix}-articles", query={"query": mine, "_source": ["url", "claim_ids"]}))
    indexed = Counter(a["_source"]["url"] for a in articles)
    events = [e["_source"] for e in helpers.scan(es, index=f"{prefix}-events", query={"query": {"bool": {
        "filter": [mine, {"terms": {"stage": list(ITEM_STAGES)}}]}}})]
    failed = Counter(e["url"] for e in events)
    for url in site.urls:
        assert indexed[url] + failed[url] == 1, (
            f"{url}: indexed {indexed[url]} time(s), {failed[url]} event(s): {[e for e in events if e['url'] == url]}")
    assert set(indexed) == set(site.ok_urls), f"unexpected articles: {set(indexed) ^ set(site.ok_urls)}"
    assert set(failed) == set(site.failed_urls), f"unexpected events: {set(failed) ^ set(site.failed_urls)}"
    claim_ids = [c for a in articles for c in a["_source"].get("claim_ids", [])]
    assert len(claim_ids) == len(set(claim_ids))
    claims = es.count(index=f"{prefix}-claims", query=mine)["count"]
    assert claims == len(claim_ids), f"{claims} claims stored, the articles name {len(claim_ids)}"
    return {"articles": len(articles), "events": len(events), "claims": claims}
