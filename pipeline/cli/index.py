"""`newswatch index setup|status|migrate|stories`: templates and aliases, versions and drift, migrations,
the stories back-fill."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from pipeline.cli.helptext import add_command

if TYPE_CHECKING:
    from elasticsearch import Elasticsearch

    from pipeline.config import Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "index", help="create, inspect and migrate the Elasticsearch indices",
        description="""
            Look after newswatch's indices in Elasticsearch: articles, claims, feeds and events, each
            behind an alias. `setup` creates or updates them from the code's mappings (run it after an
            upgrade; it is safe to repeat), `status` shows each index's version, size and any drift
            between the live mapping and the code's, and `migrate` copies an index into a new version
            and moves the alias at once, so searches keep working.""",
        example="""
            newswatch index setup
            newswatch index status
            newswatch index migrate articles --delete-old""",
        epilog="Exit code 1 from setup and status means drift: run `newswatch index migrate`.")
    isub = p.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    s = add_command(isub, "setup", help="create templates, ILM policy, indices and aliases (idempotent)",
                    description="Create or update the index templates, the ILM policy (where the cluster has "
                                "ILM), the indices\nand their aliases. Safe to repeat.",
                    example="newswatch index setup\nNEWSWATCH_ES_URL=https://es.internal:9200 newswatch index setup")
    s.add_argument("--json", action="store_true", help="print the setup report as JSON")
    s.set_defaults(handler=_setup)
    st = add_command(isub, "status", help="versions, document counts and mapping drift per index",
                     description="Per alias: the index versions behind it, their document counts, fields "
                                 "whose live mapping\ndiffers from the code's (drift: exit code 1), and documents "
                                 "indexed before the English\nanalysis was added (re-index them with `migrate`).",
                     example="newswatch index status\nnewswatch index status --json")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(handler=_status)
    m = add_command(isub, "migrate", help="copy into the next index version and flip the alias atomically",
                    description="Copy each index into its next version (built from the current mappings), "
                                "check the counts,\nthen move the alias in one step. The old index stays "
                                "unless --delete-old.",
                    example="newswatch index migrate            # every kind\nnewswatch index migrate claims "
                            "--delete-old")
    m.add_argument("kinds", nargs="*", metavar="KIND", help="articles, claims, feeds, events (default: all)")
    m.add_argument("--delete-old", action="store_true", help="delete the previous version after the flip")
    m.set_defaults(handler=_migrate)
    sto = add_command(isub, "stories", help="group stored articles into stories (back-fill; idempotent)",
                      description="Cluster the stored articles, oldest first, into stories: copies of one "
                                  "article\nacross outlets (docs/stories.md). Articles already in a story keep "
                                  "it, so it is safe to repeat.",
                      example="newswatch index stories\nnewswatch index stories --missing   # only articles "
                              "indexed before stories\nnewswatch index stories --settle    # lagging copies of "
                              "growing stories, now")
    sto.add_argument("--missing", action="store_true", help="only articles without story fields")
    sto.add_argument("--limit", type=int, default=None, metavar="N", help="at most N articles")
    sto.add_argument("--settle", action="store_true",
                     help="instead, give the earlier copies of growing stories the exact story fields now "
                          "(news_ingest does it once no copy has joined a story for NEWSWATCH_STORY_SETTLE_MINUTES)")
    sto.set_defaults(handler=_stories)


def _client() -> tuple:
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings

    settings = load_settings()
    return client_from_settings(settings), settings


def _setup(args: argparse.Namespace) -> int:
    from pipeline.index.setup import setup_indices

    es, settings = _client()
    report = setup_indices(es, settings)
    if args.json:
        print(json.dumps({"features": report.features.as_dict(), "created": report.created,
                          "adopted": report.adopted, "mapping_updated": report.mapping_updated,
                          "drift": report.drift, "ilm": report.ilm,
                          "without_english": report.without_english, "advice": report.advice}, indent=2))
        return 0
    f = report.features
    print(f"Elasticsearch {f.version} at {settings.es_url}")
    for name, instead in f.missing().items():
        print(f"  degraded: no {name}: {instead}")
    print(f"  ILM: {report.ilm}")
    for index in report.created:
        print(f"  created {index}")
    for index in report.adopted:
        print(f"  adopted a plain index into {index}")
    for alias in report.mapping_updated:
        print(f"  updated mapping of {alias}")
    for alias, problem in report.drift.items():
        print(f"  DRIFT {alias}: {problem} (run `newswatch index migrate`)")
    if report.advice:
        print(f"  re-index needed: {report.advice}")
    print("indices ready")
    return 1 if report.drift else 0


def _status(args: argparse.Namespace) -> int:
    from pipeline.index.migrate import index_status

    es, settings = _client()
    statuses = index_status(es, settings)
    if args.json:
        print(json.dumps([{**s.__dict__, "drift": s.drift, "advice": s.advice} for s in statuses], indent=2))
        return 1 if any(s.drift for s in statuses) else 0
    for s in statuses:
        current = ", ".join(s.current) or "(missing: run `newswatch index setup`)"
        print(f"{s.alias} -> {current}  docs={s.docs}  template={'yes' if s.template else 'NO'}")
        for index, count in s.versions.items():
            mark = "*" if index in s.current else " "
            print(f"   {mark} {index}: {count} doc(s)")
        for name, kind in s.missing_fields.items():
            print(f"   drift: {name} ({kind}) is missing from the live mapping")
        for name, what in s.wrong_type.items():
            print(f"   drift: {name} is {what}")
        if s.advice:
            print(f"   re-index needed: {s.advice}")
        if s.extra_fields:
            print(f"   note: {len(s.extra_fields)} live field(s) not in the code's mapping: "
                  f"{', '.join(s.extra_fields[:8])}")
    return 1 if any(s.drift for s in statuses) else 0


def _migrate(args: argparse.Namespace) -> int:
    from pipeline.cli.progress import Progress
    from pipeline.index.migrate import migrate
    from pipeline.index.names import KINDS

    bad = [k for k in args.kinds if k not in KINDS]
    if bad:
        print(f"newswatch index migrate: unknown kind(s) {', '.join(bad)}; choose from {', '.join(KINDS)}",
              file=sys.stderr)
        return 2
    es, settings = _client()
    kinds = list(dict.fromkeys(args.kinds)) or list(KINDS)
    with Progress(len(kinds), "migrating") as progress:
        for kind in kinds:  # one at a time, so each finished index shows at once
            progress.advance(kind, n=0)
            (r,) = migrate(es, settings, [kind], delete_old=args.delete_old)
            old = ", ".join(r.source) or "(none)"
            progress.echo(f"{r.alias}: {old} -> {r.target}  {r.copied} doc(s) by {r.method} in {r.seconds:.1f}s"
                          + ("  (old deleted)" if r.deleted_old else ""))
            progress.advance()
    return 0


def _stories(args: argparse.Namespace) -> int:
    from pipeline.cli.progress import Progress
    from pipeline.index.names import IndexNames
    from pipeline.index.setup import ensure_indices
    from pipeline.stories.backfill import backfill, missing_only

    es, settings = _client()
    ensure_indices(es, settings)
    if args.settle:
        return _settle(es, settings)
    query = missing_only() if args.missing else {"match_all": {}}
    total = es.count(index=IndexNames(settings.index_prefix).articles, query=query)["count"]
    if args.limit is not None:
        total = min(total, args.limit)
    with Progress(total, "grouping into stories") as progress:
        report = backfill(es, settings, only_missing=args.missing, limit=args.limit,
                          progress=lambda n: progress.advance(n=n))
    print(report.line())
    return 0


def _settle(es: Elasticsearch, settings: Settings) -> int:
    from datetime import timedelta

    from pipeline.stories.assign import Stories

    stories, updated = Stories(es, settings), 0
    while n := stories.settle(timedelta(0)):
        updated += n
    print(f"{updated} earlier cop{'y' if updated == 1 else 'ies'} of growing stories given the exact story fields")
    return 0
