"""A real Airflow API server for the browser tests: a migrated SQLite home in a folder, `airflow api-server`
on a free port with the repo's plugins and a chosen auth manager, two users with known passwords, and a
stop that fails when any process of the server's group is left. Plus small HTTP helpers."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.stack.environment import VIEWERS_SEE_PLUGIN_MENU

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 90.0

SIMPLE = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
FAB = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
# FAB users: a Viewer, and a role FAB only gives what it gives every role (can read on Website)
FAB_USERS = """
import json, sys
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
passwords = json.loads(sys.argv[1])
with get_application_builder() as appbuilder:
    sm = appbuilder.sm
    nobody = sm.add_role("Nobody")
    for name, role in (("viewer", sm.find_role("Viewer")), ("nobody", nobody)):
        assert sm.add_user(name, name, "Test", f"{name}@example.org", role, passwords[name]), name
"""


def _airflow_env(home: Path, port: int, es_url: str, prefix: str, auth_manager: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSWATCH_"))}
    venv_bin = str(Path(sys.executable).parent)
    env.update({
        "PATH": f"{venv_bin}{os.pathsep}{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": auth_manager,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "viewer:viewer,nobody:",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(48),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(24),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "NEWSWATCH_ES_URL": es_url,
        "NEWSWATCH_INDEX_PREFIX": prefix,
    })
    return env


def _wait_for(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"airflow api-server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"airflow api-server did not answer {url} within {START_TIMEOUT:.0f} s:\n"
                       f"{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> list[str]:
    """Stop the server's process group; the processes still alive afterwards (none, normally)."""
    pgid = proc.pid  # start_new_session: the group is the server's own
    for sig, wait in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _group(pgid):
            time.sleep(0.2)
        if not _group(pgid):
            break
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    return _group(pgid)


def _group(pgid: int) -> list[str]:
    """`pid command` of the live (not zombie) processes in the group."""
    out = subprocess.run(["ps", "-o", "pid=,stat=,args=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.split() and "Z" not in line.split()[1]]


AIRFLOW = str(Path(sys.executable).parent / "airflow")


def migrated_db(folder: Path) -> Path:
    """An Airflow metadata database after `airflow db migrate` (Airflow's and FAB's tables), to copy."""
    env = _airflow_env(folder, 0, "", "", SIMPLE)
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    return folder / "airflow.db"


@contextmanager
def serve(home: Path, db: Path, es_url: str, prefix: str, port: int, auth_manager: str = SIMPLE
          ) -> Iterator[tuple[str, dict[str, str]]]:
    """An Airflow home with a copy of the migrated database `db`, and its API server: (URL, the users'
    passwords). Stops it afterwards and fails when any process of its group is left."""
    (home / "dags").mkdir(exist_ok=True)
    shutil.copyfile(db, home / "airflow.db")
    passwords = {"viewer": secrets.token_urlsafe(12), "nobody": secrets.token_urlsafe(12)}
    (home / "passwords.json").write_text(json.dumps(passwords))
    env = _airflow_env(home, port, es_url, prefix, auth_manager)
    airflow = AIRFLOW
    if auth_manager == FAB:
        subprocess.run([sys.executable, "-c", FAB_USERS, json.dumps(passwords)], env=env, check=True,
                       capture_output=True, timeout=180)
        # what compose's airflow-init and `newswatch stack up` run
        subprocess.run([airflow, *VIEWERS_SEE_PLUGIN_MENU], env=env, check=True, capture_output=True, timeout=180)
    log = home / "api-server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([airflow, "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1"],
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/api/v2/monitor/health", proc, log)
        yield url, passwords
    finally:
        left = _stop(proc)
        assert not left, f"processes left after stopping the API server: {left}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def get(url: str, token: str | None = None) -> tuple[int, dict[str, str], str]:
    """(status, headers, body) of a GET that does not follow redirects, with the `_token` cookie when given."""
    request = urllib.request.Request(url, headers={"Cookie": f"_token={token}"} if token else {})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=20) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode()


def sign_in(url: str, user: str, password: str) -> str:
    """A JWT from the auth manager's token endpoint (SimpleAuthManager and FAB both have POST /auth/token)."""
    body = json.dumps({"username": user, "password": password}).encode()
    request = urllib.request.Request(f"{url}/auth/token", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as resp:
        return json.loads(resp.read())["access_token"]
