"""`newswatch es start|status|stop`: the embedded Elasticsearch dev node (see docs/es-dev-node.md)."""

from __future__ import annotations

import argparse
import sys

from pipeline.cli.helptext import add_command

ACTIONS = (
    ("start", "start the node in the background; prints its URL once it answers",
     "newswatch es start\nnewswatch es start --port 9201 --data-dir /tmp/es-node"),
    ("status", "say whether the node runs and answers (exit 0 if it does, 1 if not)",
     "newswatch es status"),
    ("stop", "stop the node cleanly and wait for it", "newswatch es stop"),
)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "es", help="start, inspect or stop a local Elasticsearch node for development",
        description="""
            A real Elasticsearch (Elastic's own server code, run in-process by es-dev-node/) on this
            machine, without Docker: enough for the demo, the tests and trying newswatch out. It keeps
            its data in <NEWSWATCH_DATA_DIR>/es-node and listens on 127.0.0.1. docs/es-dev-node.md says
            what it lacks compared with a full cluster.""",
        example="""
            newswatch es start      # prints http://127.0.0.1:9200 once it answers
            newswatch es status
            newswatch es stop""")
    actions = p.add_subparsers(dest="es_action", required=True, metavar="ACTION")
    for name, help_text, example in ACTIONS:
        a = add_command(actions, name, help=help_text, description=help_text[0].upper() + help_text[1:] + ".",
                        example=example)
        a.add_argument("--data-dir", help="node folder (default: NEWSWATCH_ES_NODE_DIR or <data_dir>/es-node)")
        if name == "start":
            a.add_argument("--port", type=int, help="HTTP port on 127.0.0.1 (default: NEWSWATCH_ES_NODE_PORT or 9200)")
            a.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for it to answer")
        if name == "stop":
            a.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for a clean shutdown")
    p.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    from pipeline import devnode
    from pipeline.config import load_settings

    settings = load_settings()
    folder = args.data_dir or devnode.default_data_dir(settings)
    try:
        if args.es_action == "start":
            current = devnode.status(folder)
            if current.running:
                print(f"already running, not starting another: {current.describe()}", file=sys.stderr)
                if args.port is not None and current.url and not current.url.endswith(f":{args.port}"):
                    print(f"(--port {args.port} ignored: stop it first to change the port)", file=sys.stderr)
            port = settings.es_node_port if args.port is None else args.port
            print(devnode.start(folder, port=port, timeout=args.timeout, heap=settings.es_node_heap))
            return 0
        if args.es_action == "status":
            current = devnode.status(folder)
            print(current.describe())
            return 0 if current.running and current.responding else 1
        if devnode.stop(folder, timeout=args.timeout):
            print("stopped")
        else:
            print(f"not running: {folder}")
        return 0
    except devnode.DevNodeError as exc:
        print(f"newswatch es {args.es_action}: {exc}", file=sys.stderr)
        return 1
