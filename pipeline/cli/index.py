"""`newswatch index setup|status|migrate`: templates and aliases, versions and drift, migrations."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="create, inspect and migrate the Elasticsearch indices")
    isub = p.add_subparsers(dest="index_command", required=True, metavar="ACTION")
    s = isub.add_parser("setup", help="create templates, ILM policy, indices and aliases (idempotent)")
    s.add_argument("--json", action="store_true", help="print the setup report as JSON")
    s.set_defaults(handler=_setup)
    st = isub.add_parser("status", help="versions, document counts and mapping drift per index")
    st.add_argument("--json", action="store_true", help="print JSON")
    st.set_defaults(handler=_status)
    m = isub.add_parser("migrate", help="copy into the next index version and flip the alias atomically")
    m.add_argument("kinds", nargs="*", metavar="KIND", help="articles, claims, feeds, events (default: all)")
    m.add_argument("--delete-old", action="store_true", help="delete the previous version after the flip")
    m.set_defaults(handler=_migrate)


def _client() -> tuple:
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings

    settings = load_settings()
    return client_from_settings(settings), settings


def _setup(args: argparse.Namespace) -> int:
    from pipeline.index.errors import IndexLayerError
    from pipeline.index.setup import setup_indices

    es, settings = _client()
    try:
        report = setup_indices(es, settings)
    except IndexLayerError as exc:
        print(f"newswatch index setup: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"features": report.features.as_dict(), "created": report.created,
                          "adopted": report.adopted, "mapping_updated": report.mapping_updated,
                          "drift": report.drift, "ilm": report.ilm}, indent=2))
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
    print("indices ready")
    return 1 if report.drift else 0


def _status(args: argparse.Namespace) -> int:
    from pipeline.index.errors import IndexLayerError
    from pipeline.index.migrate import index_status

    es, settings = _client()
    try:
        statuses = index_status(es, settings)
    except IndexLayerError as exc:
        print(f"newswatch index status: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([{**s.__dict__, "drift": s.drift} for s in statuses], indent=2))
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
        if s.extra_fields:
            print(f"   note: {len(s.extra_fields)} live field(s) not in the code's mapping: "
                  f"{', '.join(s.extra_fields[:8])}")
    return 1 if any(s.drift for s in statuses) else 0


def _migrate(args: argparse.Namespace) -> int:
    from pipeline.index.errors import IndexLayerError
    from pipeline.index.migrate import migrate
    from pipeline.index.names import KINDS

    bad = [k for k in args.kinds if k not in KINDS]
    if bad:
        print(f"newswatch index migrate: unknown kind(s) {', '.join(bad)}; choose from {', '.join(KINDS)}",
              file=sys.stderr)
        return 2
    es, settings = _client()
    try:
        results = migrate(es, settings, args.kinds or None, delete_old=args.delete_old)
    except IndexLayerError as exc:
        print(f"newswatch index migrate: {exc}", file=sys.stderr)
        return 1
    for r in results:
        old = ", ".join(r.source) or "(none)"
        print(f"{r.alias}: {old} -> {r.target}  {r.copied} doc(s) by {r.method} in {r.seconds:.1f}s"
              + ("  (old deleted)" if r.deleted_old else ""))
    return 0
