"""Airflow authentication and authorisation for the plugin app mounted at /newswatch.

Airflow applies its API dependencies only to its own routers, not to plugin apps, so this ASGI
middleware does it for every request to the app (pages, JSON, and paths that do not exist):

- the user comes from Airflow's JWT, as Airflow's own `get_user` finds it: an `Authorization: Bearer`
  header first, else the user Airflow's refresh middleware already resolved, else the `_token` cookie
  the Airflow UI sets at login (so the pages inside the UI's iframe need no second login);
- the token is checked by the configured auth manager (`get_user_from_token`), and the user must be
  allowed to read the `news_ingest` DAG, whose results these pages show:
  `is_authorized_dag(GET, DagDetails(id="news_ingest"))`. SimpleAuthManager grants it to every role
  (viewer and up; a user without a role gets nothing); FAB to roles with "can read on DAGs" (Viewer and
  up) or on "DAG:news_ingest"; any other auth manager decides through the same interface. (FAB gives
  "can read on Website" to every role, so the UI view permission would refuse no one.)

Anonymous (no token, or an expired or invalid one): pages redirect to the auth manager's login URL
with `next` pointing back at the page; JSON paths answer 401. Signed in without the permission: 403.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from html import escape
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]], Awaitable[None]]

COOKIE_NAME = "_token"  # airflow.api_fastapi.auth.managers.base_auth_manager.COOKIE_NAME_JWT_TOKEN
AUTHORISING_DAG = "news_ingest"  # who may read this DAG may read what it produced


class AirflowAuth:
    """Let a request through only for a signed-in Airflow user who may read the news_ingest DAG.

    `json_paths` (paths inside the app, e.g. "/health") answer 401/403 as JSON; every other path is a
    page. The user's name is left in `request.state.newswatch_user` for the pages to show.
    """

    def __init__(self, app: ASGIApp, json_paths: tuple[str, ...] = ()) -> None:
        self.app = app
        self.json_paths = json_paths

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websockets here: nothing to authorise them against
            await send({"type": "websocket.close", "code": 1008})
            return
        request = Request(scope)
        wants_json = _route_path(scope) in self.json_paths
        try:
            from airflow.api_fastapi.app import get_auth_manager

            manager = get_auth_manager()
        except Exception as exc:  # outside the API server nobody can sign in: refuse, never open up
            log.error("newswatch pages refused: Airflow's auth manager is not available (%s)", exc)
            await _refuse(503, "The newswatch pages run inside the Airflow API server; its auth manager "
                               "is not initialised.", wants_json)(scope, receive, send)
            return
        user = await _user(request, manager)
        if user is None:
            response = (_json(401, "Not authenticated", {"WWW-Authenticate": "Bearer"}) if wants_json
                        else _login_redirect(request, manager))
        elif not await run_in_threadpool(_may_read, manager, user):
            response = _refuse(403, f"Signed in as {user.get_name()}, but your Airflow role may not read the "
                                    f"{AUTHORISING_DAG} DAG, whose results these pages show. Ask an Airflow "
                                    "admin for viewer access.", wants_json)
        else:
            scope.setdefault("state", {})["newswatch_user"] = user.get_name()
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path inside the mounted app (Starlette keeps the full path and the mount in root_path)."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


async def _user(request: Request, manager: Any) -> Any | None:
    """The signed-in user, looked up the way Airflow's `get_user` does; None when anonymous."""
    from jwt import InvalidTokenError

    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        token: str | None = credentials.strip()
    else:
        trusted = _trusted_state_user(request)
        if trusted is not None:
            return trusted
        token = request.cookies.get(COOKIE_NAME)
    if not token:
        return None
    try:
        return await manager.get_user_from_token(token)
    except InvalidTokenError as exc:  # expired, revoked or forged: sign in again
        log.info("newswatch pages: token refused (%s)", type(exc).__name__)
        return None


def _trusted_state_user(request: Request) -> Any | None:
    """The user Airflow's JWTRefreshMiddleware resolved (it marks it with a sentinel only it sets)."""
    state = request.scope.get("state") or {}
    user = state.get("user")
    if user is None:
        return None
    try:
        from airflow.api_fastapi.core_api.security import USER_INJECTED_BY_TRUSTED_MIDDLEWARE
    except ImportError:
        return None
    return user if state.get("user_authenticated_via") is USER_INJECTED_BY_TRUSTED_MIDDLEWARE else None


def _may_read(manager: Any, user: Any) -> bool:
    from airflow.api_fastapi.auth.managers.models.resource_details import DagDetails
    from airflow.configuration import conf

    try:
        team = None
        if conf.getboolean("core", "multi_team", fallback=False):
            from airflow.models.dag import DagModel

            team = DagModel.get_team_name(AUTHORISING_DAG)
        return bool(manager.is_authorized_dag(method="GET", details=DagDetails(id=AUTHORISING_DAG, team_name=team),
                                              user=user))
    except Exception as exc:  # e.g. a role the auth manager does not know: no access
        log.warning("newswatch pages: authorisation check failed for %s: %s", user.get_name(), exc)
        return False


def _login_redirect(request: Request, manager: Any) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(manager.get_url_login(next_url=target), status_code=303)


def _json(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"detail": detail}, status_code=status, headers=headers)


def _refuse(status: int, message: str, wants_json: bool) -> Response:
    if wants_json:
        return _json(status, message)
    title = "Not allowed" if status == 403 else "Unavailable"
    return HTMLResponse(f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{title}</title></head>"
                        f"<body style='font:15px system-ui,sans-serif;margin:2rem'><h1 style='font-size:20px'>"
                        f"{title}</h1><p>{escape(message)}</p></body></html>", status_code=status)
