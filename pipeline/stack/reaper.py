"""The stack's watchdog: when the process that owns a stack ends, however it ends (a test session
killed with SIGKILL), it kills every process of the stack and, with --remove, deletes its folders.

    python -m pipeline.stack.reaper --root STACK_DIR --owner PID [--remove]

`Stack.up` starts it when the stack has an owner; `Stack.down` stops it.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import psutil

from pipeline.stack import layout
from pipeline.stack.processes import kill_marked


def owner_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.stack.reaper", description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="the stack's folder (its stack.json)")
    parser.add_argument("--owner", type=int, required=True, help="take the stack down when this process ends")
    parser.add_argument("--remove", action="store_true", help="then delete the stack's folders")
    parser.add_argument("--interval", type=float, default=1.0)
    args = parser.parse_args(argv)
    config = layout.load(Path(args.root))
    if config is None:
        print(f"reaper: no stack in {args.root}", file=sys.stderr)
        return 1
    while owner_alive(args.owner):
        time.sleep(args.interval)
    killed = kill_marked(config.stack_id, config.service_dirs())
    print(f"reaper: owner {args.owner} is gone; killed {killed} process(es) of stack {config.stack_id}", flush=True)
    if args.remove:
        shutil.rmtree(config.pg_dir, ignore_errors=True)
        shutil.rmtree(config.root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
