"""`newswatch ingest PATH_OR_URL...`: extract, tag and index pages without Airflow; one status line per
input as it finishes, then a summary."""

from __future__ import annotations

import argparse

from pipeline.cli.helptext import add_command


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "ingest", help="extract, tag and index local pages (.html, .html.gz, .txt) or URLs",
        description="""
            Put articles into the index by hand, without Airflow: each input (a saved page, a text file
            or a URL, fetched politely) goes through the same steps as the feeds' articles: text
            extraction, claim and entity tagging, indexing. One line per input as it finishes, then a
            summary. Articles are keyed by URL, so ingesting one again updates it. An input that is
            neither a readable file nor an http(s) URL stops the command before anything is done
            (exit code 2); a page that cannot be used (HTTP error, too short, paywalled) is counted and
            recorded as a failure event, as the scheduled pipeline does (exit code 1).""",
        example="""
            newswatch ingest https://example.org/news/story.html
            newswatch ingest saved/*.html.gz notes.txt
            newswatch ingest --run-id import-2026-05 $(cat urls.txt)""")
    p.add_argument("sources", nargs="+", metavar="PATH_OR_URL")
    p.add_argument("--run-id", default=None, help="label recorded on failure events")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from pipeline.cli.progress import Progress
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings
    from pipeline.index.setup import ensure_indices
    from pipeline.jobs.sources import InputError, SourceResult, ingest_sources, input_problem

    sources = list(dict.fromkeys(args.sources))
    problems = {s: why for s in sources if (why := input_problem(s))}
    if problems:  # before the cluster is touched: a typo is a typo, whatever state Elasticsearch is in
        raise InputError(problems)
    settings = load_settings()
    es = client_from_settings(settings)
    ensure_indices(es, settings)
    shown: set[str] = set()
    with Progress(len(sources), "ingesting") as progress:
        def show(item: SourceResult) -> None:
            shown.add(item.source)
            progress.echo(item.line())
            progress.advance(item.source)

        report = ingest_sources(sources, settings, es, run_id=args.run_id, on_result=show)
    for item in report.items:
        if item.source not in shown:
            print(item.line())
    print(report.summary())
    return 0 if report.ok else 1
