"""What reaches the command line becomes one message and a documented exit code; tracebacks only
with --debug."""

from __future__ import annotations

import errno

import httpx
import pytest
from elastic_transport import ConnectionError as TransportConnectionError

from pipeline.cli import errors, main
from pipeline.index.errors import ClusterUnavailable, IndexSetupError
from pipeline.jobs.sources import InputError
from pipeline.kibana.client import KibanaImportError


def _caused(exc: BaseException, cause: BaseException) -> BaseException:
    try:
        raise exc from cause
    except BaseException as raised:  # noqa: BLE001 - building a chain for the test
        return raised


def test_unreachable_cluster_is_exit_3_with_the_cause_in_a_few_words():
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    exc = _caused(ClusterUnavailable("long text; retry the batch later", url="http://es:9200"),
                  _caused(TransportConnectionError("Connection error"), refused))
    explained = errors.explain(exc)
    assert explained.code == errors.UNAVAILABLE == 3
    assert explained.message == "cannot reach Elasticsearch at http://es:9200 (connection refused)"
    assert "newswatch es start" in explained.hint and "batch" not in explained.message + explained.hint


def test_timeouts_and_overload_read_as_such():
    assert "no answer in time" in errors.explain(ClusterUnavailable("x timed out (ConnectionTimeout)")).message
    assert "HTTP 503" in errors.explain(ClusterUnavailable("answered HTTP 503 (unavailable)")).message


@pytest.mark.parametrize(("exc", "code", "text"), [
    (InputError({"not a url": "no such file, and not an http(s) URL"}), 2, "not a url: no such file"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/x/feeds.yaml"), 2,
     "cannot read /x/feeds.yaml: no such file or directory"),
    (IndexSetupError("template refused"), 1, "template refused"),
    (_caused(KibanaImportError("cannot reach Kibana at http://k:5601"), httpx.ConnectError("refused")), 3,
     "cannot reach Kibana"),
    (KibanaImportError("Kibana rejected the import (HTTP 400)"), 1, "rejected"),
    (ZeroDivisionError("division by zero"), 4, "unexpected error: ZeroDivisionError"),
])
def test_exceptions_map_to_documented_codes(exc, code, text):
    explained = errors.explain(exc)
    assert explained.code == code and text in explained.message


def _raise(exc: BaseException):
    def handler(args):
        raise exc
    return handler


def test_main_prints_one_message_and_no_traceback(monkeypatch, capsys):
    monkeypatch.setattr("pipeline.cli.tag._run", _raise(ZeroDivisionError("boom")))
    assert main(["tag", "-"]) == errors.INTERNAL
    err = capsys.readouterr().err
    assert err.splitlines() == ["newswatch tag: unexpected error: ZeroDivisionError: boom",
                                "  this is a bug: run again with --debug and report the traceback"]


def test_debug_shows_the_traceback_and_keeps_the_exit_code(monkeypatch, capsys):
    monkeypatch.setattr("pipeline.cli.tag._run", _raise(ClusterUnavailable("down", url="http://es:9200")))
    assert main(["--debug", "tag", "-"]) == errors.UNAVAILABLE
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "cannot reach Elasticsearch at http://es:9200" in err


def test_nested_commands_name_themselves(monkeypatch, capsys, tmp_path):
    assert main(["kibana", "import", "--file", str(tmp_path / "missing.ndjson")]) == errors.USAGE
    assert capsys.readouterr().err.startswith(f"newswatch kibana import: cannot read {tmp_path / 'missing.ndjson'}")


def test_unreachable_elasticsearch_from_a_real_command(monkeypatch, capsys, free_port):
    """`newswatch search` against a port nothing listens on: a short message, not 112 lines."""
    monkeypatch.setenv("NEWSWATCH_ES_URL", f"http://127.0.0.1:{free_port()}")
    assert main(["search", "anything"]) == errors.UNAVAILABLE
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) <= 3, err
    assert "cannot reach Elasticsearch" in err and "connection refused" in err
