"""pipeline.stack without starting anything: its folder and ports, the dev node's cluster options, the
CLI's answers when there is no stack."""

from __future__ import annotations

import json
import os
import socket

import pytest

from pipeline import devnode
from pipeline.cli import main
from pipeline.stack import environment, layout


def test_ports_are_distinct_free_and_below_the_ephemeral_range():
    ports = layout.free_ports(20)
    assert len(set(ports)) == 20
    assert all(20000 <= p < layout._ephemeral_start() for p in ports)
    for port in ports[:3]:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", port))


def test_a_new_stack_has_every_port_and_secret_and_keeps_them(tmp_path):
    config = layout.create(tmp_path, es_node_count=3, worker_count=2, worker_concurrency=4, es_heap="512m",
                           dotenv={"NEWSWATCH_INGEST_CHUNK_SIZE": "50"}, extra_env={})
    assert {"postgres", "redis", "api", "es3-transport", "worker2-logs"} <= set(config.ports)
    assert len(set(config.ports.values())) == len(config.ports)
    assert set(layout.SECRET_NAMES) | {"AIRFLOW_FERNET_KEY"} == set(config.secrets) and all(config.secrets.values())
    config.save()
    assert oct(os.stat(tmp_path / layout.STATE_FILE).st_mode & 0o777) == "0o600"  # it holds passwords
    assert layout.load(tmp_path) == config
    assert layout.load(tmp_path / "elsewhere") is None
    assert environment.airflow_environment(config, "worker1", environ={})["NEWSWATCH_INGEST_CHUNK_SIZE"] == "50"


def test_each_service_runs_in_a_folder_of_its_own(tmp_path):
    config = layout.create(tmp_path, es_node_count=3, worker_count=2, worker_concurrency=0, es_heap="512m",
                           dotenv={}, extra_env={})
    config.pg_dir = "/var/tmp/pg"
    dirs = config.service_dirs()
    assert len(set(dirs.values())) == len(dirs)
    assert dirs["es2"] == tmp_path.resolve() / "es" / "es2" and dirs["postgres"] == config.service_dir("initdb")
    assert dirs["worker1"] == tmp_path.resolve() / "run" / "worker1"


def test_cluster_options_become_launcher_arguments():
    first = devnode.ClusterOptions("c", "es1", 9301, ("127.0.0.1:9301", "127.0.0.1:9302"), ("es1", "es2"))
    assert first.arguments() == ["--cluster-name", "c", "--node-name", "es1", "--transport-port", "9301",
                                 "--seed-hosts", "127.0.0.1:9301,127.0.0.1:9302",
                                 "--initial-master-nodes", "es1,es2"]
    later = devnode.ClusterOptions("c", "es1", 9301, ("127.0.0.1:9302",))
    assert "--initial-master-nodes" not in later.arguments()


def test_inherited_environment_drops_what_would_point_airflow_elsewhere():
    env = environment.inherited({"PATH": "/usr/bin", "HOME": "/root", "AIRFLOW_HOME": "/tmp/sqlite-home",
                                 "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "sqlite://", "NEWSWATCH_ES_URL": "http://x",
                                 "_NEWSWATCH_STACK": "other:worker1", "AIRFLOW_CONN_X": "{}"})
    assert set(env) == {"PATH", "HOME"}
    assert env["PATH"].endswith("/usr/bin") and env["PATH"] != "/usr/bin"  # the venv's bin first


def test_cli_without_a_stack(tmp_path, capsys):
    assert main(["stack", "status", "--dir", str(tmp_path)]) == 1
    assert f"no stack in {tmp_path}" in capsys.readouterr().err
    assert main(["stack", "down", "--dir", str(tmp_path)]) == 0
    assert f"no stack in {tmp_path}" in capsys.readouterr().out
    assert not (tmp_path / layout.STATE_FILE).exists()


def test_cli_refuses_an_env_without_a_value(tmp_path, capsys):
    assert main(["stack", "up", "--dir", str(tmp_path / "s"), "--env", "NOEQUALS"]) == 2
    assert "--env wants KEY=VALUE" in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


def test_state_file_is_plain_json(tmp_path):
    config = layout.create(tmp_path, es_node_count=1, worker_count=1, worker_concurrency=0, es_heap="256m",
                           dotenv={}, extra_env={"A": "b"})
    config.save()
    data = json.loads((tmp_path / layout.STATE_FILE).read_text())
    assert data["extra_env"] == {"A": "b"} and data["es_node_count"] == 1


def test_help_says_what_the_stack_is(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["stack", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "docker-compose.yml" in out and "newswatch stack up" in out
