"""Nothing of a stack outlives its owner: when the owning process dies (even by SIGKILL), the watchdog
kills every process of the stack, the renamed ones (setproctitle) too, and nothing else.

Stand-in services (small Python processes) instead of a whole stack, so this runs in seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from pipeline.stack import layout, processes

pytestmark = pytest.mark.integration

SLEEP = "import time; time.sleep(600)"
RENAMED = "import setproctitle, time; setproctitle.setproctitle('renamed ' + 'x' * 300); time.sleep(600)"
PARENT_OF_ORPHAN = ("import subprocess, sys; subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'],"
                    " start_new_session=True); print('started', flush=True)")


def _config(tmp_path: Path) -> layout.StackConfig:
    config = layout.create(tmp_path / "stack", es_node_count=1, worker_count=1, worker_concurrency=0, es_heap="64m",
                           dotenv={}, extra_env={})
    config.pg_dir = str(tmp_path / "pg")
    config.path.mkdir(parents=True)
    config.save()
    return config


def _spawn(config: layout.StackConfig, service: str, code: str, *, marked: bool = True) -> subprocess.Popen[bytes]:
    env = {**os.environ, **(processes.mark(config.stack_id, service) if marked else {})}
    return processes.spawn([sys.executable, "-c", code], env=env, log_file=config.log_file(service),
                           cwd=config.service_dir(service))


def _gone(procs: list[subprocess.Popen[bytes]], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(p.poll() is not None for p in procs):
            return True
        time.sleep(0.2)
    return False


def test_the_owners_death_takes_every_process_of_the_stack_and_nothing_else(tmp_path):
    config = _config(tmp_path)
    worker = _spawn(config, "worker1", SLEEP)
    renamed = _spawn(config, "scheduler", RENAMED)  # like Airflow's and Celery's processes
    orphan_parent = _spawn(config, "triggerer", PARENT_OF_ORPHAN)
    bystander = _spawn(config, "worker1", SLEEP, marked=False)  # someone's shell in the folder: not ours
    owner = subprocess.Popen([sys.executable, "-c", SLEEP])
    try:
        assert orphan_parent.wait(timeout=30) == 0
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
                len(processes.marked(config.stack_id, config.service_dirs())) < 3
                or not Path(f"/proc/{renamed.pid}/cmdline").read_bytes().startswith(b"renamed")):
            time.sleep(0.2)
        found = processes.marked(config.stack_id, config.service_dirs())
        assert {worker.pid, renamed.pid} <= {p.pid for p in found} and bystander.pid not in {p.pid for p in found}
        (orphan,) = [p for p in found if p.pid not in (worker.pid, renamed.pid)]  # detached from its parent
        assert orphan.ppid() != orphan_parent.pid
        assert b"=" not in Path(f"/proc/{renamed.pid}/environ").read_bytes()  # setproctitle took it

        reaper = subprocess.Popen([sys.executable, "-m", "pipeline.stack.reaper", "--root", config.root,
                                   "--owner", str(owner.pid), "--remove", "--interval", "0.2"])
        owner.kill()
        owner.wait()
        assert reaper.wait(timeout=60) == 0
        assert _gone([worker, renamed]), "the stack's processes outlived its owner"
        assert not psutil.pid_exists(orphan.pid) or psutil.Process(orphan.pid).status() == psutil.STATUS_ZOMBIE
        assert bystander.poll() is None, "the watchdog killed a process that was not the stack's"
        assert not config.path.exists()
    finally:
        for proc in (worker, renamed, bystander, owner):
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        processes.kill_marked(config.stack_id, config.service_dirs())
