"""`newswatch kibana export|import`: regenerate kibana/saved_objects.ndjson, or load it into Kibana."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.helptext import add_command
from pipeline.config import REPO_ROOT

DEFAULT_FILE = REPO_ROOT / "kibana" / "saved_objects.ndjson"


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "kibana", help="export or import the Kibana saved objects (data views, searches, dashboard)",
        description="""
            newswatch's ready-made Kibana views: data views for articles, claims, feeds and events, the
            saved searches ("Claims by speaker", "Low-certainty claims", "Failed fetches") and the
            "newswatch overview" dashboard. `import` loads them into a running Kibana; `export`
            regenerates kibana/saved_objects.ndjson from their definitions in pipeline/kibana.""",
        example="""
            newswatch kibana import --url http://localhost:5601
            newswatch kibana export --check     # exit 1 if kibana/saved_objects.ndjson is stale""")
    ksub = p.add_subparsers(dest="kibana_command", required=True, metavar="ACTION")
    e = add_command(ksub, "export", help="regenerate the saved objects NDJSON from pipeline/kibana",
                    description="Write the saved objects (from pipeline/kibana) to an NDJSON file Kibana can "
                                "import.",
                    example="newswatch kibana export\nnewswatch kibana export --out /tmp/objects.ndjson --check")
    e.add_argument("--out", type=Path, default=DEFAULT_FILE, help=f"output file (default {DEFAULT_FILE})")
    e.add_argument("--check", action="store_true", help="exit 1 if the file is not current; write nothing")
    e.set_defaults(handler=_export)
    i = add_command(ksub, "import", help="import the saved objects through Kibana's saved objects API",
                    description="Load the saved objects into Kibana (credentials: NEWSWATCH_KIBANA_USERNAME / "
                                "_PASSWORD;\nspace: NEWSWATCH_KIBANA_SPACE). Existing objects are replaced "
                                "unless --no-overwrite.",
                    example="newswatch kibana import --url http://localhost:5601\n"
                            "newswatch kibana import --file kibana/saved_objects.ndjson --no-overwrite")
    i.add_argument("--url", help="Kibana URL (default: NEWSWATCH_KIBANA_URL)")
    i.add_argument("--file", type=Path, help="NDJSON to import (default: generated from the definitions)")
    i.add_argument("--no-overwrite", action="store_true", help="keep objects that already exist")
    i.set_defaults(handler=_import)


def _generated() -> str:
    from pipeline.config import load_settings
    from pipeline.kibana.objects import build_saved_objects, to_ndjson

    return to_ndjson(build_saved_objects(load_settings().index_prefix))


def _export(args: argparse.Namespace) -> int:
    from pipeline.config import load_settings
    from pipeline.kibana.objects import build_saved_objects, to_ndjson

    text = to_ndjson(build_saved_objects(load_settings().index_prefix))
    current = args.out.read_text(encoding="utf-8") if args.out.exists() else None
    if args.check:
        if current != text:
            print(f"{args.out} is out of date: run `newswatch kibana export`", file=sys.stderr)
            return 1
        print(f"{args.out} is current")
        return 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"wrote {text.count(chr(10))} saved object(s) to {args.out}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from pipeline.config import load_settings
    from pipeline.kibana.client import import_saved_objects

    settings = load_settings()
    text = args.file.read_text(encoding="utf-8") if args.file else _generated()
    result = import_saved_objects(text, settings, args.url, overwrite=not args.no_overwrite)
    print(f"imported {result.success_count} saved object(s) into {args.url or settings.kibana_url}")
    for error in result.errors:
        print(f"  error: {error}", file=sys.stderr)
    return 0 if result.success and not result.errors else 1
