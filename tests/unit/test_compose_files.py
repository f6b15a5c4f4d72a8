"""The production stack's files agree with the lock and with each other (no Docker needed).

The compose file itself is loaded by the real Compose loader in tests/integration/test_compose.py.
"""

from __future__ import annotations

import base64
import importlib.util
import re
import shlex
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "requirements.lock"
DOCKERFILE = ROOT / "Dockerfile"


def _module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"deploy_{name}", ROOT / "deploy" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


check_lock = _module("check_lock")
make_env = _module("make_env")
setup_stack = _module("setup_stack")


def _dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _pip_installs() -> list[list[str]]:
    """Every `pip install ...` command of every RUN, as argv lists."""
    installs = []
    for word, rest in _dockerfile_instructions():
        if word == "RUN":
            for command in re.split(r"&&|;", rest):
                argv = shlex.split(command)
                while argv[:2] == ["env", "-u"]:
                    argv = argv[3:]
                if argv[:2] == ["pip", "install"]:
                    installs.append(argv)
    return installs


# ---------------------------------------------------------------- Dockerfile <-> lock


def test_base_image_is_the_locked_airflow_on_the_projects_python():
    locked = check_lock.read_lock(LOCK)
    froms = [rest for word, rest in _dockerfile_instructions() if word == "FROM"]
    assert len(froms) == 1, froms
    m = re.fullmatch(r"apache/airflow:(?P<airflow>[\d.]+)-python(?P<python>\d+\.\d+)", froms[0])
    assert m, f"FROM must be an official apache/airflow:<version>-python<x.y> tag, got {froms[0]!r}"
    assert m["airflow"] == locked["apache-airflow"]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f">={m['python']}" in requires.replace(" ", ""), (m["python"], requires)
    assert "--python-version " + m["python"] in LOCK.read_text().splitlines()[1], "the lock's compile command"


def test_dependencies_come_only_from_the_hash_checked_lock_without_resolving():
    installs = _pip_installs()
    assert installs, "the Dockerfile installs nothing with pip"
    lock_install = [a for a in installs if "-r" in a]
    assert len(lock_install) == 1
    argv = lock_install[0]
    assert argv[argv.index("-r") + 1] == "requirements.lock"
    assert {"--require-hashes", "--no-deps"} <= set(argv)
    # every other pip install adds only the project itself, never a dependency
    for argv in installs:
        if argv is not lock_install[0]:
            assert "--no-deps" in argv and argv[-1] == ".", argv
    copies = [rest for word, rest in _dockerfile_instructions() if word == "COPY"]
    assert any(c.split()[-2:] == ["requirements.lock", "./"] for c in copies), copies


def test_local_setup_installs_the_same_lock_the_same_way():
    setup = (ROOT / "scripts" / "setup").read_text()
    line = next(ln for ln in setup.splitlines() if "-r requirements.lock" in ln)
    assert "--require-hashes" in line and "--no-deps" in line


def test_image_build_proves_the_lock_is_what_got_installed():
    runs = " ".join(rest for word, rest in _dockerfile_instructions() if word == "RUN")
    assert "deploy/check_lock.py requirements.lock --pip-check" in runs


