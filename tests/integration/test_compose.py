"""docker-compose.yml, loaded by the real Compose v2 loader (compose-go, tools/compose-validate).

There is no Docker engine here, so this is the strongest check available: the same interpolation,
schema validation, profile handling and consistency checks `docker compose config` runs. The validator is
built on demand (tools/compose-validate/build.sh, pinned in go.sum; needs Go and the Go module proxy).

Env var names cannot drift: every variable the code reads (pipeline.config.ENV_VARS plus every literal
`os.environ`/`os.getenv` read in pipeline/, dags/ and plugins/) must be set in each Airflow container and
listed in .env.example, except the few in NOT_DEPLOYED; and every NEWSWATCH_* name the compose file or
.env.example mentions must be one the code reads.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
EXAMPLE = ROOT / ".env.example"

AIRFLOW_SERVICES = ("airflow-init", "airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer")
DEFAULT_SERVICES = {*AIRFLOW_SERVICES, "postgres", "es-certs", "elasticsearch", "es-setup", "kibana",
                    "kibana-setup"}
CELERY_SERVICES = {"redis", "airflow-worker"}
ONE_SHOT = {"es-certs", "es-setup", "kibana-setup", "airflow-init"}
# Read by the code but not part of the compose stack, with the reason.
NOT_DEPLOYED = {
    "NEWSWATCH_ES_NODE_DIR": "the embedded dev node (es-dev-node/) is for local runs and tests",
    "NEWSWATCH_ES_NODE_PORT": "the embedded dev node (es-dev-node/) is for local runs and tests",
    "NEWSWATCH_ES_NODE_HEAP": "the embedded dev node (es-dev-node/) is for local runs and tests",
}
# Set by docker-compose.yml itself (container paths and service URLs), so fixed, not taken from .env.
FIXED_IN_COMPOSE = {"NEWSWATCH_ES_URL", "NEWSWATCH_ES_CA_CERTS", "NEWSWATCH_ES_VERIFY_CERTS",
                    "NEWSWATCH_DATA_DIR", "NEWSWATCH_KIBANA_URL"}


def _load_module(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"_nw_{path.stem}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def validator() -> str:
    build = subprocess.run([str(ROOT / "tools" / "compose-validate" / "build.sh")], capture_output=True,
                           text=True, timeout=900)
    assert build.returncode == 0, f"building compose-validate failed:\n{build.stderr}"
    return build.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def env_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    make_env = _load_module(ROOT / "deploy" / "make_env.py")
    path = tmp_path_factory.mktemp("compose") / "env"
    path.write_text(make_env.render(EXAMPLE.read_text()))
    return path


def _run(validator: str, *args: str, compose: Path = COMPOSE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([validator, "-f", str(compose), "--no-os-env", "--strict", *args],
                          capture_output=True, text=True, timeout=120)


def _project(validator: str, env: Path, *profiles: str) -> dict[str, Any]:
    args = ["--env-file", str(env), "--json"]
    for p in profiles:
        args += ["--profile", p]
    done = _run(validator, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def default_project(validator: str, env_file: Path) -> dict[str, Any]:
    return _project(validator, env_file)


@pytest.fixture(scope="module")
def celery_project(validator: str, env_file: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    env = tmp_path_factory.mktemp("celery") / "env"
    text = env_file.read_text()
    text = re.sub(r"(?m)^AIRFLOW_EXECUTOR=.*$", "AIRFLOW_EXECUTOR=CeleryExecutor", text)
    text = re.sub(r"(?m)^COMPOSE_PROFILES=.*$", "COMPOSE_PROFILES=celery", text)
    env.write_text(text)
    return _project(validator, env)


# ---------------------------------------------------------------- the file is valid, per profile


def test_default_profile_loads(default_project):
    services = default_project["services"]
    assert set(services) == DEFAULT_SERVICES
    assert services["airflow-scheduler"]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"


def test_celery_profile_loads_with_workers_and_broker(celery_project):
    services = celery_project["services"]
    assert set(services) == DEFAULT_SERVICES | CELERY_SERVICES
    worker = services["airflow-worker"]
    assert worker["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert worker["depends_on"]["redis"]["condition"] == "service_healthy"
    password = worker["environment"]["AIRFLOW__CELERY__BROKER_URL"].split(":")[2].split("@")[0]
    assert password and password in services["redis"]["command"]


def test_every_service_is_limited_checked_and_ordered(celery_project):
    services = celery_project["services"]
    for name, svc in services.items():
        assert int(svc.get("mem_limit", 0)) > 0, f"{name}: no memory limit"
        if name not in ONE_SHOT:
            assert svc.get("healthcheck", {}).get("test"), f"{name}: no healthcheck"
            assert svc.get("restart") == "unless-stopped", name
        else:
            assert svc.get("restart") == "no", name
        for dep, how in svc.get("depends_on", {}).items():
            expected = "service_completed_successfully" if dep in ONE_SHOT else "service_healthy"
            if (name, dep) != ("kibana-setup", "kibana"):
                assert how["condition"] == expected, (name, dep, how)
    for name in AIRFLOW_SERVICES[1:]:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully"
        assert deps["es-setup"]["condition"] == "service_completed_successfully"
    assert services["kibana-setup"]["depends_on"]["kibana"]["condition"] == "service_healthy"


def test_state_lives_in_named_volumes(celery_project):
    declared = set(celery_project["volumes"])
    for name, svc in celery_project["services"].items():
        for vol in svc.get("volumes", []):
            if vol["type"] == "volume":
                assert vol["source"] in declared, (name, vol)
            else:  # only read-only configuration may come from the checkout
                assert vol["type"] == "bind" and vol.get("read_only"), (name, vol)
    for data in ("es-data", "postgres-db", "airflow-logs", "newswatch-data", "kibana-data", "redis-data"):
        assert data in declared


def test_only_elasticsearch_sees_its_keys_the_rest_get_the_ca(default_project):
    def mounts(name: str) -> dict[str, str]:
        return {v["target"]: v["source"] for v in default_project["services"][name].get("volumes", [])
                if v["type"] == "volume"}

    # deploy/es-certs.sh writes config/certs (keys) and config/ca-public (the CA certificate only)
    assert mounts("es-certs")["/usr/share/elasticsearch/config/certs"] == "es-certs"
    assert mounts("es-certs")["/usr/share/elasticsearch/config/ca-public"] == "es-ca"
    assert mounts("elasticsearch")["/usr/share/elasticsearch/config/certs"] == "es-certs"
    for name in default_project["services"]:
        if name not in {"es-certs", "elasticsearch"}:
            assert "es-certs" not in mounts(name).values(), name
    kibana_ca = default_project["services"]["kibana"]["environment"]["ELASTICSEARCH_SSL_CERTIFICATEAUTHORITIES"]
    assert mounts("kibana")[str(Path(kibana_ca).parent)] == "es-ca"


def test_elasticsearch_runs_with_security_and_tls(default_project):
    es = default_project["services"]["elasticsearch"]["environment"]
    assert es["xpack.security.enabled"] == "true"
    assert es["xpack.security.http.ssl.enabled"] == "true"
    assert es["xpack.security.transport.ssl.enabled"] == "true"
    assert es["ELASTIC_PASSWORD"]
    kibana = default_project["services"]["kibana"]["environment"]
    assert kibana["ELASTICSEARCH_HOSTS"].startswith("https://")
    assert kibana["ELASTICSEARCH_USERNAME"] == "kibana_system"
    assert len(kibana["XPACK_ENCRYPTEDSAVEDOBJECTS_ENCRYPTIONKEY"]) >= 32


def test_kibana_matches_elasticsearch_and_the_dev_node(default_project):
    services = default_project["services"]
    es_version = services["elasticsearch"]["image"].rsplit(":", 1)[1]
    assert services["kibana"]["image"] == f"docker.elastic.co/kibana/kibana:{es_version}"
    assert services["es-certs"]["image"] == services["elasticsearch"]["image"]
    pom = (ROOT / "es-dev-node" / "pom.xml").read_text()
    dev = re.search(r"<elasticsearch.version>([^<]+)</elasticsearch.version>", pom)
    assert dev, "es-dev-node/pom.xml names no elasticsearch.version"
    assert es_version == dev.group(1)
    assert re.search(rf"(?m)^ELASTIC_VERSION={re.escape(es_version)}$", EXAMPLE.read_text())


def test_dags_reach_elasticsearch_over_tls_with_credentials(default_project):
    sys.path.insert(0, str(ROOT / "plugins"))
    try:
        from newswatch_airflow.config import es_overrides_from_connection
    finally:
        sys.path.remove(str(ROOT / "plugins"))
    from pipeline.config import load_settings

    for name in AIRFLOW_SERVICES:
        svc = default_project["services"][name]
        env = svc["environment"]
        conn = json.loads(env["AIRFLOW_CONN_ELASTICSEARCH_DEFAULT"])
        assert conn["conn_type"] == "elasticsearch" and conn["schema"] == "https"
        assert conn["login"] and conn["password"] and conn["password"] == env["NEWSWATCH_ES_PASSWORD"]
        assert conn["extra"]["verify_certs"] is True
        mounts = [v["target"] for v in svc["volumes"]]
        assert any(conn["extra"]["ca_certs"].startswith(m + "/") for m in mounts), (name, mounts)
        # the DAGs' own adapter turns it into the same settings the CLI gets from NEWSWATCH_*
        conn_obj = SimpleNamespace(host=conn["host"], port=conn["port"], schema=conn["schema"],
                                   login=conn["login"], password=conn["password"], extra_dejson=conn["extra"])
        from_conn = load_settings({}, **es_overrides_from_connection(conn_obj))
        from_env = load_settings(env)
        for field in ("es_url", "es_username", "es_password", "es_ca_certs", "es_verify_certs"):
            assert getattr(from_conn, field) == getattr(from_env, field), field
        assert from_env.es_url == "https://elasticsearch:9200"


AIRFLOW_PROBE = """
import json
from airflow.api_fastapi.app import get_auth_manager_cls
from airflow.models.connection import Connection
c = Connection.get_connection_from_secrets("elasticsearch_default")
print(json.dumps({"conn_type": c.conn_type, "host": c.host, "schema": c.schema, "port": c.port,
                  "login": c.login, "password": c.password, "extra": c.extra_dejson,
                  "auth_manager": get_auth_manager_cls().__name__}))
