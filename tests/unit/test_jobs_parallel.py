"""Forked slices: results in order, nothing lost when a worker fails, serial when forking is pointless."""

from __future__ import annotations

import os

import pytest

from pipeline.jobs import parallel


def _pids_and_items(part):
    return os.getpid(), list(part)


def test_slices_cover_the_items_in_order_with_sizes_within_one():
    parts = parallel.slices(list(range(10)), 3)
    assert [list(p) for p in parts] == [[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]


@pytest.mark.parametrize(("n_items", "wanted", "expected"), [(100, 2, 2), (15, 2, 1), (16, 2, 2), (5, 4, 1),
                                                             (100, 1, 1), (0, 2, 1)])
def test_plan_processes_needs_enough_items_per_process(n_items, wanted, expected):
    assert parallel.plan_processes(n_items, wanted, min_per_process=8) == expected


def test_plan_processes_auto_is_one_per_available_core(monkeypatch):
    monkeypatch.setattr(parallel, "available_cores", lambda: 3)
    assert parallel.plan_processes(1000, 0, min_per_process=8) == 3


def test_map_slices_runs_the_later_slices_in_children_and_keeps_order():
    results = parallel.map_slices(_pids_and_items, list(range(9)), 3)
    assert [items for _, items in results] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]
    pids = [pid for pid, _ in results]
    assert pids[0] == os.getpid() and len(set(pids)) == 3


def test_map_slices_with_one_process_is_one_call_here():
    assert parallel.map_slices(_pids_and_items, [1, 2, 3], 1) == [(os.getpid(), [1, 2, 3])]


def test_a_failing_worker_slice_is_redone_by_the_caller():
    parent = os.getpid()

    def fails_in_children(part):
        if os.getpid() != parent:
            raise RuntimeError("worker broke")
        return list(part)

    assert parallel.map_slices(fails_in_children, list(range(6)), 2) == [[0, 1, 2], [3, 4, 5]]


def test_a_worker_that_dies_costs_time_not_items():
    parent = os.getpid()

    def dies_in_children(part):
        if os.getpid() != parent:
            os._exit(3)
        return sum(part)

    assert parallel.map_slices(dies_in_children, [1, 2, 3, 4], 2) == [3, 7]


def test_an_error_in_the_callers_own_slice_propagates():
    def always_fails(part):
        raise ValueError("bug")

    with pytest.raises(ValueError, match="bug"):
        parallel.map_slices(always_fails, [1, 2], 2)


def test_workers_serve_several_rounds_from_the_same_processes():
    with parallel.Workers(_pids_and_items, 2) as workers:
        assert workers.size == 2
        rounds = []
        for start in (0, 4):
            workers.submit([[start, start + 1], [start + 2, start + 3]])
            rounds.append(workers.results())
    assert [items for r in rounds for _, items in r] == [[0, 1], [2, 3], [4, 5], [6, 7]]
    pids = [pid for r in rounds for pid, _ in r]
    assert os.getpid() not in pids and pids[:2] == pids[2:] and len(set(pids)) == 2
    assert workers.size == 0  # closed


def test_a_failing_worker_is_dropped_and_its_part_redone_here():
    parent = os.getpid()

    def fails_on_three(part):
        if 3 in part and os.getpid() != parent:
            raise RuntimeError("worker broke")
        return list(part)

    with parallel.Workers(fails_on_three, 2) as workers:
        workers.submit([[1, 2], [3, 4]])
        assert workers.results() == [[1, 2], [3, 4]]
        assert workers.size == 1
        workers.submit([[5], [6]])  # the second part has no worker left: it runs here
        assert workers.results() == [[5], [6]]


def test_without_fork_the_parts_run_here(monkeypatch):
    monkeypatch.setattr(parallel, "_can_fork", lambda: False)
    with parallel.Workers(_pids_and_items, 2) as workers:
        assert workers.size == 0
        workers.submit([[1], [2]])
        assert workers.results() == [(os.getpid(), [1]), (os.getpid(), [2])]