def test_every_copy_source_is_in_the_build_context():
    ignored = [ln.strip() for ln in (ROOT / ".dockerignore").read_text().splitlines()
               if ln.strip() and not ln.startswith("#")]
    for word, rest in _dockerfile_instructions():
        if word != "COPY":
            continue
        sources = [s for s in rest.split() if not s.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: missing from the repository"
            top = source.rstrip("/").split("/")[0]
            assert top not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_this_environment_runs_the_locked_versions():
    # the same check the image build runs, against the local .venv
    assert check_lock.main([str(LOCK)]) == 0


# ---------------------------------------------------------------- deploy/check_lock.py


def test_lock_parser_reads_every_pin(tmp_path):
    lock = tmp_path / "r.lock"
    lock.write_text("# header\nFoo_Bar==1.2 \\\n    --hash=sha256:00\nbaz==2.0.0 ; python_version >= '3'\n"
                    "    # via foo\n")
    assert check_lock.read_lock(lock) == {"foo-bar": "1.2", "baz": "2.0.0"}
    assert len(check_lock.read_lock(LOCK)) > 100


def test_lock_mismatches_name_missing_and_different_versions():
    pins = {"a": "1.0", "b": "2.0", "c": "3.0"}
    problems = check_lock.lock_mismatches(pins, {"a": "1.0.0", "b": "2.1", "c": None})
    assert problems == ["b==2.0: installed 2.1", "c==3.0: not installed"]


def test_pip_check_conflicts_fail_only_for_what_the_stack_imports():
    output = (
        "apache-airflow-providers-fab 2.0 has requirement sqlalchemy<2.1, but you have sqlalchemy 2.1.9.\n"
        "apache-airflow-providers-google 15.0 has requirement protobuf<6, but you have protobuf 7.0.\n"
        "something unparsable\n"
    )
    verdict = check_lock.judge_pip_check(output, {"apache-airflow-providers-fab", "sqlalchemy"})
    assert verdict.fatal == [
        "apache-airflow-providers-fab 2.0 has requirement sqlalchemy<2.1, but you have sqlalchemy 2.1.9.",
        "something unparsable",
    ]
    assert verdict.ignored == [
        "apache-airflow-providers-google 15.0 has requirement protobuf<6, but you have protobuf 7.0."]
    assert check_lock.judge_pip_check("No broken requirements found.\n", set()).fatal == []


def test_requirement_closure_follows_installed_requirements():
    closure = check_lock.requirement_closure(["apache-airflow-providers-elasticsearch"])
    assert {"apache-airflow-providers-elasticsearch", "elasticsearch", "elastic-transport"} <= closure


# ---------------------------------------------------------------- .env.example and deploy/make_env.py


def _env_lines(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"not NAME=value: {line!r}"
            out[name.strip()] = value.strip()
    return out


def test_example_env_commits_no_secret():
    example = _env_lines((ROOT / ".env.example").read_text())
    for name in make_env.GENERATORS:
        assert name in example, f"{name} is generated but not documented in .env.example"
        assert example[name] == "", f"{name} has a value in .env.example"
    secretish = re.compile(r"PASSWORD|SECRET|_KEY$|ENCRYPTION")
    assert {n for n, v in example.items() if secretish.search(n) and v} == set()


def test_make_env_generates_every_secret_and_keeps_the_rest():
    example = (ROOT / ".env.example").read_text()
    rendered = _env_lines(make_env.render(example))
    before = _env_lines(example)
    assert rendered.keys() == before.keys()
    secrets = {n: rendered[n] for n in make_env.GENERATORS}
    assert all(len(v) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+=*", v) for v in secrets.values()), secrets
    assert len(set(secrets.values())) == len(secrets), "two secrets are equal"
    assert len(base64.urlsafe_b64decode(secrets["AIRFLOW_FERNET_KEY"])) == 32
    assert {n: v for n, v in rendered.items() if n not in secrets} == {
        n: v for n, v in before.items() if n not in secrets}


def test_generated_fernet_key_is_accepted_by_cryptography():
    from cryptography.fernet import Fernet  # what Airflow decrypts connections with

    key = make_env.GENERATORS["AIRFLOW_FERNET_KEY"]()
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"


def test_make_env_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / ".env"
    assert make_env.main(["-o", str(out)]) == 0
    first = out.read_text()
    assert out.stat().st_mode & 0o777 == 0o600
    assert make_env.main(["-o", str(out)]) == 1
    assert out.read_text() == first
    assert "exists" in capsys.readouterr().err


# ---------------------------------------------------------------- deploy/setup_stack.py


class _FakeSecurity:
    def __init__(self, calls: list):
        self.calls = calls

    def change_password(self, **kw):
        self.calls.append(("change_password", kw))

    def put_role(self, **kw):
        self.calls.append(("put_role", kw))

    def put_user(self, **kw):
        self.calls.append(("put_user", kw))


class _FakeCluster:
    def __init__(self, statuses: list):
        self.statuses = statuses

    def health(self, **kw):
        status = self.statuses.pop(0)
        if isinstance(status, Exception):
            raise status
        return {"status": status}


class _FakeES:
    def __init__(self, statuses: list):
        self.calls: list = []
        self.security = _FakeSecurity(self.calls)
        self.cluster = _FakeCluster(statuses)


ES_ENV = {"KIBANA_SYSTEM_PASSWORD": "k" * 20, "NEWSWATCH_ES_USERNAME": "newswatch",
          "NEWSWATCH_ES_PASSWORD": "p" * 20, "NEWSWATCH_INDEX_PREFIX": "nw", "SETUP_TIMEOUT": "60"}


def test_es_setup_sets_passwords_creates_the_pipeline_user_then_the_indices(monkeypatch):
    monkeypatch.setattr(setup_stack.time, "sleep", lambda s: None)
    es = _FakeES([ConnectionError("refused"), "red", "yellow"])
    commands: list = []
    setup_stack.setup_elasticsearch(ES_ENV, es, lambda argv: commands.append(argv) or 0)
    assert [c[0] for c in es.calls] == ["change_password", "put_role", "put_user"]
    assert es.calls[0][1] == {"username": "kibana_system", "password": "k" * 20}
    role = es.calls[1][1]
    assert role["name"] == "newswatch_pipeline"
    assert role["indices"][0]["names"] == ["nw-*", "nw"]
    assert "all" not in role["cluster"] and "manage_security" not in role["cluster"]
    user = es.calls[2][1]
    assert (user["username"], user["password"], user["roles"]) == ("newswatch", "p" * 20, ["newswatch_pipeline"])
    assert commands == [["newswatch", "index", "setup"]]


def test_es_setup_fails_with_a_reason():
    with pytest.raises(setup_stack.SetupError, match="KIBANA_SYSTEM_PASSWORD"):
        setup_stack.setup_elasticsearch({**ES_ENV, "KIBANA_SYSTEM_PASSWORD": ""}, _FakeES(["green"]),
                                        lambda argv: 0)
    with pytest.raises(setup_stack.SetupError, match="index setup"):
        setup_stack.setup_elasticsearch(ES_ENV, _FakeES(["green"]), lambda argv: 1)


def test_wait_for_gives_up_after_its_timeout():
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(setup_stack.SetupError, match=r"Kibana not ready after 30s \(not ready\)"):
        setup_stack.wait_for("Kibana", lambda: False, timeout=30, interval=5, clock=lambda: now[0], sleep=sleep)
    assert now[0] == 30


def test_kibana_setup_imports_the_shipped_saved_objects(monkeypatch):
    env = {"NEWSWATCH_KIBANA_URL": "http://kibana:5601", "NEWSWATCH_KIBANA_USERNAME": "elastic",
           "NEWSWATCH_KIBANA_PASSWORD": "x"}
    commands: list = []
    setup_stack.setup_kibana(env, lambda argv: commands.append(argv) or 0, lambda: True)
    assert commands == [["newswatch", "kibana", "import", "--file", "/opt/newswatch/kibana/saved_objects.ndjson"]]
    commands.clear()
    setup_stack.setup_kibana({**env, "NEWSWATCH_INDEX_PREFIX": "nw"}, lambda argv: commands.append(argv) or 0,
                             lambda: True)
    assert commands == [["newswatch", "kibana", "import"]]  # generated for the prefix
    # the image's editable install puts the repository at /opt/newswatch (Dockerfile WORKDIR)
    assert ("WORKDIR", "/opt/newswatch") in _dockerfile_instructions()
    assert (ROOT / "kibana" / "saved_objects.ndjson").is_file()


def test_setup_uses_cli_commands_that_exist():
    from pipeline.cli import build_parser

    parser = build_parser()
    for argv in (["index", "setup"], ["kibana", "import", "--file", "x.ndjson"]):
        args = parser.parse_args(argv)
        assert callable(args.handler), argv


def test_every_packaged_directory_is_copied_before_the_project_install():
    includes = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    steps = _dockerfile_instructions()
    install_at = next(i for i, (word, rest) in enumerate(steps) if word == "RUN" and "-e ." in rest)
    copied = {rest.split()[-2].rstrip("/") for word, rest in steps[:install_at] if word == "COPY"}
    for pattern in includes["include"]:
        package = pattern.rstrip("*")
        assert (ROOT / package).is_dir(), package
        assert package in copied, f"Dockerfile installs the project before copying {package}/"


def test_the_stacks_providers_come_from_the_lock_not_from_the_image():
    # FAB (auth manager), Celery, Postgres and Redis are locked with everything else, so the image's own
    # copies are replaced by versions resolved together with the rest of the lock
    locked = check_lock.read_lock(LOCK)
    missing = [name for name in check_lock.RUNTIME_ROOTS if check_lock.normalize(name) not in locked]
    assert not missing, f"requirements.lock lacks {missing}: add them to pyproject.toml and re-lock"


# ---------------------------------------------------------------- deploy/es-certs.sh

FAKE_CERTUTIL = '''#!/usr/bin/env python3
"""Stands in for elasticsearch-certutil: logs its arguments and writes the zip layout it would."""
import pathlib, sys, zipfile
args = sys.argv[1:]
home = pathlib.Path(__file__).resolve().parent.parent
with open(home / "certutil.log", "a") as log:
    log.write(" ".join(args) + "\\n")
out = home / args[args.index("-out") + 1]
with zipfile.ZipFile(out, "w") as z:
    if args[0] == "ca":
        z.writestr("ca/ca.crt", "CA CERT")
        z.writestr("ca/ca.key", "CA KEY")
    else:
        instances = (home / args[args.index("--in") + 1]).read_text()
        z.writestr("elasticsearch/elasticsearch.crt", instances)
        z.writestr("elasticsearch/elasticsearch.key", "NODE KEY")
'''


def test_es_certs_script_creates_once_and_publishes_only_the_ca(tmp_path):
    import os
    import stat
    import subprocess

    home = tmp_path / "es"
    (home / "bin").mkdir(parents=True)
    (home / "config" / "certs").mkdir(parents=True)
    certutil = home / "bin" / "elasticsearch-certutil"
    certutil.write_text(FAKE_CERTUTIL)
    certutil.chmod(0o755)
    env = {**os.environ, "ES_HOME": str(home), "ES_CERT_EXTRA_DNS": "news.example.org, es.internal"}
    for _ in range(2):
        done = subprocess.run(["bash", str(ROOT / "deploy" / "es-certs.sh")], env=env, capture_output=True,
                              text=True, timeout=60)
        assert done.returncode == 0, done.stderr
    calls = (home / "certutil.log").read_text().splitlines()
    assert [c.split()[0] for c in calls] == ["ca", "cert"], "the second run must reuse the certificates"
    certs = home / "config" / "certs"
    node_cert = (certs / "elasticsearch" / "elasticsearch.crt").read_text()
    for name in ("- elasticsearch", "- localhost", "- news.example.org", "- es.internal", "- 127.0.0.1"):
        assert name in node_cert
    assert stat.S_IMODE((certs / "ca" / "ca.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((certs / "elasticsearch" / "elasticsearch.key").stat().st_mode) == 0o640
    public = home / "config" / "ca-public"
    assert sorted(p.name for p in public.iterdir()) == ["ca.crt"]
    assert (public / "ca.crt").read_text() == "CA CERT"
    assert stat.S_IMODE((public / "ca.crt").stat().st_mode) == 0o644
    assert not list(certs.glob("*.zip"))
