"""The compose stack's one-shot setup jobs, run from the newswatch image (docker-compose.yml).

    python deploy/setup_stack.py elasticsearch   # service es-setup
    python deploy/setup_stack.py kibana          # service kibana-setup

`elasticsearch` (as the `elastic` superuser, ELASTIC_PASSWORD): waits for the cluster, sets the
`kibana_system` password (KIBANA_SYSTEM_PASSWORD), creates the role `newswatch_pipeline` and the user
NEWSWATCH_ES_USERNAME with NEWSWATCH_ES_PASSWORD, then runs `newswatch index setup` as that user, so
the pipeline's own privileges are proven at deploy time.

`kibana`: waits until Kibana reports itself available, then runs `newswatch kibana import` with the
NEWSWATCH_KIBANA_* credentials: kibana/saved_objects.ndjson, or, with a non-default
NEWSWATCH_INDEX_PREFIX, the same objects generated for that prefix.

Both are idempotent: re-running them (`docker compose run --rm es-setup`) changes nothing that is right.
Exit status: 0 done, 1 a step failed (the message says which).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

PIPELINE_ROLE = "newswatch_pipeline"
SAVED_OBJECTS = "/opt/newswatch/kibana/saved_objects.ndjson"


class SetupError(RuntimeError):
    """A setup step failed; the message names the step and the reason."""


def pipeline_role(index_prefix: str) -> dict[str, Any]:
    """Least privilege for the DAGs: their own indices, aliases, templates and ILM policies, nothing else."""
    return {
        "cluster": ["monitor", "manage_index_templates", "manage_ilm"],
        "indices": [
            {
                "names": [f"{index_prefix}-*", index_prefix],
                "privileges": ["all"],
                "allow_restricted_indices": False,
            }
        ],
        "metadata": {"managed_by": "newswatch"},
    }


def _require(env: Mapping[str, str], *names: str) -> list[str]:
    missing = [n for n in names if not env.get(n)]
    if missing:
        raise SetupError(f"missing environment: {', '.join(missing)} (see .env.example)")
    return [env[n] for n in names]


def wait_for(what: str, probe: Callable[[], bool], timeout: float, interval: float = 5.0,
             clock: Callable[[], float] | None = None, sleep: Callable[[float], None] | None = None) -> None:
    clock = clock or time.monotonic
    sleep = sleep or time.sleep
    deadline = clock() + timeout
    while True:
        try:
            if probe():
                return
        except Exception as exc:  # noqa: BLE001 - any failure to reach it means "not yet"
            last = f"{type(exc).__name__}: {exc}"
        else:
            last = "not ready"
        if clock() >= deadline:
            raise SetupError(f"{what} not ready after {timeout:.0f}s ({last})")
        sleep(interval)


def setup_elasticsearch(env: Mapping[str, str], es: Any, run: Callable[[list[str]], int]) -> None:
    kibana_password, user, password = _require(
        env, "KIBANA_SYSTEM_PASSWORD", "NEWSWATCH_ES_USERNAME", "NEWSWATCH_ES_PASSWORD")
    prefix = env.get("NEWSWATCH_INDEX_PREFIX") or "newswatch"

    wait_for("Elasticsearch",
             lambda: es.cluster.health(wait_for_status="yellow", timeout="10s")["status"] in {"yellow", "green"},
             timeout=float(env.get("SETUP_TIMEOUT", "600")))
    es.security.change_password(username="kibana_system", password=kibana_password)
    print("es-setup: kibana_system password set")
    es.security.put_role(name=PIPELINE_ROLE, **pipeline_role(prefix))
    es.security.put_user(username=user, password=password, roles=[PIPELINE_ROLE],
                         full_name="newswatch pipeline", metadata={"managed_by": "newswatch"})
    print(f"es-setup: role {PIPELINE_ROLE} and user {user} in place")
    if run(["newswatch", "index", "setup"]) != 0:
        raise SetupError("`newswatch index setup` failed (its output is above)")
    print("es-setup: index templates, indices and aliases in place")


def kibana_available(url: str, auth: tuple[str, str]) -> bool:
    import httpx

    r = httpx.get(f"{url.rstrip('/')}/api/status", auth=auth, timeout=10.0)
    if r.status_code != 200:
        return False
    return r.json().get("status", {}).get("overall", {}).get("level") == "available"


def setup_kibana(env: Mapping[str, str], run: Callable[[list[str]], int],
                 available: Callable[[], bool]) -> None:
    _require(env, "NEWSWATCH_KIBANA_URL", "NEWSWATCH_KIBANA_USERNAME", "NEWSWATCH_KIBANA_PASSWORD")
    wait_for("Kibana", available, timeout=float(env.get("SETUP_TIMEOUT", "600")))
    argv = ["newswatch", "kibana", "import"]
    # the shipped file targets the default index prefix; for another prefix the CLI generates the
    # same objects from their definitions
    path = env.get("SETUP_SAVED_OBJECTS_FILE") or (
        SAVED_OBJECTS if (env.get("NEWSWATCH_INDEX_PREFIX") or "newswatch") == "newswatch" else "")
    if path:
        argv += ["--file", path]
    if run(argv) != 0:
        raise SetupError(f"`{' '.join(argv)}` failed (its output is above)")
    print("kibana-setup: saved objects imported")


def _superuser_client(env: Mapping[str, str]) -> Any:
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings

    (elastic_password,) = _require(env, "ELASTIC_PASSWORD")
    settings = load_settings(dict(env), es_username="elastic", es_password=elastic_password, es_api_key="")
    return client_from_settings(settings)


def _run(argv: list[str]) -> int:
    print("+ " + " ".join(argv), flush=True)
    return subprocess.run(argv, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args not in (["elasticsearch"], ["kibana"]):
        print(__doc__, file=sys.stderr)
        return 2
    env = dict(os.environ)
    try:
        if args == ["elasticsearch"]:
            setup_elasticsearch(env, _superuser_client(env), _run)
        else:
            auth = (env.get("NEWSWATCH_KIBANA_USERNAME", ""), env.get("NEWSWATCH_KIBANA_PASSWORD", ""))
            setup_kibana(env, _run, lambda: kibana_available(env.get("NEWSWATCH_KIBANA_URL", ""), auth))
    except SetupError as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - an API error: say which, exit non-zero
        print(f"setup: {args[0]}: {type(exc).__name__}: {json.dumps(str(exc))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
