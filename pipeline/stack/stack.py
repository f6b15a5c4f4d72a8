"""The local distributed stack: PostgreSQL, Redis, a three-node Elasticsearch cluster, and Airflow's
API server, scheduler, dag-processor, triggerer and Celery workers, on 127.0.0.1 without Docker.

    stack = Stack.open(root)           # a new stack in `root`, or the one already there
    stack.up()                         # starts what is not running; returns once everything answers
    stack.status()                     # one ServiceState per service
    stack.kill("worker1"); stack.start("worker1"); stack.restart("redis")   # for fault tests
    stack.down()                       # stops everything it started; nothing is left behind

Services start in dependency order (as compose's `depends_on` orders them) and each is waited for
with a readiness check like the compose healthcheck. `owner_pid`: a process whose end takes the stack
down too (a test session, even a killed one), through a small watchdog process.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from pipeline import devnode
from pipeline.stack import broker, environment, layout, postgres, processes
from pipeline.stack.api import AirflowApi
from pipeline.stack.errors import StackError
from pipeline.stack.layout import StackConfig

log = logging.getLogger(__name__)

AIRFLOW_SERVICES = ("api-server", "scheduler", "dag-processor", "triggerer")
STOP_SIGNALS = {"postgres": signal.SIGINT}  # PostgreSQL's fast shutdown; everything else: SIGTERM
JOB_TYPES = {"dag-processor": "DagProcessorJob", "triggerer": "TriggererJob"}


@dataclass(frozen=True)
class ServiceState:
    service: str
    pid: int | None
    running: bool
    ready: bool
    detail: str = ""

    def describe(self) -> str:
        state = "ready" if self.ready else "running, not ready" if self.running else "stopped"
        return f"{self.service:<14} {state:<19} {f'pid {self.pid}' if self.running else '':<10} {self.detail}"


class Stack:
    def __init__(self, config: StackConfig, *, owner_pid: int | None = None, remove_with_owner: bool = False) -> None:
        self.config = config
        self.owner_pid = owner_pid
        self.remove_with_owner = remove_with_owner
        self._started: dict[str, float] = {}

    # --- opening ----------------------------------------------------------------------------------

    @classmethod
    def open(cls, root: str | Path, *, es_nodes: int = 3, workers: int = 2, worker_concurrency: int = 0,
             es_heap: str = "512m", dotenv: Mapping[str, str] | None = None,
             extra_env: Mapping[str, str] | None = None, owner_pid: int | None = None,
             remove_with_owner: bool = False) -> Stack:
        """The stack recorded in `root`, or a new one (free ports, fresh secrets). The sizes, `.env`
        values and extra variables apply to a new stack; an existing one keeps its own. `owner_pid`:
        the stack goes down when that process ends (and its folders go too, with `remove_with_owner`)."""
        folder = Path(root).expanduser().resolve()
        config = layout.load(folder)
        if config is None:
            folder.mkdir(parents=True, exist_ok=True)
            config = layout.create(folder, es_node_count=es_nodes, worker_count=workers,
                                   worker_concurrency=worker_concurrency, es_heap=es_heap,
                                   dotenv=dict(dotenv or {}), extra_env=dict(extra_env or {}))
            config.pg_dir = str(postgres.folder_for(folder, config.stack_id))
            config.save()
        return cls(config, owner_pid=owner_pid, remove_with_owner=remove_with_owner)

    @property
    def services(self) -> list[str]:
        return ["postgres", "redis", *self.config.es_nodes, *AIRFLOW_SERVICES, *self.config.workers]

    def api(self) -> AirflowApi:
        return AirflowApi(self.config.api_url, *self.config.admin)

    def environment(self, service: str) -> dict[str, str]:
        return environment.airflow_environment(self.config, service)

    # --- the whole stack --------------------------------------------------------------------------

    def up(self, timeout: float = 300.0) -> None:
        """Start every service that is not running, in order, and wait until each answers."""
        deadline = time.monotonic() + timeout
        cfg = self.config
        for sub in ("logs", "airflow", "data", "redis", "es"):
            (cfg.path / sub).mkdir(parents=True, exist_ok=True)
        if self.owner_pid:
            self._start_reaper()
        try:
            for service in ["postgres", "redis", *cfg.es_nodes]:
                self._ensure_started(service)
            self._wait("postgres", deadline)
            postgres.ensure_database(cfg.secrets["POSTGRES_PASSWORD"], cfg.ports["postgres"])
            self._init_airflow(deadline)
            for service in [*AIRFLOW_SERVICES, *cfg.workers]:
                self._ensure_started(service)
            self._wait("redis", deadline)
            self.wait_for_cluster(len(cfg.es_nodes), deadline - time.monotonic())
            self._setup_indices()
            for service in [*AIRFLOW_SERVICES, *cfg.workers]:
                self._wait(service, deadline)
            self._wait_for_dags(("news_ingest", "news_reprocess", "feeds_sync", "news_alerts"), deadline)
        except BaseException:
            log.error("the stack did not come up; logs: %s", cfg.path / "logs")
            raise

    def down(self, timeout: float = 60.0) -> list[str]:
        """Stop every service, in the reverse order of starting (Airflow, then Elasticsearch, then the
        broker and the database; each group at once); returns the services that had to be killed."""
        cfg = self.config
        killed: list[str] = []
        for group in ([*cfg.workers, *reversed(AIRFLOW_SERVICES)], cfg.es_nodes, ["redis", "postgres"]):
            with ThreadPoolExecutor(len(group)) as pool:
                clean = list(pool.map(lambda service: self._stop(service, timeout), group))
            killed += [service for service, ok in zip(group, clean, strict=True) if not ok]
        cfg.pids = {k: v for k, v in cfg.pids.items() if k == "reaper"}
        # anything still carrying the stack's mark (nothing, when every service stopped cleanly)
        processes.kill_marked(self.config.stack_id, self.config.service_dirs())
        reaper = self.config.pids.pop("reaper", None)
        if reaper and processes.alive(reaper):
            processes.stop(reaper, self.config.stack_id, {}, "reaper", timeout=5)
        self.config.save()
        return killed

    def remove(self) -> None:
        """Delete the stack's folders (after `down`)."""
        shutil.rmtree(self.config.pg_dir, ignore_errors=True)
        shutil.rmtree(self.config.path, ignore_errors=True)

    def status(self) -> list[ServiceState]:
        return [self._state(service) for service in self.services]

    # --- one service ------------------------------------------------------------------------------

    def start(self, service: str, timeout: float = 180.0, env: Mapping[str, str] | None = None) -> None:
        """Start one service (if it is not running) and wait until it answers. `env`: extra variables
        for this start of an Airflow service only (say, another executor for a comparison)."""
        self._ensure_started(service, env)
        self._wait(service, time.monotonic() + timeout)

    def stop(self, service: str, timeout: float = 60.0) -> bool:
        """Stop one service cleanly; True if it stopped by itself (False: it had to be killed)."""
        clean = self._stop(service, timeout)
        self.config.pids.pop(service, None)
        self.config.save()
        return clean

    def _stop(self, service: str, timeout: float) -> bool:
        if service in self.config.es_nodes:
            return self._stop_es_node(service, timeout)
        return processes.stop(self.config.pids.get(service), self.config.stack_id, self.config.service_dirs(),
                              service, sig=STOP_SIGNALS.get(service, signal.SIGTERM), timeout=timeout)

    def kill(self, service: str) -> int:
        """SIGKILL every process of one service at once (a crash, or a machine gone); returns how many."""
        count = processes.kill_marked(self.config.stack_id, self.config.service_dirs(), service)
        if service in self.config.es_nodes:
            devnode.status(self._es_folder(service))  # reaps it
        self.config.pids.pop(service, None)
        self.config.save()
        return count

    def restart(self, service: str, timeout: float = 180.0, env: Mapping[str, str] | None = None) -> None:
        self.stop(service)
        self.start(service, timeout=timeout, env=env)

    def pid(self, service: str) -> int | None:
        pid = self.config.pids.get(service)
        return pid if processes.alive(pid) else None

    def process_tree(self, service: str) -> list[int]:
        """Every live process of the service: its main process and all it started."""
        return sorted(p.pid for p in processes.marked(self.config.stack_id, self.config.service_dirs(), service))

    # --- Elasticsearch ----------------------------------------------------------------------------

    def es_client(self) -> object:
        from pipeline.config import load_settings
        from pipeline.es import client_from_settings

        return client_from_settings(load_settings(env={}, es_url=",".join(self.config.es_urls())))

    def wait_for_cluster(self, nodes: int, timeout: float = 120.0, status: str = "yellow") -> dict:
        """Cluster health once `nodes` nodes have joined and it is at least `status`."""
        deadline = time.monotonic() + timeout
        last: object = None
        es = self.es_client()
        try:
            while time.monotonic() < deadline:
                try:
                    health = es.cluster.health(wait_for_nodes=str(nodes), wait_for_status=status,  # type: ignore[attr-defined]
                                               timeout="2s").body
                    if not health["timed_out"]:
                        if not self.config.bootstrapped:
                            self.config.bootstrapped = True
                            self.config.save()
                        return dict(health)
                    last = health
                except Exception as exc:  # noqa: BLE001 - not up yet; the message says what it was
                    last = exc
                self._check_alive(self.config.es_nodes)
                time.sleep(0.5)
        finally:
            es.close()  # type: ignore[attr-defined]
        raise StackError(f"the Elasticsearch cluster did not reach {nodes} nodes and {status} within "
                         f"{timeout:.0f}s (last: {last}); logs: {self._es_folder('es1').parent}/*/node.log")

    def _es_folder(self, node: str) -> Path:
        return self.config.path / "es" / node

    def _start_es_node(self, node: str) -> int:
        cfg = self.config
        seeds = tuple(f"127.0.0.1:{cfg.ports[f'{n}-transport']}" for n in cfg.es_nodes)
        options = devnode.ClusterOptions(
            cluster_name=layout.CLUSTER_NAME, node_name=node, transport_port=cfg.ports[f"{node}-transport"],
            seed_hosts=seeds, initial_master_nodes=() if cfg.bootstrapped else tuple(cfg.es_nodes))
        try:
            devnode.start(self._es_folder(node), port=cfg.ports[f"{node}-http"], wait=False, heap=cfg.es_heap,
                          stop_with_caller=self.owner_pid is not None, cluster=options,
                          env=processes.mark(cfg.stack_id, node))
        except devnode.DevNodeError as exc:
            raise StackError(f"{node}: {exc}") from exc
        # the pid the launcher wrote (if the JVM has already exited, waiting for it says why)
        return int((self._es_folder(node) / "node.pid").read_text())

    def _stop_es_node(self, node: str, timeout: float) -> bool:
        try:
            devnode.stop(self._es_folder(node), timeout=timeout)
            return processes.stop(None, self.config.stack_id, self.config.service_dirs(), node, timeout=5)
        except devnode.DevNodeError:
            processes.kill_marked(self.config.stack_id, self.config.service_dirs(), node)
            return False

    def _setup_indices(self) -> None:
        """What compose's es-setup job does for the pipeline: templates, ILM where the cluster has it,
        indices and aliases, with the same settings the workers get."""
        from pipeline.config import load_settings
        from pipeline.es import client_from_settings
        from pipeline.index.setup import setup_indices

        settings = load_settings(env=self.environment("scheduler"))
        es = client_from_settings(settings)
        try:
            setup_indices(es, settings)
        finally:
            es.close()

    # --- starting and waiting ---------------------------------------------------------------------

    def _ensure_started(self, service: str, extra: Mapping[str, str] | None = None) -> None:
        if self._running(service):
            return
        cfg = self.config
        if service in cfg.es_nodes:
            pid = self._start_es_node(service)
        else:
            argv, env, user = self._command(service)
            env.update(extra or {})
            pid = processes.spawn(argv, env=env, log_file=cfg.log_file(service), cwd=cfg.service_dir(service),
                                  user=user).pid
        cfg.pids[service] = pid
        self._started[service] = time.time()
        cfg.save()

    def _command(self, service: str) -> tuple[list[str], dict[str, str], str | None]:
        cfg = self.config
        if service == "postgres":
            folder = Path(cfg.pg_dir)
            password_file = postgres.prepare_folder(folder, cfg.secrets["POSTGRES_PASSWORD"])
            if password_file is not None:
                self._run_once("initdb", postgres.initdb_command(folder, password_file),
                               {**environment.inherited(), **processes.mark(cfg.stack_id, "initdb")},
                               user=postgres.run_as(), cwd=folder)
                password_file.unlink()
            env = {**environment.inherited(), **processes.mark(cfg.stack_id, service)}
            return postgres.server_command(folder, cfg.ports["postgres"]), env, postgres.run_as()
        if service == "redis":
            return broker.server_command(cfg), {**environment.inherited(), **processes.mark(cfg.stack_id, service)}, None
        return environment.airflow_command(cfg, service), self.environment(service), None

    def _run_once(self, name: str, argv: list[str], env: Mapping[str, str], *, user: str | None = None,
                  cwd: Path | None = None, timeout: float = 300.0) -> None:
        log_file = self.config.log_file(name)
        process = processes.spawn(argv, env=env, log_file=log_file, cwd=cwd or self.config.service_dir(name), user=user)
        try:
            code = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            processes.kill_marked(self.config.stack_id, self.config.service_dirs(), name)
            raise StackError(f"{name} did not finish within {timeout:.0f}s; {log_file} ends:\n"
                             f"{processes.tail(log_file)}") from None
        if code != 0:
            raise StackError(f"{name} failed (exit code {code}); {log_file} ends:\n{processes.tail(log_file)}")

    def _init_airflow(self, deadline: float) -> None:
        """What compose's airflow-init does: migrate the metadata database, then the admin user and
        the newswatch_fetch pool, then the Viewer's plugin menu permission (after the user: both
        commands set up FAB's roles)."""
        env = self.environment("init")
        migrate, users, pools, viewers = environment.init_commands(self.config, env)
        self._run_once("airflow-db-migrate", migrate, env, timeout=max(deadline - time.monotonic(), 1))
        with ThreadPoolExecutor(2) as pool:
            for future in [pool.submit(self._run_once, n, argv, env, timeout=max(deadline - time.monotonic(), 1))
                           for n, argv in (("airflow-users-create", users), ("airflow-pools-set", pools))]:
                future.result()
        self._run_once("airflow-roles-viewer-plugins", viewers, env, timeout=max(deadline - time.monotonic(), 1))

    def _running(self, service: str) -> bool:
        if service in self.config.es_nodes:
            return devnode.status(self._es_folder(service)).running
        return processes.alive(self.config.pids.get(service))

    def _check_alive(self, services: list[str]) -> None:
        for service in services:
            if service in self.config.pids and not self._running(service):
                log_file = (self._es_folder(service) / "node.log" if service in self.config.es_nodes
                            else self.config.log_file(service))
                raise StackError(f"{service} exited while starting; {log_file} ends:\n{processes.tail(log_file)}")

    def _wait(self, service: str, deadline: float) -> None:
        check = self._readiness(service)
        last = ""
        while time.monotonic() < deadline:
            try:
                ok, last = check()
                if ok:
                    return
            except Exception as exc:  # noqa: BLE001 - not ready yet; kept for the message
                last = f"{type(exc).__name__}: {exc}"
            self._check_alive([service])
            time.sleep(0.5)
        raise StackError(f"{service} did not become ready in time ({last}); see {self.config.log_file(service)}")

    def _wait_for_dags(self, dag_ids: tuple[str, ...], deadline: float) -> None:
        api = self.api()
        missing: list[str] = list(dag_ids)
        while time.monotonic() < deadline:
            missing = [d for d in missing if not api.has_dag(d)]
            if not missing:
                return
            self._check_alive(["dag-processor"])
            time.sleep(1.0)
        raise StackError(f"the dag-processor did not parse {missing} in time; see "
                         f"{self.config.log_file('dag-processor')}")

    # --- readiness, like compose's healthchecks -----------------------------------------------------

    def _readiness(self, service: str) -> Callable[[], tuple[bool, str]]:
        cfg = self.config
        if service == "postgres":
            return lambda: (postgres.accepts(cfg.secrets["POSTGRES_PASSWORD"], cfg.ports["postgres"]), "")
        if service == "redis":
            return lambda: (broker.ping(cfg), "")
        if service in cfg.es_nodes:
            return lambda: (devnode.status(self._es_folder(service)).responding, "GET / does not answer")
        if service == "api-server":
            return lambda: (bool(self.api().version()), "")
        if service == "scheduler":
            return lambda: (_http_ok(f"http://127.0.0.1:{cfg.ports['scheduler-health']}/health"), "/health")
        if service in JOB_TYPES:
            return lambda: self._job_alive(JOB_TYPES[service], self._started.get(service))
        if service in cfg.workers:
            return lambda: self._celery_ping(service)
        raise StackError(f"no service {service!r} (services: {', '.join(self.services)})")

    def _job_alive(self, job_type: str, since: float | None) -> tuple[bool, str]:
        """`airflow jobs check --job-type ...`, as compose's healthcheck, read from the database."""
        conn = postgres.connect(self.config.secrets["POSTGRES_PASSWORD"], self.config.ports["postgres"])
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT extract(epoch FROM max(latest_heartbeat)) FROM job "
                            "WHERE job_type = %s AND state = 'running'", (job_type,))
                (beat,) = cur.fetchone()
        finally:
            conn.close()
        if beat is None:
            return False, f"no running {job_type}"
        fresh = float(beat) > max(since or 0.0, time.time() - 60)
        return fresh, f"{job_type} last heartbeat at {float(beat):.0f}"

    def _celery_ping(self, service: str) -> tuple[bool, str]:
        """`celery inspect ping -d <worker>`, compose's worker healthcheck."""
        from celery import Celery

        app = Celery(broker=self.config.broker_url)
        try:  # a connection of its own: a pooled one may predate a restart of the broker
            with app.connection() as connection:
                answer = app.control.ping(destination=[environment.worker_name(service)], timeout=2.0,
                                          connection=connection)
        finally:
            app.close()
        return bool(answer), "no answer to a Celery ping"

    def _state(self, service: str) -> ServiceState:
        running = self._running(service)
        pid = (devnode.status(self._es_folder(service)).pid if service in self.config.es_nodes
               else self.config.pids.get(service)) if running else None
        if not running:
            return ServiceState(service, None, False, False)
        try:
            ready, detail = self._readiness(service)()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            ready, detail = False, f"{type(exc).__name__}: {exc}"
        return ServiceState(service, pid, True, ready, "" if ready else detail)

    def _start_reaper(self) -> None:
        current = self.config.pids.get("reaper")
        if processes.alive(current):
            return
        argv = [sys.executable, "-m", "pipeline.stack.reaper", "--root", self.config.root,
                "--owner", str(self.owner_pid), *(["--remove"] if self.remove_with_owner else [])]
        env = environment.inherited()
        env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
        # in the stack's own folder: not run/, where a renamed process would count as the stack's
        self.config.pids["reaper"] = processes.spawn(argv, env=env, log_file=self.config.log_file("reaper"),
                                                     cwd=self.config.path).pid
        self.config.save()


def _http_ok(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 (loopback)
            return resp.status == 200
    except OSError:
        return False
