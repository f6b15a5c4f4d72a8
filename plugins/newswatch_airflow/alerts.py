"""Airflow Connections -> alert targets' credentials, for the news_alerts tasks.

- `newswatch_smtp` (any type, e.g. `smtp`): host, port, login, password; extras `from` (sender address),
  `security` (`starttls` default, `tls` or `none`). Overrides NEWSWATCH_SMTP_*.
- `newswatch_webhook_<name>` (any type, e.g. `http`): the URL is the host field when it holds a full URL
  (`https://hooks.slack.com/services/...`), else schema://host[:port] plus the extra `path`; the password,
  when set, signs the body (X-Newswatch-Signature); extra `headers` (a JSON object) are sent as they are.
  Looked up when a watch targets `webhook:<name>`; falls back to NEWSWATCH_ALERT_WEBHOOKS.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from pipeline.alerts.deliver import SettingsCredentials, SmtpConfig, WebhookConfig
from pipeline.config import Settings

log = logging.getLogger(__name__)

SMTP_CONN_ID = "newswatch_smtp"
WEBHOOK_CONN_PREFIX = "newswatch_webhook_"


def smtp_from_connection(conn: Any, base: SmtpConfig | None = None) -> SmtpConfig:
    extra = conn.extra_dejson or {}
    base = base or SmtpConfig(host="")
    return replace(base, host=conn.host or base.host, port=int(conn.port or base.port),
                   username=conn.login or base.username, password=conn.password or base.password,
                   security=str(extra.get("security") or base.security),
                   sender=str(extra.get("from") or extra.get("sender") or base.sender))


def webhook_from_connection(conn: Any) -> WebhookConfig:
    extra = conn.extra_dejson or {}
    host = (conn.host or "").strip()
    if "://" in host:
        url = host
    else:
        port = f":{conn.port}" if conn.port else ""
        path = str(extra.get("path") or "")
        url = f"{conn.schema or 'https'}://{host}{port}{path if not path or path.startswith('/') else '/' + path}"
    headers = extra.get("headers") or {}
    return WebhookConfig(url=url, secret=conn.password or None, headers={str(k): str(v) for k, v in headers.items()})


def _connection(conn_id: str) -> Any | None:
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


class AirflowCredentials(SettingsCredentials):
    """Connections first, then the NEWSWATCH_* settings."""

    def webhook(self, name: str) -> WebhookConfig | None:
        conn = _connection(f"{WEBHOOK_CONN_PREFIX}{name}")
        if conn is not None:
            return webhook_from_connection(conn)
        return super().webhook(name)

    def smtp(self) -> SmtpConfig | None:
        conn = _connection(SMTP_CONN_ID)
        base = super().smtp()
        if conn is not None:
            return smtp_from_connection(conn, base)
        return base


def credentials_from_airflow(settings: Settings) -> AirflowCredentials:
    return AirflowCredentials(settings)
