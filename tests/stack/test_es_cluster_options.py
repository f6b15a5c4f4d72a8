"""The dev node's cluster options, as the launcher itself checks them (no cluster is started)."""

from __future__ import annotations

import socket
import subprocess

import pytest

from pipeline import devnode

pytestmark = pytest.mark.integration


def _launch(tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    java, classpath = devnode._launcher()
    return subprocess.run([java, "-cp", classpath, devnode.MAIN_CLASS, "--data-dir", str(tmp_path), *args],
                          capture_output=True, text=True, timeout=120)


def test_initial_master_nodes_need_seed_hosts(tmp_path):
    result = _launch(tmp_path, "--port", str(devnode.free_port()), "--initial-master-nodes", "es1")
    assert result.returncode == 2
    assert "--initial-master-nodes needs --seed-hosts" in result.stderr


def test_transport_port_is_checked_like_the_http_port(tmp_path):
    assert _launch(tmp_path, "--transport-port", "0").returncode == 2
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        taken = listener.getsockname()[1]
        result = _launch(tmp_path, "--port", str(devnode.free_port()), "--transport-port", str(taken),
                         "--seed-hosts", f"127.0.0.1:{taken}")
    assert result.returncode == devnode.EXIT_PORT_TAKEN
    assert f"port {taken} on 127.0.0.1 is already in use" in result.stderr
    assert not (tmp_path / "data").exists()  # refused before touching the folder
