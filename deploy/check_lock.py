"""Prove an environment runs the locked dependencies: `python deploy/check_lock.py requirements.lock`.

1. Every distribution pinned in the lock is importable at exactly its locked version (the one that wins
   on sys.path), so the Airflow image and a local checkout run the same code.
2. With --pip-check (the Docker build), the providers docker-compose.yml relies on (FAB auth manager,
   Celery executor, Postgres driver; all in the lock) are installed, and `pip check` finds no broken
   requirement in anything the stack can import: the locked packages and everything they require.
   Conflicts inside the image's other preinstalled providers, which newswatch never loads, are printed,
   not fatal.

Standard library only (plus `packaging`, which both the lock and the Airflow image contain).
Exit status: 0 consistent, 1 inconsistent, 2 usage error.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# Providers and drivers docker-compose.yml relies on; they are in the lock (pyproject dependencies), and
# --pip-check insists they are installed and unbroken.
RUNTIME_ROOTS = (
    "apache-airflow-providers-fab",  # AIRFLOW__CORE__AUTH_MANAGER
    "apache-airflow-providers-celery",  # the `celery` profile
    "apache-airflow-providers-postgres",  # the metadata database
    "apache-airflow-providers-redis",  # the Celery broker
    "psycopg2-binary",
)

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")
_PIP_CHECK = re.compile(r"^(?P<pkg>[A-Za-z0-9][A-Za-z0-9._-]*) (?P<ver>\S+) (?P<what>.*)$")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: Path) -> dict[str, str]:
    """{normalized name: version} for every `name==version` line of a pip/uv lock file."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = _PIN.match(line.strip())
        if m:
            pins[normalize(m.group(1))] = m.group(2)
    if not pins:
        raise ValueError(f"{path}: no pinned requirements found")
    return pins


def _same_version(a: str, b: str) -> bool:
    try:
        from packaging.version import Version

        return Version(a) == Version(b)
    except Exception:  # noqa: BLE001 - unparsable versions compare as text
        return a == b


def lock_mismatches(pins: dict[str, str], installed: dict[str, str | None]) -> list[str]:
    """Human-readable problems: missing distributions and version differences."""
    problems = []
    for name, want in sorted(pins.items()):
        have = installed.get(name)
        if have is None:
            problems.append(f"{name}=={want}: not installed")
        elif not _same_version(have, want):
            problems.append(f"{name}=={want}: installed {have}")
    return problems


def installed_versions(names: Iterable[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            out[name] = None
    return out


def requirement_closure(roots: Iterable[str]) -> set[str]:
    """The installed distributions reachable from `roots` through their (non-extra) requirements."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = [normalize(r) for r in roots]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = md.distribution(name)
        except md.PackageNotFoundError:
            continue
        seen.add(name)
        for raw in dist.requires or []:
            req = Requirement(raw)
            if req.marker is not None and not req.marker.evaluate({"extra": ""}):
                continue
            todo.append(normalize(req.name))
    return seen


@dataclass(frozen=True)
class PipCheckVerdict:
    fatal: list[str]
    ignored: list[str]


def judge_pip_check(output: str, relevant: set[str]) -> PipCheckVerdict:
    """Split `pip check` complaints into those about a relevant package (fatal) and the rest."""
    fatal, ignored = [], []
    for line in output.splitlines():
        line = line.strip()
        if not line or line.startswith("No broken requirements"):
            continue
        m = _PIP_CHECK.match(line)
        if m and normalize(m.group("pkg")) not in relevant:
            ignored.append(line)
        else:
            fatal.append(line)
    return PipCheckVerdict(fatal, ignored)


def run_pip_check() -> str:
    done = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, timeout=300)
    return done.stdout + done.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lock", type=Path, help="the lock file, e.g. requirements.lock")
    parser.add_argument("--pip-check", action="store_true",
                        help="also require the image's runtime providers and a clean `pip check` for them")
    args = parser.parse_args(argv)
    try:
        pins = read_lock(args.lock)
    except (OSError, ValueError) as exc:
        print(f"check_lock: {exc}", file=sys.stderr)
        return 2

    problems = lock_mismatches(pins, installed_versions(pins))
    if args.pip_check:
        missing_roots = [r for r in RUNTIME_ROOTS if installed_versions([r])[r] is None]
        problems += [f"{r}: not installed (docker-compose.yml needs it)" for r in missing_roots]
        verdict = judge_pip_check(run_pip_check(), requirement_closure([*pins, *RUNTIME_ROOTS]))
        for line in verdict.ignored:
            print(f"check_lock: ignored (not used by newswatch): {line}", file=sys.stderr)
        problems += [f"pip check: {line}" for line in verdict.fatal]

    for p in problems:
        print(f"check_lock: {p}", file=sys.stderr)
    if problems:
        print(f"check_lock: {len(problems)} problem(s) against {args.lock}", file=sys.stderr)
        return 1
    print(f"check_lock: {len(pins)} locked distributions installed at their locked versions", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
