"""`newswatch tag`: tag a text file (or stdin) and print its claims and entities as JSON."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tag", help="tag a text with claims and entities (prints one TagResult JSON object)")
    p.add_argument("file", help="text file to tag, or - for stdin")
    p.add_argument("--json", action="store_true", help="print JSON (the default and only format)")
    p.add_argument("--indent", type=int, default=None, help="pretty-print with this indent")
    p.set_defaults(handler=_run)


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    return Path(source).read_text(encoding="utf-8", errors="replace")


def _run(args: argparse.Namespace) -> int:
    try:
        text = _read(args.file)
    except OSError as exc:
        print(f"newswatch tag: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    from pipeline.tagging.nlp import ModelUnavailable
    from pipeline.tagging.tagger import get_tagger

    try:
        result = get_tagger().tag(text)
    except ModelUnavailable as exc:
        print(f"newswatch tag: {exc}", file=sys.stderr)
        return 3
    print(result.model_dump_json(indent=args.indent))
    return 0
