"""Kibana assets against real servers: fields exist in the live mappings; import over HTTP with credentials."""

from __future__ import annotations

import base64
import json
import threading
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipeline.cli import main
from pipeline.config import load_settings
from pipeline.index.derive import flatten_properties
from pipeline.index.names import IndexNames
from pipeline.index.setup import ensure_indices
from pipeline.kibana.client import KibanaImportError, import_saved_objects
from pipeline.kibana.objects import build_saved_objects, to_ndjson

pytestmark = pytest.mark.integration


def test_saved_object_fields_exist_in_the_live_mappings(es_client, settings):
    ensure_indices(es_client, settings)
    names = IndexNames(settings.index_prefix)
    so = build_saved_objects(settings.index_prefix)
    missing = []
    for ref in so.fields:
        live = es_client.indices.get_mapping(index=names.alias(ref.kind)).body
        props = next(iter(live.values()))["mappings"]["properties"]
        if ref.field not in flatten_properties(props):
            missing.append(f"{ref.kind}: {ref.field} ({ref.used_by})")
    assert missing == []


class KibanaStub(BaseHTTPRequestHandler):
    """Accepts the saved objects import the way Kibana's API does (multipart `file`, kbn-xsrf, auth)."""

    received: list[dict] = []

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        body = self.rfile.read(int(self.headers["Content-Length"]))
        auth = self.headers.get("Authorization", "")
        if auth != "Basic " + base64.b64encode(b"elastic:s3cret").decode():
            return self._reply(401, {"statusCode": 401, "message": "Unauthorized"})
        if not self.headers.get("kbn-xsrf"):
            return self._reply(400, {"statusCode": 400, "message": "Request must contain a kbn-xsrf header."})
        msg = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + body)
        part = next(p for p in msg.iter_parts() if p.get_param("name", header="content-disposition") == "file")
        lines = [json.loads(x) for x in part.get_payload(decode=True).decode().splitlines()]
        KibanaStub.received.append({"path": self.path, "objects": lines})
        self._reply(200, {"success": True, "successCount": len(lines), "successResults": []})

    def _reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def kibana_url():
    KibanaStub.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), KibanaStub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def test_import_posts_the_ndjson_with_credentials(kibana_url, monkeypatch, capsys):
    monkeypatch.setenv("NEWSWATCH_KIBANA_USERNAME", "elastic")
    monkeypatch.setenv("NEWSWATCH_KIBANA_PASSWORD", "s3cret")
    monkeypatch.setenv("NEWSWATCH_KIBANA_SPACE", "news")
    assert main(["kibana", "import", "--url", kibana_url]) == 0
    from pipeline.kibana.objects import build_saved_objects

    assert f"imported {len(build_saved_objects().objects)} saved object(s)" in capsys.readouterr().out
    (req,) = KibanaStub.received
    assert req["path"] == "/s/news/api/saved_objects/_import?overwrite=true"
    assert [o["id"] for o in req["objects"]] == [
        json.loads(line)["id"] for line in to_ndjson(build_saved_objects()).splitlines()]


def test_import_errors_are_clear(kibana_url, free_port):
    wrong = load_settings(env={}, kibana_username="elastic", kibana_password="nope")
    with pytest.raises(KibanaImportError, match="refused the credentials"):
        import_saved_objects("{}\n", wrong, kibana_url)
    with pytest.raises(KibanaImportError, match="cannot reach Kibana"):
        import_saved_objects("{}\n", wrong, f"http://127.0.0.1:{free_port()}", timeout=5)
