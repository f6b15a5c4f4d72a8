"""Functions the worker-pool tests run inside worker processes (importable by module path)."""

from __future__ import annotations

import os
import time

WARMED = False


def warm() -> None:
    global WARMED
    WARMED = True


def describe(arg: int) -> tuple[int, int, bool]:
    return arg * 2, os.getpid(), WARMED


def fail(arg: int) -> None:
    raise ValueError(f"bad item {arg}")


def die_on_three(arg: int) -> int:
    if arg == 3:
        os._exit(7)
    return arg


def sleepy(arg: float) -> float:
    time.sleep(arg)
    return arg


def chatty(arg: str) -> str:
    print("this goes to stderr, not into the protocol")
    return arg.upper()
