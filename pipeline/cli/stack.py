"""`newswatch stack up|status|down`: the local distributed stack (docs/scale-out.md)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.cli.helptext import add_command

if TYPE_CHECKING:
    from pipeline.stack.stack import Stack

ACTIONS = (
    ("up", "start every service that is not running and wait until each answers",
     "newswatch stack up\nnewswatch stack up --dir /tmp/stack --workers 3 --env NEWSWATCH_INGEST_CHUNK_SIZE=100"),
    ("status", "each service: stopped, running or ready (exit 0 only when all are ready)", "newswatch stack status"),
    ("down", "stop every service, last started first; nothing is left running", "newswatch stack down --remove"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "stack", help="run the production stack's Airflow, Celery and an Elasticsearch cluster locally",
        description="""
            The stack docker-compose.yml describes, with its Celery profile, on this machine and without
            Docker: PostgreSQL (Airflow's metadata database) and Redis (the Celery broker) from the
            distribution's packages, a three-node Elasticsearch cluster of the embedded node, and
            Airflow's API server, scheduler, dag-processor, triggerer and two Celery workers, all on
            127.0.0.1. Settings come from the compose file's variables, so NEWSWATCH_* and the other
            .env names set in this shell apply as they would in production.""",
        example="""
            newswatch stack up        # prints the Airflow UI's address and login once all answer
            newswatch stack status
            newswatch stack down""")
    actions = p.add_subparsers(dest="stack_action", required=True, metavar="ACTION")
    for name, help_text, example in ACTIONS:
        a = add_command(actions, name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                        example=example)
        a.add_argument("--dir", help="the stack's folder (default: <NEWSWATCH_DATA_DIR>/stack)")
        if name == "up":
            a.add_argument("--workers", type=int, default=2, help="Celery workers of a new stack (default 2)")
            a.add_argument("--es-nodes", type=int, default=3, help="Elasticsearch nodes of a new stack (default 3)")
            a.add_argument("--concurrency", type=int, default=0,
                           help="task slots per worker (default: Airflow's [celery] worker_concurrency)")
            a.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                           help="an extra variable for every Airflow service of a new stack (repeatable)")
            a.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for everything")
        if name == "down":
            a.add_argument("--remove", action="store_true", help="also delete the stack's folders and data")
    p.set_defaults(handler=_run)


def _folder(args: argparse.Namespace) -> Path:
    from pipeline.config import load_settings

    return Path(args.dir or Path(load_settings().data_dir) / "stack").expanduser()


def _run(args: argparse.Namespace) -> int:
    from pipeline.stack import compose, layout
    from pipeline.stack.errors import StackError
    from pipeline.stack.stack import Stack

    folder = _folder(args)
    prog = f"newswatch stack {args.stack_action}"
    if args.stack_action != "up" and layout.load(folder.resolve()) is None:
        print(f"no stack in {folder}", file=sys.stderr if args.stack_action == "status" else sys.stdout)
        return 1 if args.stack_action == "status" else 0
    try:
        if args.stack_action == "up":
            extra = dict(_pair(item) for item in args.env)
            names = compose.variables()
            dotenv = {k: v for k, v in os.environ.items() if k in names}
            stack = Stack.open(folder, es_nodes=args.es_nodes, workers=args.workers,
                               worker_concurrency=args.concurrency, dotenv=dotenv, extra_env=extra)
            print(f"starting the stack in {stack.config.root} (logs: {stack.config.root}/logs)", file=sys.stderr)
            stack.up(timeout=args.timeout)
            _print_status(stack)
            user, password = stack.config.admin
            print(f"Airflow UI and API: {stack.config.api_url} (user {user}, password {password})")
            print(f"Elasticsearch: {','.join(stack.config.es_urls())}")
            return 0
        stack = Stack.open(folder)
        if args.stack_action == "status":
            return 0 if _print_status(stack) else 1
        killed = stack.down()
        print("stopped" + (f" (had to kill: {', '.join(killed)})" if killed else ""))
        if args.remove:
            stack.remove()
            print(f"removed {stack.config.root}")
        return 0
    except StackError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 3
    except (compose.ComposeError, ValueError) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"--env wants KEY=VALUE, got {text!r}")
    return key, value


def _print_status(stack: Stack) -> bool:
    states = stack.status()
    for state in states:
        print(state.describe())
    return all(s.ready for s in states)
