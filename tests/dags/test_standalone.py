"""scripts/airflow-standalone with real processes: `start` brings every Airflow component up (the API
server answers healthy), `stop` leaves no process of the run behind: not in its process group, and
none carrying its AIRFLOW_HOME."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "airflow-standalone"


def _env(home: Path, free_port) -> dict[str, str]:
    # nothing of this session's Airflow (its SQLite home) may leak into the run under test
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__PARALLELISM": "2",  # fewer LocalExecutor workers: a faster start on a small machine
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    })
    return env


def _stat(pid: int) -> tuple[str, int] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()
    return fields[0], int(fields[2])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _processes_of(pgid: int, home: Path) -> dict[int, str]:
    """Live processes in the run's process group or with its AIRFLOW_HOME in their environment.
    Zombies are dead (this container's init does not collect them) and are left out."""
    marker = f"AIRFLOW_HOME={home}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        pid = int(entry.name)
        stat = _stat(pid)
        if stat is None or stat[0] in ("Z", "X"):
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            environ = []
        if stat[1] == pgid or marker in environ:
            found[pid] = _cmdline(pid)
    return found


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_start_is_healthy_and_stop_leaves_nothing(tmp_path, free_port):
    home = tmp_path / "airflow"
    env = _env(home, free_port)
    port = free_port()
    pgid = None
    try:
        # --no-pool: `airflow pools set` is one more Airflow start-up (10-20 s on a busy 2-core machine)
        started = subprocess.run([str(SCRIPT), "start", "--port", str(port), "--timeout", "120", "--no-pool"],
                                 env=env, capture_output=True, text=True, timeout=180)
        assert started.returncode == 0, started.stdout + started.stderr
        assert f"http://localhost:{port}" in started.stdout
        run = json.loads((home / "standalone.pid").read_text())
        pgid = run["pid"]

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=10) as resp:
            health = json.loads(resp.read())
        assert {k: v["status"] for k, v in health.items()} == {
            "metadatabase": "healthy", "scheduler": "healthy", "triggerer": "healthy", "dag_processor": "healthy"}
        running = " | ".join(_processes_of(pgid, home).values())
        for component in ("standalone", "scheduler", "dag-processor", "triggerer", "api_server", "LocalExecutor"):
            assert component in running, f"{component} not running: {running}"
        assert "Airflow is ready" in (home / "standalone.log").read_text()  # the log file gets the output
        status = subprocess.run([str(SCRIPT), "status"], env=env, capture_output=True, text=True, timeout=60)
        assert status.returncode == 0 and "scheduler healthy" in status.stdout, status.stdout + status.stderr

        stopped = subprocess.run([str(SCRIPT), "stop", "--timeout", "30"], env=env, capture_output=True,
                                 text=True, timeout=90)
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert _processes_of(pgid, home) == {}
        assert not _port_open(port)
        assert not (home / "standalone.pid").exists()
        again = subprocess.run([str(SCRIPT), "status"], env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 1 and "not running" in again.stdout
    finally:
        if pgid is not None:  # whatever the assertions left running: ours, so stop it
            for pid in _processes_of(pgid, home):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
