"""Requests to the plugin's pages through Airflow's own API app: the configured auth manager, Airflow's
middlewares and the plugin app mounted at /newswatch, exactly as the API server assembles them. Users
sign in with a JWT the auth manager issues (what the `_token` cookie of the Airflow UI holds)."""

from __future__ import annotations

from functools import cache
from typing import Any


@cache
def airflow_app() -> Any:
    from airflow.api_fastapi.app import create_app

    return create_app("core")


def token(role: str, username: str = "viewer", expires_in: int = 600) -> str:
    """A JWT for a SimpleAuthManager user with `role` ("" = a user without any role)."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    airflow_app()
    user = SimpleAuthManagerUser(username=username, role=role)
    return get_auth_manager().generate_jwt(user, expiration_time_in_seconds=expires_in)


def client(role: str | None = "viewer") -> Any:
    """A test client of the API app, signed in with `role` through the cookie (None: anonymous)."""
    from fastapi.testclient import TestClient

    c = TestClient(airflow_app(), follow_redirects=False)
    if role is not None:
        c.cookies.set("_token", token(role))
    return c
