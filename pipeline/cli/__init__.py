"""The `newswatch` command. Each subcommand lives in its own module with a `register(subparsers)`.

Heavy libraries are imported inside the handlers, so `newswatch --help` stays fast. Handlers raise;
`main` turns what reaches it into one human message and an exit code (`errors`), with a traceback
only under `--debug`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from types import TracebackType

from pipeline.cli import errors

SUBCOMMAND_MODULES = ("demo", "es", "feeds", "ingest", "extract", "tag", "search", "watch", "index", "kibana",
                      "stack")

DESCRIPTION = """\
newswatch follows the news for you. It polls news sites' feeds, downloads each new article, extracts
its text, finds the claims in it (who said what, about whom, and how certain they sound) and the
people, organisations and places it names, and indexes everything in Elasticsearch. You then search
articles and claims here (`newswatch search`) or in Kibana, and get alerts when something new
matches a saved search (`newswatch watch`). Apache Airflow runs the same steps on a schedule
(docs/airflow.md); these commands run them by hand."""

EPILOG = f"""\
getting started:
  newswatch demo                                   # the whole pipeline once, on a built-in demo site
  newswatch es start                               # a local Elasticsearch at http://127.0.0.1:9200
  newswatch ingest https://example.org/story.html  # one article: extract, tag, index
  newswatch search "North Korea" --claims          # what was said about it
  newswatch COMMAND --help                         # each command, with examples

{errors.EXIT_CODES_HELP}

Settings come from NEWSWATCH_* environment variables (.env.example lists them all)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newswatch", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    parser.add_argument("--debug", action="store_true",
                        help="debug logging, and the traceback behind any error message")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMAND_MODULES:
        importlib.import_module(f"pipeline.cli.{name}").register(sub)
    _name_commands(parser)
    return parser


def subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser's direct subcommand parsers (each once, though aliases may repeat them)."""
    found: dict[int, argparse.ArgumentParser] = {}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                found.setdefault(id(child), child)
    return list(found.values())


def _name_commands(parser: argparse.ArgumentParser) -> None:
    """Every parser records its full name ("newswatch index migrate") for the messages."""
    parser.set_defaults(prog=parser.prog)
    for child in subparsers(parser):
        _name_commands(child)


class _BriefFormatter(logging.Formatter):
    """Log lines without tracebacks: the exception in one line (`--debug` shows them in full)."""

    def formatException(self, ei: tuple[type[BaseException], BaseException, TracebackType | None]  # noqa: N802
                        | tuple[None, None, None]) -> str:
        return f"  ({ei[0].__name__ if ei[0] else 'error'}: {ei[1]})"

    def formatStack(self, stack_info: str) -> str:  # noqa: N802
        return ""


def configure_logging(verbose: int, debug: bool) -> None:
    level = logging.DEBUG if debug else logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler()
    if debug or verbose:
        fmt = "%(asctime)s %(levelname)s %(name)s: %(message)s"
        handler.setFormatter(logging.Formatter(fmt) if debug else _BriefFormatter(fmt))
    else:
        handler.setFormatter(_BriefFormatter("%(levelname)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
    if not debug and verbose < 2:
        # the client logs every retry with a traceback; the error message at the end says what failed
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose, args.debug)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print(f"{args.prog}: interrupted", file=sys.stderr)
        return errors.INTERRUPTED
    except BrokenPipeError:  # the reader went away (`newswatch search ... | head`): nothing to say
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return errors.ITEMS_FAILED
    except Exception as exc:  # the one boundary where errors become messages
        explained = errors.explain(exc)
        if args.debug:
            traceback.print_exc()
        print(f"{args.prog}: {explained.message}", file=sys.stderr)
        if explained.hint:
            print(f"  {explained.hint}", file=sys.stderr)
        return explained.code


if __name__ == "__main__":
    sys.exit(main())
