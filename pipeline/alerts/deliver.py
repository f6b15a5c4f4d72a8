"""Send a rendered message to a watch's target: a webhook (JSON POST) or e-mail (SMTP).

Credentials are resolved here, at send time, through a `Credentials` object: `SettingsCredentials` reads
NEWSWATCH_ALERT_WEBHOOKS and NEWSWATCH_SMTP_*; under Airflow, `newswatch_airflow.alerts` puts the
Connections `newswatch_webhook_<name>` and `newswatch_smtp` in front. A watch only names its target.

Every message carries its idempotency key (= the delivery id): the webhook gets it in the
`Idempotency-Key` header and the JSON body, e-mail as the `Message-ID` (`<key@newswatch>`) and an
`X-Newswatch-Idempotency-Key` header. A receiver that sees a key twice has seen the message before.

Failures are values of one exception, `DeliveryFailed`, with `permanent` set for those a retry cannot fix
(HTTP 4xx other than 408/425/429, a redirect, an unknown webhook name, no SMTP server configured, a
refused login or recipient, SMTP 5xx). Transient ones (connection errors, timeouts, 5xx, 429, SMTP 4xx)
are retried with exponential backoff (tenacity): `alert_send_attempts` tries from
`alert_retry_initial_seconds`.

Webhook targets are not put through the fetch layer's SSRF guard (pipeline/fetch/guard.py): their URLs
come from the operator's configuration (a Connection or NEWSWATCH_ALERT_WEBHOOKS), never from a watch, and
an intranet chat server is a legitimate target. Redirects are not followed, so a target cannot bounce the
POST elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Protocol

from pipeline.alerts.model import Target
from pipeline.alerts.render import Message
from pipeline.config import Settings

log = logging.getLogger(__name__)

TRANSIENT_HTTP = frozenset({408, 425, 429, 500, 502, 503, 504})
IDEMPOTENCY_HEADER = "Idempotency-Key"
SIGNATURE_HEADER = "X-Newswatch-Signature"


class DeliveryFailed(Exception):
    """The message did not arrive. `permanent`: retrying cannot help (the watch is paused)."""

    def __init__(self, reason: str, *, permanent: bool, status_code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.status_code = status_code


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    secret: str | None = None  # HMAC-SHA256 key for the X-Newswatch-Signature header
    headers: dict[str, str] = field(default_factory=dict)  # e.g. Authorization


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 587
    username: str | None = None
    password: str | None = None
    security: str = "starttls"  # starttls | tls | none
    sender: str = "newswatch <newswatch@localhost>"


class Credentials(Protocol):
    def webhook(self, name: str) -> WebhookConfig | None: ...

    def smtp(self) -> SmtpConfig | None: ...


def parse_webhooks(raw: str) -> dict[str, str]:
    """NEWSWATCH_ALERT_WEBHOOKS: `name=url,name=url` or a JSON object {"name": "url"}."""
    raw = (raw or "").strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        data = json.loads(raw)
        return {str(k): str(v) for k, v in data.items()}
    out: dict[str, str] = {}
    for part in raw.split(","):
        name, sep, url = part.partition("=")
        if sep and name.strip() and url.strip():
            out[name.strip()] = url.strip()
    return out


class SettingsCredentials:
    """Targets from NEWSWATCH_ALERT_WEBHOOKS, NEWSWATCH_ALERT_WEBHOOK_SECRET and NEWSWATCH_SMTP_*."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._webhooks = parse_webhooks(settings.alert_webhooks)

    def webhook(self, name: str) -> WebhookConfig | None:
        url = self._webhooks.get(name)
        return WebhookConfig(url=url, secret=self.settings.alert_webhook_secret or None) if url else None

    def smtp(self) -> SmtpConfig | None:
        s = self.settings
        if not s.smtp_host:
            return None
        return SmtpConfig(host=s.smtp_host, port=s.smtp_port, username=s.smtp_username, password=s.smtp_password,
                          security=s.smtp_security, sender=s.smtp_from)


@dataclass
class Sent:
    status_code: int | None = None
    detail: str = ""
    attempts: int = 1


def send(message: Message, target: Target, credentials: Credentials, settings: Settings) -> Sent:
    """Deliver, retrying transient failures with exponential backoff; raises DeliveryFailed."""
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    def transient(exc: BaseException) -> bool:
        return isinstance(exc, DeliveryFailed) and not exc.permanent

    def log_retry(state: object) -> None:
        exc = state.outcome.exception() if getattr(state, "outcome", None) else None  # type: ignore[attr-defined]
        log.warning("delivery %s to %s failed (try %s): %s; retrying", message.delivery_id, target.spec(),
                    getattr(state, "attempt_number", "?"), exc)

    retrying = Retrying(stop=stop_after_attempt(max(1, settings.alert_send_attempts)),
                        wait=wait_exponential(multiplier=settings.alert_retry_initial_seconds, max=60),
                        retry=retry_if_exception(transient), reraise=True, before_sleep=log_retry)
    for attempt in retrying:
        with attempt:
            sent = _send_once(message, target, credentials, settings)
            sent.attempts = attempt.retry_state.attempt_number
            return sent
    raise AssertionError("unreachable")  # pragma: no cover - reraise=True


