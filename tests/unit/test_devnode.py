"""pipeline.devnode without starting a JVM: folders, pid files, the CLI's answers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pipeline import devnode
from pipeline.cli import main
from pipeline.config import load_settings


def test_default_data_dir_follows_settings(monkeypatch, tmp_path):
    monkeypatch.delenv("NEWSWATCH_ES_NODE_DIR", raising=False)
    monkeypatch.setenv("NEWSWATCH_DATA_DIR", str(tmp_path / "nw"))
    assert devnode.default_data_dir(load_settings()) == (tmp_path / "nw" / "es-node").resolve()
    monkeypatch.setenv("NEWSWATCH_ES_NODE_DIR", str(tmp_path / "elsewhere"))
    assert devnode.default_data_dir(load_settings()) == (tmp_path / "elsewhere").resolve()


def test_status_without_pid_file_is_not_running(tmp_path):
    st = devnode.status(tmp_path)
    assert (st.running, st.pid, st.url) == (False, None, None)
    assert st.describe() == f"not running (data: {tmp_path.resolve()})"


def test_stale_pid_file_of_another_process_is_not_our_node(tmp_path):
    # this pytest process is alive, but it is not the launcher for this folder: a recycled pid
    (tmp_path / "node.pid").write_text(f"{os.getpid()}\n")
    (tmp_path / "node.url").write_text("http://127.0.0.1:9\n")
    assert devnode.status(tmp_path).running is False
    assert devnode.stop(tmp_path) is False
    assert not (tmp_path / "node.pid").exists() and not (tmp_path / "node.url").exists()


def test_garbage_pid_file_is_not_running(tmp_path):
    (tmp_path / "node.pid").write_text("not a pid")
    assert devnode.status(tmp_path).running is False


def test_missing_node_project_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(devnode, "NODE_PROJECT", tmp_path / "no-es-dev-node")
    with pytest.raises(devnode.DevNodeError, match="no-es-dev-node is missing"):
        devnode._launcher()


def test_cli_status_and_stop_when_nothing_runs(tmp_path, capsys):
    assert main(["es", "status", "--data-dir", str(tmp_path)]) == 1
    assert "not running" in capsys.readouterr().out
    assert main(["es", "stop", "--data-dir", str(tmp_path)]) == 0
    assert "not running" in capsys.readouterr().out


def test_describe_running_node():
    st = devnode.NodeStatus(Path("/d"), True, 42, "http://127.0.0.1:9200", True, "9.5.3")
    assert st.describe() == "running at http://127.0.0.1:9200, pid 42, Elasticsearch 9.5.3 (data: /d)"


def test_free_port_is_bindable():
    import socket

    port = devnode.free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
