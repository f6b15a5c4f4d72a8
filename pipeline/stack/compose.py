"""docker-compose.yml as the local stack's source of configuration.

The stack reads the Airflow services' environment from the compose file and interpolates it the way
Compose does, with the stack's own `.env` values: `${NAME}`, `${NAME:-default}`, `${NAME-default}`,
`${NAME:?error}`, `${NAME?error}`, and `$$` for a literal `$`. So the stack runs with the same
variables and Connections as production; `pipeline.stack.environment` says what differs on loopback.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yml"

_VARIABLE = re.compile(r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


class ComposeError(ValueError):
    """The compose file cannot be read or interpolated; the message names the variable or service."""


def load(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ComposeError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise ComposeError(f"{path} has no services")
    return data


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """One string with its variables substituted from `env`, as Compose substitutes from `.env`."""

    def substitute(match: re.Match[str]) -> str:
        escaped, name, operator, argument, bare = match.groups()
        if escaped:
            return "$"
        if bare:
            return env.get(bare, "")
        current = env.get(name)
        missing = current is None or (operator is not None and operator.startswith(":") and current == "")
        if operator is None:
            return current or ""
        if operator.endswith("-"):
            return interpolate(argument, env) if missing else str(current)
        if missing:
            raise ComposeError(f"${{{name}}} is required: {argument or 'not set'}")
        return str(current)

    return _VARIABLE.sub(substitute, value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def service_environment(compose: Mapping[str, Any], service: str, env: Mapping[str, str]) -> dict[str, str]:
    """The environment Compose would give `service`, interpolated with `env`."""
    spec = compose["services"].get(service)
    if spec is None:
        raise ComposeError(f"docker-compose.yml has no service {service!r}")
    raw = spec.get("environment") or {}
    if isinstance(raw, list):  # the KEY=VALUE list form
        raw = dict(item.split("=", 1) if "=" in item else (item, None) for item in raw)
    try:
        return {str(key): interpolate(_text(value), env) for key, value in raw.items()}
    except ComposeError as exc:
        raise ComposeError(f"service {service}: {exc}") from exc


def variables(path: Path = COMPOSE_FILE) -> set[str]:
    """Every variable the compose file interpolates (what a `.env` may set)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ComposeError(f"cannot read {path}: {exc}") from exc
    return {m.group(2) or m.group(5) for m in _VARIABLE.finditer(text) if not m.group(1)}


def service_command(compose: Mapping[str, Any], service: str) -> list[str]:
    """The service's `command` as a list (a plain string is split on whitespace, as Compose does)."""
    command = compose["services"][service].get("command") or []
    return command.split() if isinstance(command, str) else [str(part) for part in command]
