"""The worker pool with real worker processes (fresh interpreters), no mocks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline.jobs.workers import WorkerPool, plan_workers

HERE = Path(__file__).resolve().parent
FUNCS = "worker_funcs"


@pytest.fixture
def pool(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    made = WorkerPool(warm=f"{FUNCS}:warm")
    yield made
    made.close()
    assert all(w.proc.poll() is not None for w in made.workers)


def test_results_come_back_in_order_from_warmed_workers(pool: WorkerPool) -> None:
    results = pool.map(f"{FUNCS}:describe", list(range(20)), workers=2, timeout=60)
    assert [r.value[0] for r in results] == [2 * i for i in range(20)]
    assert all(r.ok and r.value[2] for r in results)  # the warm-up ran in each worker first
    pids = {r.value[1] for r in results}
    assert pids <= {w.proc.pid for w in pool.workers} and os.getpid() not in pids


def test_workers_are_reused_across_calls(pool: WorkerPool) -> None:
    first = {r.value[1] for r in pool.map(f"{FUNCS}:describe", [1, 2, 3, 4], workers=2, timeout=60)}
    second = {r.value[1] for r in pool.map(f"{FUNCS}:describe", [5, 6, 7, 8], workers=2, timeout=60)}
    assert first | second <= {w.proc.pid for w in pool.workers}
    assert len(pool.workers) == 2


def test_an_exception_is_a_value_with_the_reason(pool: WorkerPool) -> None:
    results = pool.map(f"{FUNCS}:fail", [1, 2], workers=1, timeout=60)
    assert [r.ok for r in results] == [False, False]
    assert "ValueError: bad item 1" in (results[0].error or "")
    assert pool.workers[0].alive()  # an exception does not cost the worker


def test_a_dying_worker_fails_only_its_batch_and_is_replaced(pool: WorkerPool) -> None:
    results = pool.map(f"{FUNCS}:die_on_three", [1, 2, 3, 4, 5, 6], workers=2, timeout=60)
    assert [r.value for r in results if r.ok] == [1, 2, 4, 5, 6]
    assert "exit code 7" in (results[2].error or "")
    again = pool.map(f"{FUNCS}:die_on_three", [8, 9], workers=2, timeout=60)
    assert [r.value for r in again] == [8, 9]
    assert sum(w.alive() for w in pool.workers) == 2


def test_a_batch_past_the_deadline_is_stopped(pool: WorkerPool) -> None:
    results = pool.map(f"{FUNCS}:sleepy", [0.0, 60.0], workers=1, timeout=3)
    assert results[0].ok and results[0].value == 0.0
    assert not results[1].ok
    assert not pool.workers[0].alive()


def test_a_batch_that_cannot_be_handed_over_fails_alone(pool: WorkerPool) -> None:
    results = pool.map(f"{FUNCS}:describe", [1, lambda: None, 3], workers=1, timeout=60)
    assert [r.ok for r in results] == [True, False, True]
    assert "could not hand the batch over" in (results[1].error or "")
    assert pool.workers[0].alive()


def test_workers_run_one_blas_thread_each(pool: WorkerPool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    (result,) = pool.map("os:getenv", ["OPENBLAS_NUM_THREADS"], workers=1, timeout=60)
    assert result.value == "1"


def test_prints_in_a_worker_do_not_corrupt_the_protocol(pool: WorkerPool) -> None:
    assert [r.value for r in pool.map(f"{FUNCS}:chatty", ["a", "b"], workers=1, timeout=60)] == ["A", "B"]


def test_an_unknown_function_is_an_error_value(pool: WorkerPool) -> None:
    (result,) = pool.map(f"{FUNCS}:nope", [1], workers=1, timeout=60)
    assert not result.ok and "AttributeError" in (result.error or "")


def test_plan_workers() -> None:
    assert plan_workers(100, 3, 4) == 3
    assert plan_workers(7, 3, 4) == 1  # too few items to share
    assert plan_workers(0, 2, 4) == 1
    assert plan_workers(100, 0, 4) >= 1  # one per core


@pytest.mark.parametrize("ending", ["exit", "os._exit"])
def test_workers_leave_when_the_process_that_started_them_ends(ending: str, tmp_path: Path) -> None:
    """No orphans: a task process that exits (cleanly, or abruptly as a killed task would) takes
    its workers with it."""
    import subprocess
    import sys
    import time

    script = tmp_path / "owner.py"
    script.write_text(
        "import os, sys\n"
        f"sys.path[:0] = [{str(HERE)!r}, {str(HERE.parents[2])!r}]\n"
        "from pipeline.jobs.workers import shared_pool\n"
        f"pool = shared_pool({FUNCS + ':warm'!r})\n"
        f"pool.map({FUNCS + ':describe'!r}, [1, 2], workers=2, timeout=60)\n"
        "print(' '.join(str(w.proc.pid) for w in pool.workers), flush=True)\n"
        + ("sys.exit(0)\n" if ending == "exit" else "os._exit(0)\n"))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    log = tmp_path / "stderr.txt"
    with log.open("w") as err:  # a file, not a pipe: workers inherit stderr, and run() must not wait for them
        out = subprocess.run([sys.executable, str(script)], stdout=subprocess.PIPE, stderr=err, text=True,
                             env=env, timeout=60)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2, log.read_text()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_running(p) for p in pids):
        time.sleep(0.1)
    assert not any(_running(p) for p in pids)


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False
