"""Redis from the distribution's packages as the Celery broker, on a loopback port: as compose's
`redis` service, password-protected and with its append-only file, so queued tasks survive a restart."""

from __future__ import annotations

import shutil

from pipeline.stack.errors import StackError
from pipeline.stack.layout import StackConfig


def server_command(config: StackConfig) -> list[str]:
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        raise StackError("redis-server is not installed; install it: apt-get install redis-server "
                         "(scripts/system-packages does)")
    return [redis_server, "--bind", "127.0.0.1", "--port", str(config.ports["redis"]),
            "--requirepass", config.secrets["REDIS_PASSWORD"], "--appendonly", "yes",
            "--dir", str(config.path / "redis"), "--save", ""]


def ping(config: StackConfig) -> bool:
    """`redis-cli ping`, compose's healthcheck."""
    import redis

    client = redis.Redis(host="127.0.0.1", port=config.ports["redis"], password=config.secrets["REDIS_PASSWORD"],
                         socket_timeout=2)
    try:
        return bool(client.ping())
    finally:
        client.close()
