"""`newswatch extract` (not implemented yet)."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="(not implemented yet)")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    print("newswatch extract: not implemented yet", file=sys.stderr)
    return 2