def _send_once(message: Message, target: Target, credentials: Credentials, settings: Settings) -> Sent:
    if target.channel == "webhook":
        config = credentials.webhook(target.webhook or "")
        if config is None:
            raise DeliveryFailed(f"no webhook named {target.webhook!r} is configured (Airflow Connection "
                                 f"newswatch_webhook_{target.webhook} or NEWSWATCH_ALERT_WEBHOOKS)", permanent=True)
        return post_webhook(message, config, settings)
    smtp = credentials.smtp()
    if smtp is None:
        raise DeliveryFailed("no SMTP server is configured (Airflow Connection newswatch_smtp or NEWSWATCH_SMTP_HOST)",
                             permanent=True)
    return send_email(message, target.recipients, smtp, settings)


# webhook -------------------------------------------------------------------------------------------

def webhook_body(message: Message) -> bytes:
    return json.dumps(message.payload, ensure_ascii=False, sort_keys=True).encode("utf-8")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def post_webhook(message: Message, config: WebhookConfig, settings: Settings) -> Sent:
    import httpx

    body = webhook_body(message)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": settings.user_agent,
               IDEMPOTENCY_HEADER: message.delivery_id, "X-Newswatch-Delivery": message.delivery_id,
               **config.headers}
    if config.secret:
        headers[SIGNATURE_HEADER] = signature(config.secret, body)
    try:
        with httpx.Client(timeout=httpx.Timeout(settings.alert_timeout), follow_redirects=False) as client:
            resp = client.post(config.url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise DeliveryFailed(f"webhook timed out after {settings.alert_timeout:g}s ({type(exc).__name__})",
                             permanent=False) from exc
    except httpx.TransportError as exc:
        raise DeliveryFailed(f"webhook unreachable: {type(exc).__name__}: {exc}", permanent=False) from exc
    except httpx.InvalidURL as exc:
        raise DeliveryFailed(f"webhook URL is invalid: {exc}", permanent=True) from exc
    status = resp.status_code
    if 200 <= status < 300:
        return Sent(status_code=status, detail=resp.text[:200])
    snippet = " ".join(resp.text[:200].split())
    if 300 <= status < 400:
        raise DeliveryFailed(f"webhook answered HTTP {status} (redirect to {resp.headers.get('location')!r} not "
                             "followed: configure the final URL)", permanent=True, status_code=status)
    raise DeliveryFailed(f"webhook answered HTTP {status}: {snippet}", permanent=status not in TRANSIENT_HTTP,
                         status_code=status)


# e-mail --------------------------------------------------------------------------------------------

def email_message(message: Message, recipients: list[str], sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = message.subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(sender)[1].rpartition("@")[2] or "newswatch"
    msg["Message-ID"] = f"<{message.delivery_id}@{domain}>"
    msg["X-Newswatch-Idempotency-Key"] = message.delivery_id
    msg["X-Newswatch-Watch"] = message.watch
    msg.set_content(message.plain)
    msg.add_alternative(f"<!doctype html><html><body>{message.html}</body></html>", subtype="html")
    return msg


def send_email(message: Message, recipients: list[str], config: SmtpConfig, settings: Settings) -> Sent:
    msg = email_message(message, recipients, config.sender)
    timeout = settings.alert_timeout
    try:
        if config.security == "tls":
            client: smtplib.SMTP = smtplib.SMTP_SSL(config.host, config.port, timeout=timeout,
                                                    context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=timeout)
        with client:
            if config.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if config.username:
                client.login(config.username, config.password or "")
            refused = client.send_message(msg, from_addr=parseaddr(config.sender)[1] or None, to_addrs=recipients)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryFailed(f"SMTP login refused: {exc.smtp_code} {_smtp_text(exc.smtp_error)}", permanent=True,
                             status_code=exc.smtp_code) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryFailed(f"SMTP server does not support what is configured ({config.security}): {exc}",
                             permanent=True) from exc
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        detail = "; ".join(f"{r}: {c} {_smtp_text(t)}" for r, (c, t) in exc.recipients.items())
        raise DeliveryFailed(f"SMTP refused every recipient: {detail}", permanent=all(c >= 500 for c in codes),
                             status_code=max(codes) if codes else None) from exc
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(f"SMTP error {exc.smtp_code}: {_smtp_text(exc.smtp_error)}",
                             permanent=exc.smtp_code >= 500, status_code=exc.smtp_code) from exc
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, refused connections, timeouts
        raise DeliveryFailed(f"SMTP server {config.host}:{config.port} unreachable: {type(exc).__name__}: {exc}",
                             permanent=False) from exc
    if refused:
        log.warning("delivery %s: some recipients were refused: %s", message.delivery_id, refused)
    return Sent(status_code=250, detail=f"accepted for {len(recipients) - len(refused)} recipient(s)")


def _smtp_text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


__all__ = ["Credentials", "DeliveryFailed", "SettingsCredentials", "SmtpConfig", "WebhookConfig", "send"]
