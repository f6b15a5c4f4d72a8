"""Starting the stack's processes and making sure none outlives the stack.

Every process a stack starts carries `_NEWSWATCH_STACK=<stack id>:<service>` in its environment and
runs in its service's own folder, and so does everything it starts in turn (Celery's pool, task
processes, their worker pools, PostgreSQL's backends). Airflow, Celery, Redis and PostgreSQL rename
their processes (setproctitle), which overwrites what /proc shows of the environment; such a process
is known by its working directory instead. Stopping a service signals its main process, waits, then
kills whatever of the service is left, however a process ended up detached from its parent.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TypeAlias

import psutil

log = logging.getLogger(__name__)

MARK = "_NEWSWATCH_STACK"

_children: dict[int, subprocess.Popen[bytes]] = {}  # ours to reap, so they do not linger as zombies
Dirs: TypeAlias = Mapping[str, Path]  # service -> the folder its processes run in


def mark(stack_id: str, service: str) -> dict[str, str]:
    return {MARK: f"{stack_id}:{service}"}


def spawn(argv: list[str], *, env: Mapping[str, str], log_file: Path, cwd: Path,
          user: str | None = None) -> subprocess.Popen[bytes]:
    """Start a process in its own session (a Ctrl-C in the starting shell does not reach it), its
    output appended to `log_file`; `user`: run as that user (PostgreSQL refuses to run as root)."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        out.write(f"\n--- newswatch stack: {' '.join(argv)} at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n".encode())
        out.flush()
        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                   cwd=cwd, env=dict(env), start_new_session=True,
                                   **({"user": user, "group": user, "extra_groups": []} if user else {}))
    _children[process.pid] = process
    return process


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    child = _children.get(pid)
    if child is not None:
        if child.poll() is None:
            return True
        _children.pop(pid, None)
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _owner(proc: psutil.Process, stack_id: str, dirs: Dirs) -> str | None:
    """The service of the stack a process belongs to, or None."""
    try:
        raw = Path(f"/proc/{proc.pid}/environ").read_bytes()
    except OSError:
        return None
    prefix = f"{MARK}={stack_id}:".encode()
    for entry in raw.split(b"\0"):
        if entry.startswith(prefix):
            return entry[len(prefix):].decode(errors="replace")
    if b"=" in raw:  # an intact environment without our mark: not ours
        return None
    try:  # renamed by setproctitle: the folder it runs in says whose it is
        cwd = Path(proc.cwd())
    except psutil.Error:
        return None
    for service, folder in dirs.items():
        if cwd == folder or folder in cwd.parents:
            return service
    return None


def marked(stack_id: str, dirs: Dirs, service: str | None = None) -> list[psutil.Process]:
    """Live processes of the stack (of one service, or of any)."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        owner = _owner(proc, stack_id, dirs)
        if owner is None or (service is not None and owner != service):
            continue
        try:
            if proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def _reap() -> None:
    for pid in list(_children):
        alive(pid)


def kill_marked(stack_id: str, dirs: Dirs, service: str | None = None, timeout: float = 10.0) -> int:
    """SIGKILL every process of the service (or of the whole stack); returns how many there were."""
    procs = marked(stack_id, dirs, service)
    for proc in procs:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(procs, timeout=timeout)
    _reap()
    return len(procs)


def stop(pid: int | None, stack_id: str, dirs: Dirs, service: str, *, sig: int = signal.SIGTERM,
         timeout: float = 30.0) -> bool:
    """Signal the service's main process, wait up to `timeout` for every process of the service to
    end, then kill what remains. True when it ended by itself."""
    if pid and alive(pid):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap()
        if not alive(pid) and not marked(stack_id, dirs, service):
            return True
        time.sleep(0.2)
    left = kill_marked(stack_id, dirs, service)
    log.warning("%s did not stop within %.0fs; killed %d process(es)", service, timeout, left)
    return False


_EXCEPTION = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception)): .+")


def tail(path: Path, lines: int = 20) -> str:
    """The log's last lines, after the distinct exceptions it names (a traceback's cause is often
    printed long before the last line)."""
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    causes = list(dict.fromkeys(line.strip() for line in text if _EXCEPTION.match(line)))[-3:]
    head = "".join(f"  {cause}\n" for cause in causes)
    return (f"exceptions in the log:\n{head}last lines:\n" if causes else "") + "\n".join(text[-lines:])
