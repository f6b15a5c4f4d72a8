"""Entry point of a worker process: `python -m pipeline.jobs.worker [module:warm_up]`.

Reads (function, argument) frames from stdin, answers ("ok", result) or ("error", reason) on the
original stdout, and leaves when stdin closes. Anything else printed goes to stderr, so a stray
print cannot corrupt the protocol.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from typing import Any

from pipeline.jobs.workers import WorkerGone, read_frame, write_frame


def resolve(ref: str) -> Callable[..., Any]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: list[str]) -> int:
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    inbox = sys.stdin.buffer
    if argv:
        resolve(argv[0])()
    cache: dict[str, Callable[..., Any]] = {}
    while True:
        try:
            ref, arg = read_frame(inbox)
        except WorkerGone:
            return 0
        try:
            func = cache.get(ref) or cache.setdefault(ref, resolve(ref))
            answer: tuple[str, Any] = ("ok", func(arg))
        except Exception as exc:
            answer = ("error", f"{type(exc).__name__}: {exc}")
        write_frame(channel, answer)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
