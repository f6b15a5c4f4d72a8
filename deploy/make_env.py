"""Write `.env` for docker-compose.yml: `.env.example` with every empty secret generated.

    python3 deploy/make_env.py             # writes .env next to docker-compose.yml (refuses to overwrite)
    python3 deploy/make_env.py -o -        # prints it instead

Passwords and keys come from `secrets` (URL- and JSON-safe characters only); AIRFLOW_FERNET_KEY is 32
random bytes, urlsafe-base64 encoded, which is exactly what `cryptography.fernet.Fernet.generate_key()`
returns. Non-secret settings are copied as they are. Standard library only: runs on any Python 3.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _password() -> str:
    return secrets.token_urlsafe(24)


def _fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


def _long_key() -> str:
    return secrets.token_hex(32)  # 64 characters; Kibana wants at least 32


GENERATORS: dict[str, Callable[[], str]] = {
    "ELASTIC_PASSWORD": _password,
    "KIBANA_SYSTEM_PASSWORD": _password,
    "KIBANA_ENCRYPTION_KEY": _long_key,
    "NEWSWATCH_ES_PASSWORD": _password,
    "POSTGRES_PASSWORD": _password,
    "REDIS_PASSWORD": _password,
    "AIRFLOW_FERNET_KEY": _fernet_key,
    "AIRFLOW_SECRET_KEY": _long_key,
    "AIRFLOW_JWT_SECRET": _long_key,
    "AIRFLOW_ADMIN_PASSWORD": _password,
}


def render(example: str, generators: dict[str, Callable[[], str]] = GENERATORS) -> str:
    """The example's lines, with `NAME=` (empty) filled for every NAME that has a generator."""
    out = []
    for line in example.splitlines():
        name, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and name.strip() in generators and not value.strip():
            line = f"{name.strip()}={generators[name.strip()]()}"
        out.append(line)
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--example", type=Path, default=ROOT / ".env.example")
    parser.add_argument("-o", "--output", default=str(ROOT / ".env"), help="file to write, or - for stdout")
    parser.add_argument("--force", action="store_true", help="overwrite an existing file (new secrets!)")
    args = parser.parse_args(argv)

    text = render(args.example.read_text(encoding="utf-8"))
    if args.output == "-":
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    if out.exists() and not args.force:
        print(f"make_env: {out} exists; keep it (its secrets are in use) or pass --force", file=sys.stderr)
        return 1
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    print(f"make_env: wrote {out} (mode 600)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
