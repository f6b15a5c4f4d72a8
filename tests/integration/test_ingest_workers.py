"""A chunk extracted and tagged in worker processes equals the same chunk done in-process.

Real HTTP (the simulator on 127.0.0.1), real trafilatura and spaCy in real worker interpreters.
"""

from __future__ import annotations

import pytest

from pipeline.config import load_settings
from pipeline.fetch.fetcher import entry_for_url
from pipeline.jobs import extract_tag, ingest
from pipeline.jobs.workers import shared_pool
from simulator import Simulator

pytestmark = pytest.mark.integration

BODY = ("The minister said on Tuesday that the bridge would reopen in {n} weeks. \"We are confident the "
        "repairs are sound,\" said Maria Lopez, a spokeswoman for the ministry. Critics disagreed. "
        "The opposition leader, John Carter, claimed the work might take longer than promised. "
        "Engineers from Acme Corp. told reporters the steel had been replaced in Lisbon.\n\n") * 3


def _settings(processes: int):
    return load_settings({}, allow_private_addresses=True, allowed_private_networks="127.0.0.0/8",
                         per_host_delay=0.0, per_host_concurrency=4, ingest_processes=processes)


def _comparable(lines: list[dict]) -> list[tuple]:
    out = []
    for line in lines:
        data = line["data"]
        if line["kind"] == "article":
            tags = data["tags"]
            out.append(("article", data["article"]["article_id"], data["article"]["text"],
                        [(c["text"], (c.get("speaker") or {}).get("name"), c["certainty"]) for c in tags["claims"]],
                        sorted((e["name"], e["type"]) for e in tags["entities"])))
        else:
            out.append(("event", data["stage"], data["status"], data["url"]))
    return out


def test_worker_processes_give_the_in_process_result(caplog: pytest.LogCaptureFixture):
    with Simulator(name="Workers Weekly") as sim:
        urls = [sim.add_article("news", f"Bridge story {n}", BODY.format(n=n), slug=f"bridge-{n}")
                for n in range(12)]
        urls.append(sim.url("/missing-page.html"))  # a fetch failure stays an event on both paths
        entries = [entry_for_url(u) for u in urls]

        with caplog.at_level("INFO", logger="pipeline.jobs.ingest"):
            in_process = ingest.tag_entries(entries, _settings(1), run_id="r").lines
            in_workers = ingest.tag_entries(entries, _settings(2), run_id="r").lines

    paths = [r.getMessage().rsplit("(", 1)[-1] for r in caplog.records if "extracted and tagged" in r.getMessage()]
    assert paths == ["in-process)", "2 worker processes, 0 batches redone in-process)"]
    assert len([w for w in shared_pool(extract_tag.WORKER_WARM_UP).workers if w.alive()]) == 2
    assert _comparable(in_workers) == _comparable(in_process)
    kinds = [x["kind"] for x in in_process]
    assert kinds.count("article") == 12 and kinds.count("event") == 1
    assert all(x["data"]["tags"]["claims"] for x in in_process if x["kind"] == "article")


def test_retagging_in_worker_processes_gives_the_in_process_result():
    from pipeline.outcomes import Outcome
    from pipeline.records import Article

    articles = [Article(article_id=f"a{n}", url=f"http://x.test/{n}", canonical_url=f"http://x.test/{n}",
                        title=f"Bridge story {n}", outcome=Outcome.success(), text=BODY.format(n=n))
                for n in range(10)]
    here = extract_tag.tag_stored(articles, _settings(1))
    there = extract_tag.tag_stored(articles, _settings(2))
    assert (here.workers, there.workers, there.redone) == (0, 2, 0)
    assert _comparable(there.lines) == _comparable(here.lines)
    assert [x["data"]["article"]["article_id"] for x in there.lines] == [a.article_id for a in articles]
