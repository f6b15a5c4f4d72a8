"""`newswatch ingest PATH_OR_URL...`: extract, tag and index pages without Airflow; one status line per input."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="extract, tag and index local pages (.html, .html.gz, .txt) or URLs")
    p.add_argument("sources", nargs="+", metavar="PATH_OR_URL")
    p.add_argument("--run-id", default=None, help="label recorded on failure events")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings
    from pipeline.index.errors import IndexLayerError
    from pipeline.index.setup import ensure_indices
    from pipeline.jobs.sources import ingest_sources

    settings = load_settings()
    es = client_from_settings(settings)
    try:
        ensure_indices(es, settings)
        report = ingest_sources(args.sources, settings, es, run_id=args.run_id)
    except IndexLayerError as exc:
        print(f"newswatch ingest: {exc}", file=sys.stderr)
        return 1
    for item in report.items:
        print(item.line())
    print(report.summary())
    return 0 if report.ok else 1
