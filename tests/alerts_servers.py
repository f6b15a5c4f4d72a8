"""Real receivers for the alert tests: a webhook server and an SMTP server (aiosmtpd) on 127.0.0.1.

The webhook receiver records every POST (headers and JSON body) and can be killed and brought back on the
same port, or told to answer with an error status.
"""

from __future__ import annotations

import json
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class WebhookReceiver:
    def __init__(self, port: int = 0) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        self.on_receive: Any = None  # called with the request dict, after it is recorded
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = port
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                request = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": json.loads(raw or b"null"), "raw": raw}
                status = receiver.status
                if status < 300:
                    with receiver._lock:
                        receiver.received.append(request)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"nope")
                if receiver.on_receive is not None and status < 300:
                    receiver.on_receive(request)

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True, name="webhook-receiver").start()

    def kill(self) -> None:
        """Stop listening: connections are refused until `start()`."""
        if self._server is not None:
            server, self._server = self._server, None
            threading.Thread(target=lambda: (server.shutdown(), server.server_close()), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def keys(self) -> list[str]:
        with self._lock:
            return [r["headers"].get("idempotency-key", "") for r in self.received]

    def bodies(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r["body"] for r in self.received]

    def unique(self) -> dict[str, dict[str, Any]]:
        """What a receiver that honours the idempotency key keeps: the first body per key."""
        out: dict[str, dict[str, Any]] = {}
        with self._lock:
            for r in self.received:
                out.setdefault(r["headers"].get("idempotency-key", ""), r["body"])
        return out


class SmtpReceiver:
    """aiosmtpd on 127.0.0.1 (no TLS, no auth): every accepted message, parsed."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        receiver = self

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                msg = message_from_bytes(envelope.content, policy=policy.default)
                receiver.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "message": msg})
                return "250 Message accepted for delivery"

        self.port = port
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()
