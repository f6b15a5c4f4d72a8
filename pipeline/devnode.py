"""Start, inspect and stop the embedded Elasticsearch dev node (`es-dev-node/`), a real single-node cluster.

The node runs in the background, one per data folder. With `ClusterOptions` it is one node of a
cluster instead (its transport port, the other nodes' transport addresses to discover, and the
initial master nodes on the first start): `pipeline.stack` runs three that way. The folder holds
everything it owns:

    <data_dir>/node.pid    the JVM's process id (`ps -o rss= -p $(cat node.pid)`)
    <data_dir>/node.url    the URL it answers on
    <data_dir>/node.log    launcher and Elasticsearch log
    <data_dir>/data/       indices; kept across restarts

Errors, as a tree:

    DevNodeError            the node could not be built, started or stopped
     +-- PortTaken          the port already has a listener that is not our node in this folder
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pipeline.config import REPO_ROOT, Settings

__all__ = [
    "ClusterOptions",
    "DevNodeError",
    "NodeStatus",
    "PortTaken",
    "default_data_dir",
    "free_port",
    "start",
    "status",
    "stop",
]

log = logging.getLogger(__name__)

NODE_PROJECT = (REPO_ROOT / "es-dev-node").resolve()  # absolute: the class-sharing archive records the classpath
MAIN_CLASS = "newswatch.esnode.DevNode"
HOST = "127.0.0.1"
EXIT_PORT_TAKEN = 3  # the launcher's exit code when it finds the port in use
JVM_OPTIONS = (
    "-XX:+UseSerialGC",  # fewest threads and least native memory; the node is small
    "--enable-native-access=ALL-UNNAMED",
    "--add-modules=jdk.incubator.vector",
    # the JDK's base archive predates the two flags above; its "[error][cds] ... optimized module handling" lines are
    # benign. Warnings about our own archive ([cds,dynamic]) still show.
    "-Xlog:cds=off,aot=off",
    "-Dlog4j2.disable.jmx=true",
    "-Dlog4j.shutdownHookEnabled=false",  # keep logging through the node's own shutdown
    "-Dio.netty.noUnsafe=true",
    "-Dio.netty.recycler.maxCapacityPerThread=0",
    "-Djava.locale.providers=CLDR",
    "-Dfile.encoding=UTF-8",
)


class DevNodeError(RuntimeError):
    """The dev node could not be built, started or stopped; the message says why and where the log is."""


class PortTaken(DevNodeError):
    """The port is in use by something other than our node for this data folder."""


@dataclass(frozen=True)
class ClusterOptions:
    """One node of a multi-node cluster: its names, its transport port, the transport addresses of
    the nodes to discover (`host:port`), and the master-eligible node names that bootstrap a new
    cluster (give them on the first start only; a formed cluster remembers its masters)."""

    cluster_name: str
    node_name: str
    transport_port: int
    seed_hosts: tuple[str, ...]
    initial_master_nodes: tuple[str, ...] = ()

    def arguments(self) -> list[str]:
        args = ["--cluster-name", self.cluster_name, "--node-name", self.node_name,
                "--transport-port", str(self.transport_port), "--seed-hosts", ",".join(self.seed_hosts)]
        if self.initial_master_nodes:
            args += ["--initial-master-nodes", ",".join(self.initial_master_nodes)]
        return args


@dataclass(frozen=True)
class NodeStatus:
    data_dir: Path
    running: bool
    pid: int | None = None
    url: str | None = None
    responding: bool = False
    version: str | None = None

    def describe(self) -> str:
        if not self.running:
            return f"not running (data: {self.data_dir})"
        state = f"Elasticsearch {self.version}" if self.responding else "starting or not answering"
        return f"running at {self.url}, pid {self.pid}, {state} (data: {self.data_dir})"


def default_data_dir(settings: Settings) -> Path:
    return Path(settings.es_node_dir or Path(settings.data_dir) / "es-node").expanduser().resolve()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for tests and throwaway nodes)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _paths(data_dir: Path) -> tuple[Path, Path, Path]:
    return data_dir / "node.pid", data_dir / "node.url", data_dir / "node.log"


def start(
    data_dir: str | Path,
    port: int = 9200,
    wait: bool = True,
    timeout: float = 60.0,
    heap: str = "512m",
    stop_with_caller: bool = False,
    cluster: ClusterOptions | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Start the node in the background and return its URL, once `GET /` answers (when `wait`).

    If our node already runs for this folder it is reused, not started twice. Raises PortTaken when
    something else listens on the port, DevNodeError when the node fails to come up within `timeout`.
    `stop_with_caller`: the node stops itself when this process exits (test sessions, even killed ones).
    `cluster`: join or form a cluster with other nodes instead of being a cluster of one.
    `env`: extra environment variables for the JVM.
    """
    folder = Path(data_dir).expanduser().resolve()
    pid_file, url_file, log_file = _paths(folder)

    current = status(folder)
    if current.running:
        log.info("dev node already running for %s (pid %s) at %s; not starting another", folder, current.pid, current.url)
        assert current.url is not None
        if wait and not current.responding:
            _wait_until_up(current.url, current.pid, log_file, timeout, None)
        return current.url

    _check_port_free(port)
    if cluster is not None:
        _check_port_free(cluster.transport_port)
    java, classpath = _launcher()
    cds = NODE_PROJECT / "target" / "es-dev-node.jsa"  # written by build.sh; halves the CPU a start needs
    folder.mkdir(parents=True, exist_ok=True)
    url = f"http://{HOST}:{port}"
    command = [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        *JVM_OPTIONS,
        *([f"-XX:SharedArchiveFile={cds}"] if cds.exists() else []),
        "-cp",
        classpath,
        MAIN_CLASS,
        "--data-dir",
        str(folder),
        "--host",
        HOST,
        "--port",
        str(port),
        *(["--parent-pid", str(os.getpid())] if stop_with_caller else []),
        *(cluster.arguments() if cluster is not None else []),
    ]
    with log_file.open("ab") as out:
        out.write(f"\n--- newswatch: starting dev node at {time.strftime('%Y-%m-%dT%H:%M:%S%z')}\n".encode())
        out.flush()
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=folder,
            env={**os.environ, **env} if env else None,
            start_new_session=True,  # Ctrl-C in the starting shell must not kill the node
        )
    _children[process.pid] = process
    pid_file.write_text(f"{process.pid}\n")
    url_file.write_text(url + "\n")
    log.info("started dev node pid %d for %s; log: %s", process.pid, folder, log_file)
    if wait:
        try:
            _wait_until_up(url, process.pid, log_file, timeout, process)
        except DevNodeError:
            _terminate(process.pid, 20.0)
            pid_file.unlink(missing_ok=True)
            url_file.unlink(missing_ok=True)
            raise
    return url


