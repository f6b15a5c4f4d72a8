"""The local stack (`pipeline.stack`) against docker-compose.yml: same services, same variables, same
Connection, same commands; every difference is listed with its reason and nothing else differs.

No process is started: the stack's environment is computed for a made-up stack folder and ports.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.config import ENV_VARS
from pipeline.stack import broker, compose, environment, layout, postgres
from pipeline.stack.environment import ADDED, COMPOSE_SERVICE, DROPPED, OVERRIDDEN

ROOT = Path(__file__).resolve().parents[2]
# compose services the stack has no process for, and why; the stack's counterpart of each other one
NOT_IN_STACK = {
    "es-certs": "the embedded nodes have no TLS (docs/es-dev-node.md)",
    "kibana": "Kibana needs a full Elasticsearch distribution",
    "kibana-setup": "Kibana needs a full Elasticsearch distribution",
}
COUNTERPARTS = {
    "postgres": "postgres", "redis": "redis", "elasticsearch": "es1", "es-setup": "Stack._setup_indices",
    **{compose_name: service for service, compose_name in COMPOSE_SERVICE.items()},
}
AIRFLOW_SERVICES = ["init", "api-server", "scheduler", "dag-processor", "triggerer", "worker1", "worker2"]
DOCKER_NAMES = ("postgres:5432", "redis:6379", "airflow-api-server", "elasticsearch:9200", "kibana:5601", "/opt/")


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> layout.StackConfig:
    return layout.create(tmp_path_factory.mktemp("stack"), es_node_count=3, worker_count=2, worker_concurrency=0,
                         es_heap="512m", dotenv={}, extra_env={})


@pytest.fixture(scope="module")
def spec() -> dict:
    return compose.load()


def _compose_env(spec: dict, config: layout.StackConfig, service: str) -> dict[str, str]:
    return compose.service_environment(spec, environment.compose_service(service), environment.dotenv(config))


def test_every_compose_service_has_a_counterpart_or_a_reason(spec):
    assert set(spec["services"]) == set(COUNTERPARTS) | set(NOT_IN_STACK)


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_same_variables_as_compose_except_the_listed_differences(spec, config, service):
    ours = environment.airflow_environment(config, service, environ={})
    theirs = _compose_env(spec, config, service)
    inherited = set(environment.inherited({}))
    added = {k for k in ADDED if k != "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT" or service.startswith("worker")}
    assert set(ours) - inherited - {environment.MARK} == (set(theirs) - set(DROPPED)) | added


@pytest.mark.parametrize("service", AIRFLOW_SERVICES)
def test_values_are_composes_on_loopback(spec, config, service):
    ours = environment.airflow_environment(config, service, environ={})
    theirs = _compose_env(spec, config, service)
    for key, value in theirs.items():
        if key in DROPPED or key in OVERRIDDEN:
            continue
        if any(name in value for name in DOCKER_NAMES):  # a compose address or a container path
            assert ours[key] != value, key
            assert "@127.0.0.1:" in ours[key] or "//127.0.0.1:" in ours[key] \
                or ours[key].startswith((config.root, str(ROOT))), (key, ours[key])
        else:
            assert ours[key] == value, key
    assert [k for k, v in ours.items() if any(name in v for name in DOCKER_NAMES)] == []


def test_the_differences_name_variables_compose_sets(spec, config):
    compose_keys = set().union(*(_compose_env(spec, config, s) for s in AIRFLOW_SERVICES))
    assert set(OVERRIDDEN) <= compose_keys, set(OVERRIDDEN) - compose_keys
    assert set(DROPPED) <= compose_keys, set(DROPPED) - compose_keys
    assert not set(ADDED) & compose_keys, "ADDED names a variable compose sets: list it as OVERRIDDEN"
    assert all(OVERRIDDEN.values()) and all(DROPPED.values()) and all(ADDED.values())


def test_every_setting_compose_deploys_reaches_the_stacks_workers(config):
    worker = environment.airflow_environment(config, "worker1", environ={})
    deployed = {name for name in ENV_VARS.values() if not name.startswith("NEWSWATCH_ES_NODE_")}
    assert deployed <= set(worker), sorted(deployed - set(worker))


def test_the_connection_is_composes_over_http_to_every_node(spec, config):
    ours = json.loads(environment.airflow_environment(config, "worker1", environ={})["AIRFLOW_CONN_ELASTICSEARCH_DEFAULT"])
    theirs = json.loads(_compose_env(spec, config, "worker1")["AIRFLOW_CONN_ELASTICSEARCH_DEFAULT"])
    assert ours["conn_type"] == theirs["conn_type"] == "elasticsearch"
    assert set(ours) <= set(theirs)
    assert ours["host"].split(",") == config.es_urls() and len(config.es_urls()) == 3
    # what the DAGs' adapter makes of it: every node, as NEWSWATCH_ES_URL lists them
    adapter = _load(ROOT / "plugins" / "newswatch_airflow" / "config.py")
    conn = SimpleNamespace(host=ours["host"], schema=ours["schema"], port=None, login=ours["login"],
                           password=ours["password"], extra_dejson=ours["extra"])
    from pipeline.config import load_settings
    from pipeline.es import es_hosts

    env = environment.airflow_environment(config, "worker1", environ={})
    settings = load_settings(env=env, **adapter.es_overrides_from_connection(conn))
    assert es_hosts(settings) == es_hosts(load_settings(env=env)) == config.es_urls()
    assert (settings.es_username, settings.es_password, settings.es_ca_certs) == (None, None, None)


def test_executor_is_celery_as_in_the_compose_celery_profile(config):
    env = environment.airflow_environment(config, "scheduler", environ={})
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == config.broker_url
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://airflow:")
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == postgres.sqlalchemy_url(
        config.secrets["POSTGRES_PASSWORD"], config.ports["postgres"])


def test_commands_are_composes(spec, config):
    for service in ("api-server", "scheduler", "dag-processor", "triggerer"):
        argv = environment.airflow_command(config, service)
        assert argv[1:1 + len(compose.service_command(spec, COMPOSE_SERVICE[service]))] == \
            compose.service_command(spec, COMPOSE_SERVICE[service])
    assert "exec /entrypoint celery worker" in " ".join(compose.service_command(spec, "airflow-worker"))
    assert environment.airflow_command(config, "worker1")[1:3] == ["celery", "worker"]
    init = spec["services"]["airflow-init"]
    assert init["environment"]["_AIRFLOW_DB_MIGRATE"] == init["environment"]["_AIRFLOW_WWW_USER_CREATE"] == "true"
    assert 'airflow pools set newswatch_fetch "$${NEWSWATCH_FETCH_POOL_SLOTS:-4}"' in " ".join(init["command"])
    migrate, users, pools, viewers = environment.init_commands(config, {})
    assert migrate[1:] == ["db", "migrate"] and users[1:3] == ["users", "create"]
    assert pools[1:] == ["pools", "set", "newswatch_fetch", "4", "newswatch: global fetch concurrency"]
    assert viewers[1:] == environment.VIEWERS_SEE_PLUGIN_MENU
    assert "airflow " + " ".join(environment.VIEWERS_SEE_PLUGIN_MENU) in " ".join(init["command"])


def test_redis_and_postgres_are_set_up_as_in_compose(spec, config, monkeypatch):
    theirs = compose.service_command(spec, "redis")
    monkeypatch.setattr(broker.shutil, "which", lambda name: f"/usr/bin/{name}")
    ours = broker.server_command(config)
    for flag in ("--requirepass", "--appendonly"):
        assert flag in theirs and flag in ours
    assert theirs[theirs.index("--appendonly") + 1] == ours[ours.index("--appendonly") + 1] == "yes"
    assert ours[ours.index("--requirepass") + 1] == config.secrets["REDIS_PASSWORD"]
    pg = spec["services"]["postgres"]["environment"]
    assert (pg["POSTGRES_USER"], pg["POSTGRES_DB"]) == (postgres.USER, postgres.DB)


def test_interpolation_follows_compose_rules():
    env = {"SET": "x", "EMPTY": ""}
    assert compose.interpolate("${SET:-d} ${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${UNSET} $$HOME $SET", env) == "x d  d  $HOME x"
    with pytest.raises(compose.ComposeError, match="EMPTY"):
        compose.interpolate("${EMPTY:?set it}", env)
    assert compose.interpolate("${EMPTY?set it}", env) == ""


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(f"_nw_{path.stem}_drift", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_a_generated_password_that_starts_with_a_dash_stays_the_password(config):
    """token_urlsafe draws '-' first one time in 64: argparse would take `--password -x...` for an option."""
    import argparse
    from dataclasses import replace

    dashed = replace(config, secrets={**config.secrets, "AIRFLOW_ADMIN_PASSWORD": "-starts-with-a-dash"})
    _, users, *_ = environment.init_commands(dashed, {})
    parser = argparse.ArgumentParser()
    parser.add_argument("-p", "--password")
    known, _ = parser.parse_known_args(users[3:])
    assert known.password == "-starts-with-a-dash"
