"""A small client for Airflow's REST API (v2), as the stack's tests, benchmark and status use it.

It logs in through the auth manager's token endpoint (`POST /auth/token`, the FAB auth manager of the
compose stack) and retries once with a fresh token when one expires.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class ApiError(RuntimeError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username, self.password, self.timeout = username, password, timeout
        self._token: str | None = None

    def _send(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310 (loopback)
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, exc.read().decode(errors="replace")[:500]) from exc
        return json.loads(raw) if raw else None

    def token(self) -> str:
        if self._token is None:
            answer = self._send("POST", "/auth/token", {"username": self.username, "password": self.password})
            self._token = str(answer["access_token"])
        return self._token

    def request(self, method: str, path: str, body: Any = None) -> Any:
        try:
            return self._send(method, path, body, self.token())
        except ApiError as exc:
            if exc.status != 401:
                raise
            self._token = None
            return self._send(method, path, body, self.token())

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    # --- what the stack's users need ------------------------------------------------------------

    def version(self) -> str:
        return str(self._send("GET", "/api/v2/version")["version"])

    def has_dag(self, dag_id: str) -> bool:
        try:
            self.get(f"/api/v2/dags/{dag_id}")
            return True
        except ApiError as exc:
            if exc.status == 404:
                return False
            raise

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": paused})

    def set_variable(self, key: str, value: Any) -> None:
        body = {"key": key, "value": json.dumps(value) if not isinstance(value, str) else value}
        try:
            self.request("PATCH", f"/api/v2/variables/{urllib.parse.quote(key)}", body)
        except ApiError as exc:
            if exc.status != 404:
                raise
            self.request("POST", "/api/v2/variables", body)

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.request("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return dict(self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}"))

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        return list(self.get(f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        answer = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances?limit=1000")
        return list(answer["task_instances"])

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> list[dict[str, Any]]:
        """Every try of one task instance, earliest first (pid, hostname, state, times)."""
        path = (f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances/{task_id}"
                f"/{map_index}/tries" if map_index >= 0 else
                f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances/{task_id}/tries")
        return sorted(self.get(path)["task_instances"], key=lambda t: t["try_number"])

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1, key: str = "return_value") -> Any:
        path = (f"/api/v2/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances/{task_id}/xcomEntries/"
                f"{key}?map_index={map_index}&deserialize=true")
        return self.get(path)["value"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300.0) -> dict[str, Any]:
        """Poll until the run ends (success or failed); raises TimeoutError with its task states."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if run["state"] in {"success", "failed"}:
                return run
            if time.monotonic() > deadline:
                states = {(t["task_id"], t.get("map_index")): t["state"] for t in self.task_instances(dag_id, run_id)}
                raise TimeoutError(f"{dag_id} run {run_id} still {run['state']} after {timeout:.0f}s: {states}")
            time.sleep(1.0)
