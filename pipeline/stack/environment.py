"""Each Airflow service's environment and command in the local stack: docker-compose.yml's, on loopback.

The environment is read from the compose file (`pipeline.stack.compose`) and interpolated with the
stack's `.env` values (generated secrets, the Celery executor, the API server's URL, then whatever the
caller sets). Then, and only then, the differences that one machine without Docker forces, each with
its reason below, so the drift test (tests/stack/test_stack_compose_drift.py) can hold them to it:

- compose service addresses (`postgres:5432`, ...) become loopback ports, container paths the stack's;
- OVERRIDDEN: values that cannot be the same (no TLS or users on the embedded Elasticsearch nodes);
- DROPPED: variables of the image's entrypoint, which the stack replaces by running the commands;
- ADDED: what the image or separate network namespaces provide in production.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipeline.config import REPO_ROOT
from pipeline.stack import compose
from pipeline.stack.layout import StackConfig
from pipeline.stack.processes import MARK, mark

AIRFLOW = str(Path(sys.executable).parent / "airflow")

# stack service -> the compose service whose environment and command it runs with
COMPOSE_SERVICE = {
    "init": "airflow-init",
    "api-server": "airflow-api-server",
    "scheduler": "airflow-scheduler",
    "dag-processor": "airflow-dag-processor",
    "triggerer": "airflow-triggerer",
    "worker": "airflow-worker",
}

# compose's service address -> the stack port that replaces it
ADDRESSES = {"postgres:5432": "postgres", "redis:6379": "redis", "airflow-api-server:8080": "api"}

OVERRIDDEN = {
    "NEWSWATCH_ES_URL": "three embedded nodes over plain HTTP on loopback, comma-separated (compose: one node "
                        "over TLS)",
    "NEWSWATCH_ES_USERNAME": "the embedded nodes have no security (no users, no TLS)",
    "NEWSWATCH_ES_PASSWORD": "the embedded nodes have no security (no users, no TLS)",
    "NEWSWATCH_ES_CA_CERTS": "the embedded nodes have no security (no users, no TLS)",
    "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT": "the same Connection, over HTTP without a login, its host listing the "
                                          "three nodes",
    "NEWSWATCH_KIBANA_URL": "no Kibana in the stack (Kibana needs a full Elasticsearch distribution)",
}
DROPPED = {
    "DUMB_INIT_SETSID": "the image's init; the stack signals the worker's main process itself",
    "_AIRFLOW_DB_MIGRATE": "the image entrypoint's switch; the stack runs `airflow db migrate`",
    "_AIRFLOW_WWW_USER_CREATE": "the image entrypoint's switch; the stack runs `airflow users create`",
    "_AIRFLOW_WWW_USER_USERNAME": "the image entrypoint's switch; the stack runs `airflow users create`",
    "_AIRFLOW_WWW_USER_PASSWORD": "the image entrypoint's switch; the stack runs `airflow users create`",
}
ADDED = {
    "AIRFLOW_HOME": "the image's /opt/airflow",
    "AIRFLOW__CORE__DAGS_FOLDER": "set by the Dockerfile",
    "AIRFLOW__CORE__PLUGINS_FOLDER": "set by the Dockerfile",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "one network namespace: a port of its own",
    "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": "one network namespace: a port of its own",
    "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "one network namespace: a port per worker",
    "PYTHONUNBUFFERED": "service logs in order, as `docker compose logs` shows them",
}
# container paths (volumes and the image's folders) -> where the stack keeps the same things
CONTAINER_PATHS = {"/opt/airflow/newswatch-data": "data", "/opt/newswatch/seeds": str(REPO_ROOT / "seeds")}


def compose_service(service: str) -> str:
    return COMPOSE_SERVICE["worker" if service.startswith("worker") else service]


def dotenv(config: StackConfig) -> dict[str, str]:
    """The `.env` the stack interpolates the compose file with: its secrets, the Celery profile, its
    API server's URL, then the caller's own values."""
    return {**config.secrets, "AIRFLOW_EXECUTOR": "CeleryExecutor", "AIRFLOW_BASE_URL": config.api_url,
            **config.dotenv}


def _loopback(value: str, config: StackConfig) -> str:
    for address, port_name in ADDRESSES.items():
        value = value.replace(f"@{address}/", f"@127.0.0.1:{config.ports[port_name]}/")
        value = value.replace(f"//{address}/", f"//127.0.0.1:{config.ports[port_name]}/")
    for container, local in CONTAINER_PATHS.items():
        if value == container or value.startswith(container + "/"):
            value = str(config.path / local if not Path(local).is_absolute() else Path(local)) + value[len(container):]
    return value


def _overrides(config: StackConfig, compose_env: Mapping[str, str]) -> dict[str, str]:
    conn: dict[str, Any] = json.loads(compose_env["AIRFLOW_CONN_ELASTICSEARCH_DEFAULT"])
    conn.update({"host": ",".join(config.es_urls()), "schema": "http", "login": "", "password": ""})
    conn.pop("port", None)
    conn["extra"] = {k: v for k, v in (conn.get("extra") or {}).items() if k not in {"ca_certs", "verify_certs"}}
    return {"NEWSWATCH_ES_URL": ",".join(config.es_urls()), "NEWSWATCH_ES_USERNAME": "", "NEWSWATCH_ES_PASSWORD": "",
            "NEWSWATCH_ES_CA_CERTS": "", "AIRFLOW_CONN_ELASTICSEARCH_DEFAULT": json.dumps(conn),
            "NEWSWATCH_KIBANA_URL": ""}


def _added(config: StackConfig, service: str) -> dict[str, str]:
    added = {"AIRFLOW_HOME": str(config.path / "airflow"), "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
             "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
             "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": str(config.ports["scheduler-health"]),
             "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(config.ports["triggerer-logs"]),
             "PYTHONUNBUFFERED": "1"}
    if service.startswith("worker"):
        added["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] = str(config.ports[f"{service}-logs"])
    return added


def inherited(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without anything Airflow, newswatch or an enclosing stack would read
    (a test session's SQLite Airflow home must not leak into the stack)."""
    source = os.environ if environ is None else environ
    keep = {k: v for k, v in source.items()
            if not k.startswith(("AIRFLOW", "_AIRFLOW", "NEWSWATCH_", MARK))}
    keep["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), keep.get("PATH", "/usr/bin:/bin")])
    return keep


def airflow_environment(config: StackConfig, service: str, compose_file: Path = compose.COMPOSE_FILE,
                        environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The full environment of one Airflow service process (`init`, `api-server`, ..., `worker1`)."""
    spec = compose.load(compose_file)
    env = compose.service_environment(spec, compose_service(service), dotenv(config))
    env = {k: _loopback(v, config) for k, v in env.items() if k not in DROPPED}
    env.update(_overrides(config, env))
    env.update(_added(config, service))
    env.update(config.extra_env)
    return {**inherited(environ), **env, **mark(config.stack_id, service)}


def worker_name(service: str) -> str:
    return f"{service}@{socket.gethostname()}"


def airflow_command(config: StackConfig, service: str, compose_file: Path = compose.COMPOSE_FILE) -> list[str]:
    """The command line of one long-running Airflow service."""
    if service.startswith("worker"):
        # compose runs `/entrypoint celery worker` (its script only checks the executor first)
        argv = [AIRFLOW, "celery", "worker", "--celery-hostname", worker_name(service)]
        if config.worker_concurrency:
            argv += ["--concurrency", str(config.worker_concurrency)]
        return argv
    argv = [AIRFLOW, *compose.service_command(compose.load(compose_file), compose_service(service))]
    if service == "api-server":
        argv += ["--host", "127.0.0.1", "--port", str(config.ports["api"])]
    return argv


# FAB gives "can read on Plugins" to Op and Admin only, and the UI lists plugin menu entries (Browse >
# Feed health ...) only to those who can read plugins: without this a Viewer reaches the pages by URL only
VIEWERS_SEE_PLUGIN_MENU = ["roles", "add-perms", "Viewer", "-r", "Plugins", "-a", "can_read"]


def init_commands(config: StackConfig, env: Mapping[str, str]) -> list[list[str]]:
    """airflow-init's work, in its order: migrate the database, the admin user, the fetch pool, the
    Viewer's plugin menu permission."""
    username, password = config.admin
    slots = env.get("NEWSWATCH_FETCH_POOL_SLOTS") or "4"
    return [
        [AIRFLOW, "db", "migrate"],
        [AIRFLOW, "users", "create", "--username", username, f"--password={password}", "--role", "Admin",
         "--firstname", "newswatch", "--lastname", "admin", "--email", "admin@localhost"],
        [AIRFLOW, "pools", "set", "newswatch_fetch", slots, "newswatch: global fetch concurrency"],
        [AIRFLOW, *VIEWERS_SEE_PLUGIN_MENU],
    ]
