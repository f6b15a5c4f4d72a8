"""`newswatch tag`: tag a text file (or stdin) and print its claims and entities as JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.cli.helptext import add_command


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "tag", help="tag a text with claims and entities (prints one TagResult JSON object)",
        description="""
            Run newswatch's tagger on a plain text and print what it finds, as JSON: the claims (each
            with its speaker, the verb that reports it, how certain it is, what it is about, and where
            it sits in the text) and the entities (people, organisations, places, with their aliases
            resolved: "DPRK" and "North Korea" are one entity). Nothing is indexed. The format is
            pipeline/tagging/schema.py; docs/tagging.md explains the fields.""",
        example="""
            newswatch tag article.txt
            newswatch tag --indent 2 - < article.txt
            newswatch extract --json page.html | jq -r .text | newswatch tag -""")
    p.add_argument("file", help="text file to tag, or - for stdin")
    p.add_argument("--json", action="store_true", help="print JSON (the default and only format)")
    p.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    p.set_defaults(handler=_run)


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return Path(source).read_text(encoding="utf-8", errors="replace")


def _run(args: argparse.Namespace) -> int:
    text = _read(args.file)  # a missing file is an input error (exit 2), said by `main`
    from pipeline.tagging.tagger import get_tagger

    print(get_tagger().tag(text).model_dump_json(indent=args.indent))
    return 0
