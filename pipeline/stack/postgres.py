"""PostgreSQL from the distribution's packages as Airflow's metadata database, on a loopback port.

PostgreSQL refuses to run as root. Run by root (a fresh CI machine), the stack runs it as the
distribution's `postgres` user, which the package creates, and keeps its folder where that user can
reach it: `/var/tmp/newswatch-stack-<id>-postgres` (root's home is closed to other users). Run by
anyone else, it runs as that user inside the stack's folder. Like the compose service: user and
database `airflow`, password authentication over TCP.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pipeline.stack.errors import StackError

DB = "airflow"
USER = "airflow"
RUN_AS_WHEN_ROOT = "postgres"


def bin_dir() -> Path:
    """The newest installed PostgreSQL's programs (Debian: /usr/lib/postgresql/<major>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).resolve().parent
    raise StackError("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin and no initdb on PATH); "
                     "install it: apt-get install postgresql (scripts/system-packages does)")


def run_as() -> str | None:
    """The user PostgreSQL runs as: None (this user) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(RUN_AS_WHEN_ROOT)
    except KeyError:
        raise StackError(f"PostgreSQL refuses to run as root, and there is no {RUN_AS_WHEN_ROOT!r} user to run it "
                         f"as; the postgresql package creates one (apt-get install postgresql)") from None
    return RUN_AS_WHEN_ROOT


def folder_for(root: Path, stack_id: str) -> Path:
    if run_as() is None:
        return root / "postgres"
    base = Path("/var/tmp") if Path("/var/tmp").is_dir() else Path(tempfile.gettempdir())
    return base / f"newswatch-stack-{stack_id}-postgres"


def initdb_command(folder: Path, password_file: Path) -> list[str]:
    return [str(bin_dir() / "initdb"), "-D", str(folder / "data"), "-U", USER, f"--pwfile={password_file}",
            "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C"]


def server_command(folder: Path, port: int) -> list[str]:
    # the socket lives in our folder, not /var/run/postgresql (which a second cluster must not share)
    return [str(bin_dir() / "postgres"), "-D", str(folder / "data"), "-p", str(port), "-k", str(folder),
            "-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"]


def prepare_folder(folder: Path, password: str) -> Path | None:
    """Create the folder for the user PostgreSQL runs as; returns the password file initdb reads, or
    None when the cluster already exists."""
    user = run_as()
    folder.mkdir(parents=True, exist_ok=True)
    if (folder / "data" / "PG_VERSION").exists():
        return None
    password_file = folder / "initdb.pw"
    password_file.write_text(password + "\n")
    os.chmod(folder, 0o700)
    os.chmod(password_file, 0o600)
    if user is not None:
        entry = pwd.getpwnam(user)
        for path in (folder, password_file):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    return password_file


def sqlalchemy_url(password: str, port: int) -> str:
    return f"postgresql+psycopg2://{USER}:{password}@127.0.0.1:{port}/{DB}"


def connect(password: str, port: int, database: str = DB, timeout: int = 3) -> Any:
    import psycopg2

    return psycopg2.connect(host="127.0.0.1", port=port, user=USER, password=password, dbname=database,
                            connect_timeout=timeout)


def accepts(password: str, port: int) -> bool:
    """`pg_isready`, as compose's healthcheck: the server takes connections (and our password)."""
    connect(password, port, database="postgres").close()
    return True


def ensure_database(password: str, port: int) -> None:
    """`CREATE DATABASE airflow` unless it exists (the compose image does it from POSTGRES_DB)."""
    conn = connect(password, port, database="postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DB,))
            if cur.fetchone() is None:
                cur.execute(f"CREATE DATABASE {DB}")
    finally:
        conn.close()
