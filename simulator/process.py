"""The simulator in its own process (no GIL shared with the code under test), driven through a pipe.

    with SimulatorProcess() as sim:          # same constructor arguments as Simulator
        base = sim.base_url
        urls = sim.add_synthetic_feeds(1000)  # any Simulator method, called in the child
        sim.add_article("syn-0001", "New item")
"""

from __future__ import annotations

import multiprocessing as mp
import os
from multiprocessing.connection import Connection
from typing import Any


def _serve(conn: Connection, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    import sys

    from simulator.server import Simulator

    # many handler threads, each mostly waiting: hand the GIL over sooner than the 5 ms default,
    # or a thread back from I/O queues behind busy ones (the convoy effect) and latency balloons
    sys.setswitchinterval(0.0005)

    sim = Simulator(*args, **kwargs)
    sim.record_requests = False
    conn.send(sim.start())
    try:
        while True:
            message = conn.recv()
            if message is None:
                break
            method, a, kw = message
            try:
                conn.send(("ok", getattr(sim, method)(*a, **kw)))
            except Exception as exc:  # reported to the caller, the server keeps running
                conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        sim.stop()


class SimulatorProcess:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        ctx = mp.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, args, kwargs), daemon=True, name="simulator")
        self._proc.start()
        if not self._conn.poll(60):
            self._proc.kill()
            raise RuntimeError("simulator process did not start")
        self.base_url: str = self._conn.recv()

    def call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self._conn.send((method, args, kwargs))
        status, value = self._conn.recv()
        if status == "error":
            raise RuntimeError(f"simulator.{method}: {value}")
        return value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *a, **kw: self.call(name, *a, **kw)

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    @property
    def pid(self) -> int | None:
        return self._proc.pid

    def cpu_seconds(self) -> float | None:
        """User + system CPU time the simulator process has used so far (Linux; None elsewhere)."""
        try:
            with open(f"/proc/{self._proc.pid}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self._proc.is_alive():
            self._conn.send(None)
            self._proc.join(timeout=10)
            if self._proc.is_alive():
                self._proc.kill()

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
