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
