"""Spread a CPU-bound step over the machine's cores: the items are cut into slices, forked children
take all but the first, the caller takes the first, and the results come back in slice order.

Forking (not spawning) is what makes this cheap per chunk: a child inherits the loaded spaCy model
and the pages, so only the results cross a pipe. Where forking is unavailable (no `fork`, or a
daemonic worker process) or a chunk is too small to pay for it, everything runs in the caller. A
child that dies without an answer costs time, not items: the caller redoes its slice.
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def plan_processes(n_items: int, wanted: int, min_per_process: int) -> int:
    """How many processes to use: `wanted` (0 = one per available core), no more than the items
    give each at least `min_per_process`, and at least one."""
    wanted = wanted if wanted > 0 else available_cores()
    return max(1, min(wanted, n_items // max(1, min_per_process)))


def _can_fork() -> bool:
    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def slices(items: Sequence[T], n: int) -> list[Sequence[T]]:
    """`n` contiguous slices whose sizes differ by at most one."""
    size, extra = divmod(len(items), n)
    out, start = [], 0
    for i in range(n):
        end = start + size + (1 if i < extra else 0)
        out.append(items[start:end])
        start = end
    return out


def _child(fn: Callable[[Sequence[Any]], Any], part: Sequence[Any], conn: Any) -> None:
    try:
        conn.send(("ok", fn(part)))
    except BaseException as exc:  # the parent decides what a failed slice means
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        conn.close()
        # leave now: exit handlers inherited from the parent (Airflow's task runner among them) may
        # wait on the parent's sockets, and the parent waits for this process to end
        os._exit(0)


class Forked:
    """Slices running in forked children; `results()` waits for them and returns their results in
    slice order, redoing here any slice whose child failed or could not be started."""

    def __init__(self, fn: Callable[[Sequence[Any]], Any], parts: list[Sequence[Any]]) -> None:
        self.fn = fn
        self.children: list[tuple[Any, Any, Sequence[Any]]] = []
        ctx = multiprocessing.get_context("fork") if _can_fork() else None
        if ctx is not None and parts:
            for stream in (sys.stdout, sys.stderr):  # or a child flushes a copy of what is buffered
                stream.flush()
            # the children's garbage collector then leaves the inherited heap alone, instead of
            # writing to (and so copying) every page of it
            gc.freeze()
        try:
            self._start(ctx, parts)
        finally:
            if ctx is not None and parts:
                gc.unfreeze()

    def _start(self, ctx: Any, parts: list[Sequence[Any]]) -> None:
        fn = self.fn
        for part in parts:
            if ctx is None:
                self.children.append((None, None, part))
                continue
            receiver, sender = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_child, args=(fn, part, sender), daemon=True)
            try:
                proc.start()
            except (OSError, AssertionError) as exc:  # out of processes, or not allowed to have children
                log.warning("could not fork a worker (%s); its slice runs here", exc)
                proc = None
            sender.close()
            self.children.append((proc, receiver, part))

    def results(self) -> list[Any]:
        out = []
        for proc, receiver, part in self.children:
            answer: tuple[str, Any] | None = None
            if proc is not None:
                try:
                    answer = receiver.recv()
                except (EOFError, OSError):
                    answer = None
                proc.join()
            if receiver is not None:
                receiver.close()
            if answer is not None and answer[0] == "ok":
                out.append(answer[1])
                continue
            if proc is not None:
                reason = answer[1] if answer is not None else f"ended without an answer (exit code {proc.exitcode})"
                log.warning("a worker failed on %d items (%s); redoing them here", len(part), reason)
            out.append(self.fn(part))
        self.children = []
        return out

    def cancel(self) -> None:
        for proc, receiver, _ in self.children:
            if proc is not None:
                proc.terminate()
                proc.join()
            if receiver is not None:
                receiver.close()
        self.children = []


def fork_slices(fn: Callable[[Sequence[T]], R], parts: list[Sequence[T]]) -> Forked:
    """Start fn(part) for every part in its own forked child (or, without fork, later, here)."""
    return Forked(fn, parts)


def map_slices(fn: Callable[[Sequence[T]], R], items: Sequence[T], processes: int) -> list[R]:
    """[fn(slice) for each of `processes` slices of `items`], the slices after the first in forked
    children. With one process (or no fork), a single call fn(items)."""
    if processes <= 1 or len(items) < 2 or not _can_fork():
        return [fn(items)]
    parts = slices(items, min(processes, len(items)))
    forked = fork_slices(fn, parts[1:])
    try:
        first = fn(parts[0])
    except BaseException:
        forked.cancel()  # the caller's slice failed: no one will read theirs
        raise
    return [first, *forked.results()]


def _serve(fn: Callable[[Sequence[Any]], Any], conn: Any) -> None:
    while True:
        try:
            part = conn.recv()
        except (EOFError, OSError):
            os._exit(0)
        if part is None:
            os._exit(0)  # see _child
        try:
            conn.send(("ok", fn(part)))
        except BaseException as exc:  # the parent decides what a failed slice means
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class Workers:
    """`n` forked workers that live through several rounds: `submit(parts)` hands out one part per
    worker, `results()` collects them in order. Forking once per chunk instead of once per part
    keeps the cost of copying inherited pages (written to by reference counting) to one per worker.
    A worker that fails or dies has its part redone here, and gets no more parts."""

    def __init__(self, fn: Callable[[Sequence[Any]], Any], n: int) -> None:
        self.fn = fn
        self.workers: list[tuple[Any, Any]] = []
        self.pending: list[tuple[Any, Sequence[Any]]] = []
        if n < 1 or not _can_fork():
            return
        ctx = multiprocessing.get_context("fork")
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        gc.freeze()
        try:
            for _ in range(n):
                mine, theirs = ctx.Pipe()
                proc = ctx.Process(target=_serve, args=(fn, theirs), daemon=True)
                try:
                    proc.start()
                except (OSError, AssertionError) as exc:
                    log.warning("could not fork a worker (%s)", exc)
                    break
                theirs.close()
                self.workers.append((proc, mine))
        finally:
            gc.unfreeze()

    @property
    def size(self) -> int:
        return len(self.workers)

    def submit(self, parts: list[Sequence[Any]]) -> None:
        """One part per worker (parts beyond the live workers run here at `results()`)."""
        self.pending = []
        for n, part in enumerate(parts):
            worker = self.workers[n] if n < len(self.workers) else None
            if worker is not None:
                try:
                    worker[1].send(part)
                except (OSError, ValueError):
                    worker = None
            self.pending.append((worker, part))

    def results(self) -> list[Any]:
        out = []
        for worker, part in self.pending:
            answer: tuple[str, Any] | None = None
            if worker is not None:
                try:
                    answer = worker[1].recv()
                except (EOFError, OSError):
                    answer = None
            if answer is not None and answer[0] == "ok":
                out.append(answer[1])
                continue
            if worker is not None:
                log.warning("a worker failed on %d items (%s); redoing them here", len(part),
                            answer[1] if answer is not None else "it ended without an answer")
                self._drop(worker)
            out.append(self.fn(part))
        self.pending = []
        return out

    def _drop(self, worker: tuple[Any, Any]) -> None:
        proc, conn = worker
        proc.terminate()
        proc.join()
        conn.close()
        self.workers = [w for w in self.workers if w is not worker]

    def close(self) -> None:
        for _proc, conn in self.workers:
            try:
                conn.send(None)
            except (OSError, ValueError):
                pass
        for proc, conn in self.workers:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.terminate()
                proc.join()
            conn.close()
        self.workers = []

    def terminate(self) -> None:
        for worker in list(self.workers):
            self._drop(worker)
        self.pending = []

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        if exc_type is None:
            self.close()
        else:
            self.terminate()
