"""Subcommand parsers with a description and worked examples, the same way for every command."""

from __future__ import annotations

import argparse
import textwrap


def examples(text: str) -> str:
    """An `examples:` epilog from an indented block (kept as written)."""
    return "examples:\n" + textwrap.indent(textwrap.dedent(text).strip("\n"), "  ")


def add_command(sub: argparse._SubParsersAction, name: str, *, help: str, description: str,  # noqa: A002
                example: str, epilog: str = "") -> argparse.ArgumentParser:
    """`sub.add_parser` with `help` (the one-liner in the parent's list), a `description` (what it
    does for the user) and `example` lines; `epilog` adds notes after the examples."""
    return sub.add_parser(name, help=help, description=textwrap.dedent(description).strip(),
                          epilog=examples(example) + (f"\n\n{textwrap.dedent(epilog).strip()}" if epilog else ""),
                          formatter_class=argparse.RawDescriptionHelpFormatter)
