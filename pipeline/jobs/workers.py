"""A pool of long-lived worker interpreters for CPU-bound steps (extraction and tagging).

Each worker is a fresh `python -m pipeline.jobs.worker` process, not a fork: nothing of the parent
(Airflow's task runner, its threads, sockets and locks, a test runner) is inherited, so a worker
cannot deadlock on state it never had. A worker loads its warm-up (the spaCy model) once, then runs
jobs until its stdin closes; the pool lives as long as the process that made it, so a process that
runs many chunks (the demo, `dag.test`, the CLI) pays the start-up once.

`WorkerPool.map` hands out batches one at a time to whichever worker is free and returns one
`BatchResult` per batch, in order. A batch whose worker dies, hangs past the deadline or raises is
returned as a failure with the reason; the caller decides (the ingest job redoes it in-process), so
a worker problem costs time, never items.
"""

from __future__ import annotations

import atexit
import logging
import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

HEADER = struct.Struct("!Q")
MAX_FRAME = 1 << 30


class WorkerGone(Exception):
    """The worker process ended or broke the protocol."""


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def plan_workers(n_items: int, wanted: int, min_per_worker: int) -> int:
    """Workers to use: `wanted` (0 = one per available core), fewer when the items would give a
    worker less than `min_per_worker`; 0 or 1 means "run in-process"."""
    wanted = wanted if wanted > 0 else available_cores()
    return max(1, min(wanted, n_items // max(1, min_per_worker)))


def write_frame(stream: IO[bytes], obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def read_frame(stream: IO[bytes]) -> Any:
    head = _read_exact(stream, HEADER.size)
    (size,) = HEADER.unpack(head)
    if size > MAX_FRAME:
        raise WorkerGone(f"frame of {size} bytes exceeds the limit")
    return pickle.loads(_read_exact(stream, size))


def _read_exact(stream: IO[bytes], size: int) -> bytes:
    chunks = []
    left = size
    while left:
        chunk = stream.read(left)
        if not chunk:
            raise WorkerGone("end of stream")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


@dataclass
class BatchResult:
    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Worker:
    """One worker process and its two pipes."""

    def __init__(self, warm: str | None) -> None:
        package_root = str(Path(__file__).resolve().parents[2])
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
        # the pool is the parallelism: one BLAS thread per worker, not one per core in each of them
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env.setdefault(name, "1")
        cmd = [sys.executable, "-m", "pipeline.jobs.worker"] + ([warm] if warm else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
                                     close_fds=True)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def call(self, func: str, arg: Any) -> Any:
        """Run `func(arg)` in the worker; raises WorkerGone if it dies, RuntimeError if func raised."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        try:
            write_frame(self.proc.stdin, (func, arg))
            status, value = read_frame(self.proc.stdout)
        except (OSError, EOFError, pickle.UnpicklingError, ValueError) as exc:
            raise WorkerGone(f"{type(exc).__name__}: {exc}") from exc
        if status != "ok":
            raise RuntimeError(value)
        return value

    def stop(self, grace: float = 2.0) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=grace)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()
        finally:
            if self.proc.stdout is not None:
                self.proc.stdout.close()

    def kill(self) -> None:
        self.proc.kill()
        self.stop(grace=5.0)


class WorkerPool:
    def __init__(self, warm: str | None = None) -> None:
        self.warm = warm
        self.workers: list[Worker] = []
        self.lock = threading.Lock()

    def ensure(self, size: int) -> None:
        """Have `size` live workers (starting is asynchronous: a worker warms up while the caller
        goes on, e.g. fetching the pages it will hand over)."""
        with self.lock:
            for dead in [w for w in self.workers if not w.alive()]:
                dead.stop()
                self.workers.remove(dead)
            while len(self.workers) < size:
                try:
                    self.workers.append(Worker(self.warm))
                except OSError as exc:
                    log.warning("could not start a worker process (%s)", exc)
                    break

    def map(self, func: str, batches: Sequence[Any], workers: int, timeout: float) -> list[BatchResult]:
        """`func(batch)` for every batch, spread over up to `workers` workers; in order."""
        self.ensure(workers)
        with self.lock:
            team = [w for w in self.workers if w.alive()][:workers]
        results: list[BatchResult | None] = [None] * len(batches)
        if not team:
            return [BatchResult(error="no worker process could be started") for _ in batches]
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for i in range(len(batches)):
            todo.put(i)
        deadline = time.monotonic() + timeout

        def serve(worker: Worker) -> None:
            while True:
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    results[i] = BatchResult(value=worker.call(func, batches[i]))
                except RuntimeError as exc:
                    results[i] = BatchResult(error=f"worker raised: {exc}")
                except WorkerGone as exc:
                    worker.stop()  # reaps it (or kills it, if it broke the protocol but lives on)
                    code = worker.proc.returncode
                    results[i] = BatchResult(error=f"worker process ended ({exc}; exit code {code})")
                    return
                except Exception as exc:  # e.g. a batch that cannot be pickled: that batch fails, not the pool
                    results[i] = BatchResult(error=f"could not hand the batch over: {type(exc).__name__}: {exc}")

        threads = [threading.Thread(target=serve, args=(w,), daemon=True, name=f"newswatch-worker-{n}")
                   for n, w in enumerate(team)]
        for t in threads:
            t.start()
        for t, w in zip(threads, team, strict=True):
            t.join(max(0.0, deadline - time.monotonic()))
            if t.is_alive():
                log.warning("worker %d passed the %.0fs deadline; stopping it", w.proc.pid, timeout)
                w.kill()
                t.join(10)
        return [r if r is not None else BatchResult(error=f"not finished within {timeout:.0f}s")
                for r in results]

    def close(self) -> None:
        with self.lock:
            workers, self.workers = self.workers, []
        for w in workers:
            w.stop()


_pools: dict[str | None, WorkerPool] = {}


def shared_pool(warm: str | None) -> WorkerPool:
    """The process-wide pool for this warm-up (closed at exit)."""
    pool = _pools.get(warm)
    if pool is None:
        pool = _pools[warm] = WorkerPool(warm)
    return pool


def live_workers(warm: str | None) -> int:
    """How many workers of this process's pool for `warm` are running."""
    pool = _pools.get(warm)
    return sum(1 for w in pool.workers if w.alive()) if pool is not None else 0


@atexit.register
def _close_pools() -> None:
    for pool in list(_pools.values()):
        pool.close()
    _pools.clear()
