"""The page shown when Elasticsearch cannot answer: what is down and what to do, said once."""

from __future__ import annotations

from html import escape
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from newswatch_airflow import backend
from newswatch_airflow.pages.html import notice, page, viewer


def unavailable(title: str, exc: BaseException, settings: Any, request: Request, *, root: str = "",
                current: str = "", before: str = "") -> HTMLResponse:
    """The page that says plainly what is down and what to do, once."""
    message = (f"<b>{escape(title)} is unavailable.</b> {escape(backend.problem(exc, settings))}. "
               "Check that Elasticsearch is running (<code>newswatch es status</code> on this machine, "
               "<code>docker compose ps elasticsearch</code> in the Compose stack), then reload this page.")
    return page(title, before + notice(message), current=current, root=root, user=viewer(request), status=503)
