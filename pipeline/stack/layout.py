"""What a local stack is made of, where it keeps its state, and its `stack.json`.

    <root>/stack.json     ports, generated secrets, service pids (mode 600)
    <root>/logs/<svc>.log each service's output
    <root>/run/<svc>/     each service's working directory (how its renamed processes are known)
    <root>/airflow/       AIRFLOW_HOME (airflow.cfg, task logs)
    <root>/data/          NEWSWATCH_DATA_DIR: the spool every worker shares
    <root>/redis/         the broker's append-only file
    <root>/es/<node>/     each Elasticsearch node's folder (pipeline.devnode)
    <pg_dir>/data         PostgreSQL's cluster, owned by the user PostgreSQL runs as (see postgres.py)

Ports are chosen free on 127.0.0.1 when the stack is first created and kept, so a stopped stack comes
back on the same addresses (the Elasticsearch nodes find each other by their transport ports). They
are taken from below the kernel's ephemeral range: an outgoing connection's local port can never take
the port of a service that is restarting.
"""

from __future__ import annotations

import base64
import json
import os
import random
import secrets
import socket
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

STATE_FILE = "stack.json"
ONE_SHOTS = ("airflow-db-migrate", "airflow-users-create", "airflow-pools-set")
CLUSTER_NAME = "newswatch-stack"
SECRET_NAMES = ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "AIRFLOW_SECRET_KEY", "AIRFLOW_JWT_SECRET",
                "AIRFLOW_ADMIN_PASSWORD", "NEWSWATCH_ES_PASSWORD")


def es_nodes(count: int) -> list[str]:
    return [f"es{n}" for n in range(1, count + 1)]


def workers(count: int) -> list[str]:
    return [f"worker{n}" for n in range(1, count + 1)]


@dataclass
class StackConfig:
    root: str
    stack_id: str
    es_node_count: int = 3
    worker_count: int = 2
    worker_concurrency: int = 0  # 0: Airflow's default ([celery] worker_concurrency)
    es_heap: str = "512m"
    pg_dir: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    # .env values for the compose interpolation, and extra variables for every Airflow service
    dotenv: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    bootstrapped: bool = False  # the Elasticsearch cluster has formed once (no initial masters any more)

    @property
    def path(self) -> Path:
        return Path(self.root)

    @property
    def es_nodes(self) -> list[str]:
        return es_nodes(self.es_node_count)

    @property
    def workers(self) -> list[str]:
        return workers(self.worker_count)

    def es_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.ports[f'{node}-http']}" for node in self.es_nodes]

    def log_file(self, service: str) -> Path:
        return self.path / "logs" / f"{service}.log"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def broker_url(self) -> str:
        return f"redis://:{self.secrets['REDIS_PASSWORD']}@127.0.0.1:{self.ports['redis']}/0"

    @property
    def admin(self) -> tuple[str, str]:
        return self.dotenv.get("AIRFLOW_ADMIN_USERNAME") or "admin", self.secrets["AIRFLOW_ADMIN_PASSWORD"]

    def service_dir(self, service: str) -> Path:
        """The folder the service's processes run in."""
        if service in self.es_nodes:
            return self.path / "es" / service
        if service in ("postgres", "initdb"):
            return Path(self.pg_dir)
        return self.path / "run" / service

    def service_dirs(self) -> dict[str, Path]:
        """Every folder a process of the stack can run in, and its service (the one-shot commands too)."""
        names = ["postgres", "redis", *self.es_nodes, "api-server", "scheduler", "dag-processor", "triggerer",
                 *self.workers, *ONE_SHOTS]
        return {name: self.service_dir(name) for name in names}

    def save(self) -> None:
        target = self.path / STATE_FILE
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True) + "\n")
        os.chmod(tmp, 0o600)  # it holds the stack's passwords
        tmp.replace(target)


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(count: int, low: int = 20000) -> list[int]:
    """`count` distinct ports on 127.0.0.1, free now and outside the ephemeral range."""
    high = max(_ephemeral_start() - 1, low + count * 10)
    found: list[int] = []
    for port in random.sample(range(low, high), min(high - low, 50 * count + 500)):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        found.append(port)
        if len(found) == count:
            return found
    raise OSError(f"no {count} free ports between {low} and {high} on 127.0.0.1")


def create(root: Path, *, es_node_count: int, worker_count: int, worker_concurrency: int, es_heap: str,
           dotenv: dict[str, str], extra_env: dict[str, str]) -> StackConfig:
    """A new stack's configuration: free ports and fresh secrets (nothing is started)."""
    names = ["postgres", "redis", "api", "scheduler-health", "triggerer-logs"]
    names += [f"{w}-logs" for w in workers(worker_count)]
    names += [f"{node}-{kind}" for node in es_nodes(es_node_count) for kind in ("http", "transport")]
    ports = dict(zip(names, free_ports(len(names)), strict=True))
    generated = {name: secrets.token_urlsafe(24) for name in SECRET_NAMES}
    generated["AIRFLOW_FERNET_KEY"] = base64.urlsafe_b64encode(os.urandom(32)).decode()
    return StackConfig(root=str(root.resolve()), stack_id=uuid.uuid4().hex[:12], es_node_count=es_node_count,
                       worker_count=worker_count, worker_concurrency=worker_concurrency, es_heap=es_heap,
                       ports=ports, secrets=generated, dotenv=dict(dotenv), extra_env=dict(extra_env))


def load(root: Path) -> StackConfig | None:
    """The stack recorded in `root`, or None when there is none."""
    try:
        data = json.loads((root / STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    return StackConfig(**data)
