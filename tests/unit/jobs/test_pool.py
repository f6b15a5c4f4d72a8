"""The process pool with real worker processes (forked from the fork server), no mocks."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.jobs import pool as pools

REPO = Path(__file__).resolve().parents[3]


def _worker_view() -> dict[str, object]:
    import sys

    from pipeline.tagging.tagger import get_tagger

    return {"pid": os.getpid(), "tagger_loaded": get_tagger.cache_info().currsize == 1,
            "main_file": getattr(sys.modules.get("__mp_main__"), "__file__", None), "blas": os.environ.get("OPENBLAS_NUM_THREADS")}


def test_workers_start_with_the_model_loaded_once_in_the_fork_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    executor = pools.get_pool(2)
    views = [executor.submit(_worker_view).result(timeout=120) for _ in range(4)]
    assert all(v["pid"] != os.getpid() for v in views)
    assert all(v["tagger_loaded"] for v in views)  # preloaded: nothing loaded it in the worker
    assert not any(v["main_file"] for v in views)  # the parent's __main__ (pytest, airflow) is not re-run
    assert all(v["blas"] == "1" for v in views)  # one BLAS thread per worker ...
    assert "OPENBLAS_NUM_THREADS" not in os.environ  # ... without touching this process's environment
    assert pools.get_pool(2) is executor  # one pool per process, kept


def test_a_broken_pool_is_replaced() -> None:
    executor = pools.get_pool(2)
    with pytest.raises(pools.BrokenProcessPool):
        executor.submit(os._exit, 3).result(timeout=60)
    fresh = pools.get_pool(2)
    assert fresh is not executor and fresh.submit(os.getpid).result(timeout=60) != os.getpid()


def test_kill_stops_a_stuck_worker() -> None:
    executor = pools.get_pool(2)
    stuck = executor.submit(time.sleep, 600)
    time.sleep(0.5)
    started = time.monotonic()
    pools.kill(executor)
    with pytest.raises(pools.BrokenProcessPool):
        stuck.result(timeout=30)
    assert time.monotonic() - started < 30
    assert pools.get_pool(2) is not executor


def test_pool_size() -> None:
    assert pools.pool_size(3) == 3
    assert pools.pool_size(0) == len(os.sched_getaffinity(0))  # one per core this process may use


@pytest.mark.parametrize("ending", ["exit", "os._exit"])
def test_workers_leave_when_the_process_that_started_them_ends(ending: str, tmp_path: Path) -> None:
    """No orphans: a task process that exits (cleanly, or abruptly as a killed task would) takes
    its workers and the fork server with it."""
    script = tmp_path / "owner.py"
    script.write_text(
        "import os, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from multiprocessing import forkserver\n"
        "from pipeline.jobs import pool\n"
        "executor = pool.get_pool(2)\n"
        "pids = {executor.submit(os.getpid).result(timeout=120) for _ in range(8)}\n"
        "pids.add(forkserver._forkserver._forkserver_pid)\n"
        "print(' '.join(map(str, sorted(pids))), flush=True)\n"
        + ("sys.exit(0)\n" if ending == "exit" else "os._exit(0)\n"))
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:  # a file, not a pipe: children inherit stderr, and run() must not wait for them
        out = subprocess.run([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=err, text=True,
                             timeout=120)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) >= 2, log.read_text()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        time.sleep(0.1)
    assert not any(_running(p) for p in pids), log.read_text()


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_a_multiprocessing_child_that_used_the_pool_exits(tmp_path: Path) -> None:
    """A pool owner that is itself a multiprocessing child (a spawned benchmark or executor
    process) ends normally: its exit does not wait on idle workers."""
    script = tmp_path / "parent.py"
    script.write_text(
        "import multiprocessing as mp, os, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "def child():\n"
        "    from pipeline.jobs import pool\n"
        "    pool.get_pool(2).submit(os.getpid).result(timeout=120)\n"
        "if __name__ == '__main__':\n"
        "    p = mp.get_context('spawn').Process(target=child)\n"
        "    p.start()\n"
        "    p.join(90)\n"
        "    print('alive' if p.is_alive() else f'exit {p.exitcode}', flush=True)\n"
        "    if p.is_alive():\n"
        "        p.kill()\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=150)
    assert out.stdout.strip() == "exit 0", out.stderr[-2000:]


def _child_starts_a_pool(fixed: bool, out) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from pipeline.jobs import pool

    if fixed:
        pool._may_have_children()
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as ex:
            out.put(ex.submit(abs, -3).result())
    except Exception as exc:  # noqa: BLE001 - reported to the test
        out.put(f"{type(exc).__name__}: {exc}")


def test_a_daemonic_task_process_may_still_start_its_pool():
    """As in a Celery prefork worker: the task runs in a daemonic pool process."""
    ctx = multiprocessing.get_context("fork")
    results = []
    for fixed in (False, True):
        out = ctx.Queue()
        child = ctx.Process(target=_child_starts_a_pool, args=(fixed, out), daemon=True)
        child.start()
        results.append(out.get(timeout=60))
        child.join(30)
    assert "daemonic processes are not allowed to have children" in str(results[0])
    assert results[1] == 3
