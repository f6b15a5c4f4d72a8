"""The process pool leaves nothing for the resource tracker to complain about when it lives in a
forked process that clears its inherited atexit handlers, as Airflow's task runner does. Otherwise
every successful `process` task logs `resource_tracker: There appear to be 5 leaked semaphore
objects` on its stderr, which Airflow shows as an error line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]

# what airflow.sdk.execution_time.supervisor._fork_main does around the task
TASK_RUNNER_LIKE = """
import atexit, os, sys
import multiprocessing.util  # imported before the fork, as in the supervisor
pid = os.fork()
if pid == 0:
    atexit._clear()
    from pipeline.jobs import pool
    print("worker answered:", pool.get_pool(2).submit(os.getpid).result() > 0, flush=True)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
_, status = os.waitpid(pid, 0)
print("task exit status:", status, flush=True)
"""


def test_a_task_process_exits_without_leaked_semaphores():
    done = subprocess.run([sys.executable, "-c", TASK_RUNNER_LIKE], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "worker answered: True" in done.stdout and "task exit status: 0" in done.stdout
    assert "leaked" not in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