def status(data_dir: str | Path) -> NodeStatus:
    """Whether our node runs for this folder, and whether it answers."""
    folder = Path(data_dir).expanduser().resolve()
    pid_file, url_file, _ = _paths(folder)
    pid = _read_pid(pid_file)
    if pid is None or not _is_our_node(pid, folder):
        return NodeStatus(data_dir=folder, running=False)
    url = url_file.read_text().strip() if url_file.exists() else None
    info = _get_root(url) if url else None
    return NodeStatus(
        data_dir=folder,
        running=True,
        pid=pid,
        url=url,
        responding=info is not None,
        version=(info or {}).get("version", {}).get("number"),
    )


def stop(data_dir: str | Path, timeout: float = 60.0) -> bool:
    """Stop our node for this folder (SIGTERM, a clean shutdown) and wait for it. False if none was running."""
    folder = Path(data_dir).expanduser().resolve()
    pid_file, url_file, log_file = _paths(folder)
    current = status(folder)
    if not current.running:
        pid_file.unlink(missing_ok=True)
        url_file.unlink(missing_ok=True)
        return False
    assert current.pid is not None
    if not _terminate(current.pid, timeout):
        raise DevNodeError(f"dev node pid {current.pid} did not stop within {timeout:.0f}s; see {log_file}")
    pid_file.unlink(missing_ok=True)
    url_file.unlink(missing_ok=True)
    return True


# --- internals ---------------------------------------------------------------------------------

_children: dict[int, subprocess.Popen[bytes]] = {}