"""


def test_real_airflow_accepts_the_compose_configuration(default_project, tmp_path):
    """Airflow itself (the locked version) reads the connection and loads the auth manager the stack sets."""
    env = dict(default_project["services"]["airflow-scheduler"]["environment"])
    env.update({"AIRFLOW_HOME": str(tmp_path), "PATH": str(Path(sys.executable).parent),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path}/airflow.db"})
    done = subprocess.run([sys.executable, "-c", AIRFLOW_PROBE], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    assert (got["conn_type"], got["host"], got["schema"], got["port"]) == (
        "elasticsearch", "elasticsearch", "https", 9200)
    assert got["login"] == env["NEWSWATCH_ES_USERNAME"] and got["password"] == env["NEWSWATCH_ES_PASSWORD"]
    assert got["extra"] == {"ca_certs": env["NEWSWATCH_ES_CA_CERTS"], "verify_certs": True}
    assert got["auth_manager"] == "FabAuthManager"


def test_init_creates_the_pool_the_dags_use(default_project):
    tree = ast.parse((ROOT / "dags" / "news_ingest.py").read_text())
    pools = {n.value.value for n in tree.body if isinstance(n, ast.Assign)
             and any(isinstance(t, ast.Name) and t.id.endswith("POOL") for t in n.targets)
             and isinstance(n.value, ast.Constant)}
    assert pools, "dags/news_ingest.py defines no *_POOL constant"
    init = " ".join(default_project["services"]["airflow-init"]["command"])
    for pool in pools:
        assert f"airflow pools set {pool} " in init


# ---------------------------------------------------------------- invalid input is rejected


def test_example_env_alone_is_rejected_for_want_of_secrets(validator):
    make_env = _load_module(ROOT / "deploy" / "make_env.py")
    done = _run(validator, "--env-file", str(EXAMPLE))
    assert done.returncode == 1
    for name in make_env.GENERATORS:
        assert f"required variable {name} is missing a value" in done.stderr, name


BREAKAGES = {
    "undefined dependency": (
        "    depends_on:\n      es-certs:\n",
        "    depends_on:\n      es-certz:\n",
        "es-certz",
    ),
    "schema violation": ("    mem_limit: 512m\n", "    mem_limit: [512m]\n", "mem_limit"),
    "yaml syntax": ("services:\n", "services:\n  - [\n", "yaml"),
    "undeclared variable (strict)": ("cluster.name: ${ES_CLUSTER_NAME:-newswatch}",
                                     "cluster.name: ${ES_CLUSTER_NAME_TYPO}", "ES_CLUSTER_NAME_TYPO"),
}


@pytest.mark.parametrize("kind", sorted(BREAKAGES))
def test_a_broken_copy_is_rejected(validator, env_file, tmp_path, kind):
    old, new, hint = BREAKAGES[kind]
    text = COMPOSE.read_text()
    assert old in text, f"breakage {kind!r} no longer applies to docker-compose.yml"
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace(old, new, 1))
    shutil.copytree(ROOT / "deploy", tmp_path / "deploy")
    (tmp_path / "seeds").mkdir()
    done = _run(validator, "--env-file", str(env_file), compose=broken)
    assert done.returncode == 1 and hint.lower() in done.stderr.lower(), done.stderr
    # and the unbroken copy in the same place loads, so it is the breakage that was refused
    broken.write_text(text)
    assert _run(validator, "--env-file", str(env_file), compose=broken).returncode == 0


# ---------------------------------------------------------------- env var names cannot drift


def _string_constants(tree: ast.Module) -> dict[str, str]:
    return {t.id: node.value.value for node in tree.body if isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)
            for t in node.targets if isinstance(t, ast.Name)}


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (
        isinstance(node, ast.Name) and node.id == "environ")


def env_reads(source: str) -> set[str]:
    """Names read with os.environ[...], os.environ.get(...), os.getenv(...) or `in os.environ`,
    as literals or module-level string constants."""
    tree = ast.parse(source)
    consts = _string_constants(tree)

    def name_of(arg: ast.AST) -> str | None:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            return arg.value
        if isinstance(arg, ast.Name):
            return consts.get(arg.id)
        return None

    found = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice
        elif isinstance(node, ast.Call) and node.args:
            f = node.func
            if isinstance(f, ast.Attribute) and f.attr in {"get", "pop", "setdefault"} and _is_environ(f.value):
                key = node.args[0]
            elif (isinstance(f, ast.Attribute) and f.attr == "getenv") or (
                    isinstance(f, ast.Name) and f.id == "getenv"):
                key = node.args[0]
        elif isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.In) \
                and _is_environ(node.comparators[0]):
            key = node.left
        if key is not None and (name := name_of(key)):
            found.add(name)
    return found


def test_env_scanner_finds_literal_and_constant_reads():
    src = ('import os\nfrom os import environ, getenv\nX = "NW_CONST"\n'
           'a = os.environ["NW_A"]; b = os.environ.get(X); c = os.getenv("NW_C", "d")\n'
           'e = environ.get("NW_E"); f = "NW_F" in os.environ; g = getenv("NW_G")\n'
           'h = os.environ.get(f"NW_{a}")\n')
    assert env_reads(src) == {"NW_A", "NW_CONST", "NW_C", "NW_E", "NW_F", "NW_G"}


def code_env_reads() -> set[str]:
    from pipeline.config import ENV_VARS

    names = set(ENV_VARS.values())
    for top in ("pipeline", "dags", "plugins"):
        for path in sorted((ROOT / top).rglob("*.py")):
            names |= env_reads(path.read_text(encoding="utf-8"))
    return names


def _example_names() -> set[str]:
    return {ln.split("=", 1)[0].strip() for ln in EXAMPLE.read_text().splitlines()
            if "=" in ln and not ln.lstrip().startswith("#")}


def test_every_variable_the_code_reads_is_deployed(celery_project):
    read = code_env_reads()
    assert "NEWSWATCH_ES_URL" in read and "NEWSWATCH_SPACY_MODEL" in read  # the scan works
    unknown_exemptions = set(NOT_DEPLOYED) - read
    assert not unknown_exemptions, f"NOT_DEPLOYED lists names nothing reads: {unknown_exemptions}"
    wanted = {n for n in read - set(NOT_DEPLOYED) if n.startswith("NEWSWATCH_")}
    services = celery_project["services"]
    for name in (*AIRFLOW_SERVICES, "airflow-worker", "es-setup", "kibana-setup"):
        missing = wanted - set(services[name]["environment"])
        assert not missing, f"{name} does not set {sorted(missing)} (add them to x-newswatch-env)"
    missing = wanted - FIXED_IN_COMPOSE - _example_names()
    assert not missing, f".env.example does not list {sorted(missing)}"
    other = read - wanted - set(NOT_DEPLOYED)
    for name in other:  # non-NEWSWATCH reads (e.g. AIRFLOW_*) must be set by compose too
        assert all(name in services[s]["environment"] for s in AIRFLOW_SERVICES), name


def test_no_stale_newswatch_names_in_compose_or_example():
    read = code_env_reads()
    in_compose = set(re.findall(r"\bNEWSWATCH_[A-Z0-9_]+\b", COMPOSE.read_text())) - {"NEWSWATCH_IMAGE"}
    in_example = {n for n in _example_names() if n.startswith("NEWSWATCH_")} - {"NEWSWATCH_IMAGE"}
    assert in_compose - read == set(), "docker-compose.yml sets names no code reads"
    assert in_example - read == set(), ".env.example lists names no code reads"
    assert FIXED_IN_COMPOSE <= read
    assert not FIXED_IN_COMPOSE & _example_names(), "fixed in compose; listing them in .env.example misleads"


def test_every_variable_the_compose_file_interpolates_is_in_the_example():
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE.read_text()))  # $${X} is the container's
    assert used - _example_names() == set()
