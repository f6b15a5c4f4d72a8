"""The process pool that extracts and tags: `concurrent.futures.ProcessPoolExecutor` on a
`forkserver` whose server process has imported the extractor and loaded the spaCy model once
(`pipeline.jobs.preload`). A worker is a fork of that server, so it starts in milliseconds with the
model already in memory (shared copy-on-write), and nothing of the calling process (Airflow's task
runner, its threads and sockets, a test runner) is inherited.

One pool per process, started on first use and kept for the life of the process: `dag.test()`, the
CLI and the demo pay the model load once; an executor's task process pays it once per task, while
its pages download. A broken pool (a worker killed) is replaced on the next call; the batches it
held come back as failures, and the caller redoes them in its own process.
"""

from __future__ import annotations

import atexit
import io
import logging
import multiprocessing.context
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver, popen_forkserver, reduction, spawn, util
from multiprocessing.context import set_spawning_popen
from typing import Any

log = logging.getLogger(__name__)

PRELOAD = "pipeline.jobs.preload"
# the pool is the parallelism: one BLAS thread per worker, not one per core in each of them
_ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_size = 0


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def pool_size(wanted: int) -> int:
    """Worker processes for `ingest_processes = wanted`: 0 means one per available core."""
    return wanted if wanted > 0 else available_cores()


class _Popen(popen_forkserver.Popen):
    """The stdlib's forkserver launch, minus one step: a worker does not re-run the parent's
    `__main__` (under Airflow that is the `airflow` command, whose import would cost each worker a
    second and 100 MB). Workers need nothing from it: they run `pipeline` functions."""

    def _launch(self, process_obj: Any) -> None:
        prep_data = spawn.get_preparation_data(process_obj._name)
        prep_data.pop("init_main_from_path", None)
        prep_data.pop("init_main_from_name", None)
        buf = io.BytesIO()
        set_spawning_popen(self)
        try:
            reduction.dump(prep_data, buf)
            reduction.dump(process_obj, buf)
        finally:
            set_spawning_popen(None)
        self.sentinel, w = forkserver.connect_to_new_process(self._fds)
        parent_w = os.dup(w)  # the child watches it to learn that this process has gone
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class _Process(multiprocessing.context.ForkServerProcess):
    @staticmethod
    def _Popen(process_obj: Any) -> _Popen:  # noqa: N802 - the stdlib's name
        return _Popen(process_obj)


class _Context(multiprocessing.context.ForkServerContext):
    Process = _Process


def _context() -> _Context:
    ctx = _Context()
    ctx.set_forkserver_preload([PRELOAD])
    return ctx


def _start_forkserver() -> None:
    """Start the fork server with one BLAS thread and the model preloaded (it reads the
    environment when it starts; this process's own environment is restored at once)."""
    saved = {k: os.environ.get(k) for k in _ONE_THREAD}
    os.environ.update(_ONE_THREAD)
    try:
        forkserver.ensure_running()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _leave_with_owner() -> None:
    """Pool initializer: a worker exits as soon as the process that owns the pool has gone, so a
    task process that is killed leaves no orphans (its workers would otherwise wait on a queue that
    they themselves keep open)."""
    owner = multiprocessing.parent_process()
    if owner is None:
        return

    def watch() -> None:
        owner.join()
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="newswatch-owner-watch").start()


def _may_have_children() -> None:
    """A task process forked from a Celery (billiard) pool process inherits its daemon flag and
    billiard's authkey: the stdlib then refuses to start children ("daemonic processes are not
    allowed to have children") and to pickle the key. This process owns its pool and waits for it,
    so it may have children; it gets a plain key of its own."""
    me = multiprocessing.current_process()
    if me.daemon:
        me._config["daemon"] = False  # noqa: SLF001 - the stdlib keeps the flag only there
    if type(me.authkey) is not multiprocessing.process.AuthenticationString:
        # under Celery the process object is billiard's, whose `authkey` setter wraps the key in
        # billiard's class again: the stdlib's class goes into the config directly
        me._config["authkey"] = multiprocessing.process.AuthenticationString(os.urandom(32))  # noqa: SLF001


def get_pool(size: int) -> ProcessPoolExecutor:
    """The process-wide pool with `size` workers (replaced when broken or of another size)."""
    global _pool, _size
    with _lock:
        if _pool is not None and (_size != size or _broken(_pool)):
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
        if _pool is None:
            _may_have_children()
            ctx = _context()
            _start_forkserver()
            _pool = ProcessPoolExecutor(max_workers=size, mp_context=ctx, initializer=_leave_with_owner)
            _size = size
            # a process that is itself a multiprocessing child joins its children at exit, before
            # atexit runs: shut the pool down first (and before its queues' own finalizers, at 10),
            # or that join waits on idle workers forever
            util.Finalize(_pool, _pool.shutdown, kwargs={"wait": True, "cancel_futures": True}, exitpriority=100)
            _shutdown_at_exit()
        return _pool


_atexit_pid = 0


def _shutdown_at_exit() -> None:
    """Also shut the pool down from `atexit`, registered in this process. A forked process that
    clears the atexit handlers it inherited (Airflow's task runner does, then runs the ones
    registered after the fork) never runs multiprocessing's own exit hook, which the `Finalize`
    above relies on; its pool's semaphores would be left for the resource tracker, which reports
    them as leaked on the task's stderr (an error line in a successful task's log)."""
    global _atexit_pid
    if _atexit_pid != os.getpid():
        _atexit_pid = os.getpid()
        atexit.register(shutdown)


def warm(size: int) -> None:
    """Start the fork server (the model loads there) and the workers now, so they are ready by the
    time the first pages have downloaded."""
    pool = get_pool(size)
    for _ in range(size):
        pool.submit(os.getpid)


def discard(pool: ProcessPoolExecutor) -> None:
    """Drop a pool that broke (a worker died); the next `get_pool` starts a new one."""
    global _pool
    with _lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)


def kill(pool: ProcessPoolExecutor) -> None:
    """Stop a pool whose batch hangs past its deadline: its workers are killed (their batches come
    back as BrokenProcessPool) and the next `get_pool` starts a new one."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.kill()
    discard(pool)


def shutdown() -> None:
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def _broken(pool: ProcessPoolExecutor) -> bool:
    return bool(getattr(pool, "_broken", False))


__all__ = ["BrokenProcessPool", "available_cores", "discard", "get_pool", "kill", "pool_size", "shutdown", "warm"]