def _launcher() -> tuple[str, str]:
    """The java binary and classpath of the built node; builds it first when needed."""
    target = NODE_PROJECT / "target"
    jar, lib, java_home_file = target / "es-dev-node.jar", target / "lib", target / "java-home"
    if not (jar.exists() and lib.is_dir() and java_home_file.exists()):
        build = NODE_PROJECT / "build.sh"
        if not build.exists():
            raise DevNodeError(f"{NODE_PROJECT} is missing; cannot build the dev node")
        log.warning("dev node is not built yet; running %s (the first build downloads from Maven Central)", build)
        result = subprocess.run([str(build)], capture_output=True, text=True, timeout=1800)
        if result.returncode != 0 or not jar.exists():
            raise DevNodeError(f"building the dev node failed:\n{result.stdout}{result.stderr}")
    java = Path(java_home_file.read_text().strip()) / "bin" / "java"
    if not java.exists():
        raise DevNodeError(f"{java} (from {java_home_file}) is missing; re-run es-dev-node/build.sh")
    return str(java), f"{jar}{os.pathsep}{lib / '*'}"


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # as Elasticsearch binds: connections of a just-stopped node in TIME_WAIT must not count as "taken"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
            return
        except OSError as exc:
            reason = exc.strerror or str(exc)
    info = _get_root(f"http://{HOST}:{port}")
    who = "another process"
    if info:
        who = f"an Elasticsearch {info.get('version', {}).get('number', '?')} (cluster {info.get('cluster_name', '?')!r})"
        other = _dev_node_on_port(port)
        who += f": the dev node of {other[1]}, pid {other[0]}" if other else " that this data folder did not start"
    raise PortTaken(
        f"cannot start the dev node: port {port} on {HOST} is already in use by {who} ({reason}). "
        f"Stop it, or choose another port (--port, or NEWSWATCH_ES_NODE_PORT)."
    )


def _get_root(url: str, timeout: float = 2.0) -> dict | None:
    """`GET /` as JSON when an Elasticsearch answers there (product header checked, as the client does)."""
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/", timeout=timeout) as resp:  # noqa: S310 (loopback only)
            if resp.headers.get("X-Elastic-Product") != "Elasticsearch":
                return None
            return json.loads(resp.read())
    except (OSError, ValueError, urllib.error.URLError):
        return None


def _wait_until_up(
    url: str, pid: int | None, log_file: Path, timeout: float, process: subprocess.Popen[bytes] | None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _get_root(url, timeout=1.0) is not None:
            return
        if process is not None and process.poll() is not None:
            tail = _tail(log_file)
            if process.returncode == EXIT_PORT_TAKEN:
                raise PortTaken(tail.strip().splitlines()[-1] if tail.strip() else "port already in use")
            raise DevNodeError(f"dev node exited with code {process.returncode} while starting; {log_file} ends:\n{tail}")
        if process is None and pid is not None and not _alive(pid):
            raise DevNodeError(f"dev node pid {pid} exited; see {log_file}")
        time.sleep(0.25)
    raise DevNodeError(f"dev node did not answer at {url} within {timeout:.0f}s; {log_file} ends:\n{_tail(log_file)}")


def _terminate(pid: int, timeout: float) -> bool:
    """SIGTERM, wait up to `timeout`, then SIGKILL. True when it exited within the timeout."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    log.error("dev node pid %d ignored SIGTERM for %.0fs; killing it", pid, timeout)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    _alive(pid)
    return False


def _alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:  # our own child: reap it, or it lingers as a zombie that looks alive
        if child.poll() is None:
            return True
        _children.pop(pid, None)
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def _is_our_node(pid: int, folder: Path) -> bool:
    """The pid is alive and is the launcher for this folder (not a recycled pid)."""
    if not _alive(pid):
        return False
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return True  # no /proc: trust the pid file
    if MAIN_CLASS.encode() not in args:
        return False
    try:
        return Path(args[args.index(b"--data-dir") + 1].decode()).resolve() == folder
    except (ValueError, IndexError):
        return False


def _dev_node_on_port(port: int) -> tuple[int, str] | None:
    """(pid, data folder) of a dev node launched for this port, if /proc shows one."""
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            if MAIN_CLASS.encode() in args and args[args.index(b"--port") + 1] == str(port).encode():
                return int(proc.name), args[args.index(b"--data-dir") + 1].decode()
        except (OSError, ValueError, IndexError):
            continue
    return None


def _read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
