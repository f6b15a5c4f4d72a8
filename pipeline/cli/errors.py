"""Exit codes, and the one translation of exceptions into what a person reads (used by `main`).

Handlers raise; `main` calls `explain` once, prints one line (two with a hint) and returns the code.
Tracebacks appear only with `newswatch --debug`.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

OK = 0
ITEMS_FAILED = 1  # the command ran, but some of its items (or one of its checks) failed
USAGE = 2  # bad arguments or input: a mistyped URL, a missing file, an invalid query
UNAVAILABLE = 3  # something newswatch needs did not answer: Elasticsearch, Kibana, the spaCy model
INTERNAL = 4  # a bug: run again with --debug and report the traceback
INTERRUPTED = 130  # Ctrl-C

EXIT_CODES_HELP = f"""exit codes:
  {OK}    everything worked
  {ITEMS_FAILED}    the command ran, but some items failed (each output line says why) or a check failed
  {USAGE}    usage or input error: bad arguments, a missing file, something that is neither a file nor a URL
  {UNAVAILABLE}    a service newswatch needs is unreachable (Elasticsearch, Kibana) or not installed (spaCy model)
  {INTERNAL}    unexpected error (a bug): run again with --debug for the traceback
  {INTERRUPTED}  interrupted (Ctrl-C)"""

ES_HINT = "start the local node with `newswatch es start`, or set NEWSWATCH_ES_URL to your cluster"


@dataclass(frozen=True)
class Explained:
    code: int
    message: str
    hint: str = ""


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def connection_problem(exc: BaseException) -> str:
    """What went wrong on the wire, in a few words, from an exception and its causes."""
    chain = _chain(exc)
    text = " ".join(str(e) for e in chain)
    timeout = any(isinstance(e, TimeoutError) or _is(e, "elastic_transport.ConnectionTimeout") for e in chain)
    if timeout or "timed out" in text.lower():
        return "no answer in time"
    for e in chain:
        if isinstance(e, OSError) and e.strerror:
            return e.strerror.lower()
    if errno := re.search(r"\[Errno -?\d+\] ([^)\[\]'\"]+)", text):
        return errno.group(1).strip().lower()
    if status := re.search(r"HTTP (\d{3})", text):
        return f"it answered HTTP {status.group(1)}: overloaded or without an elected master, try again shortly"
    return "no answer"


def _es_url(exc: BaseException) -> str:
    url = getattr(exc, "url", None)
    if url:
        return str(url)
    from pipeline.config import load_settings

    return load_settings().es_url


def _loaded(module: str, name: str) -> type:
    """A class from a module the command already imported; an exception cannot be an instance of a
    class whose module was never imported, so nothing heavy (spaCy) is imported to classify it."""
    mod = sys.modules.get(module)
    return getattr(mod, name) if mod is not None else _Never


class _Never(Exception):
    """Matches nothing."""


def _is(exc: BaseException, *names: str) -> bool:
    return any(isinstance(exc, _loaded(*name.rsplit(".", 1))) for name in names)


def explain(exc: BaseException) -> Explained:
    """The exit code and message for an exception that reached the command line."""
    if _is(exc, "pipeline.jobs.sources.InputError", "pipeline.search.query.SearchError",
           "pipeline.alerts.model.WatchError"):
        return Explained(USAGE, str(exc))
    if isinstance(exc, FileNotFoundError | IsADirectoryError | NotADirectoryError | PermissionError):
        why = exc.strerror or str(exc)
        return Explained(USAGE, f"cannot read {exc.filename or 'a file'}: {why[:1].lower()}{why[1:]}")
    if _is(exc, "pipeline.index.errors.ClusterUnavailable", "elastic_transport.ConnectionError",
           "elastic_transport.ConnectionTimeout"):
        return Explained(UNAVAILABLE, f"cannot reach Elasticsearch at {_es_url(exc)} ({connection_problem(exc)})",
                         ES_HINT)
    if _is(exc, "elasticsearch.AuthenticationException", "elasticsearch.AuthorizationException"):
        return Explained(UNAVAILABLE, f"Elasticsearch at {_es_url(exc)} refused the credentials "
                                      f"(HTTP {exc.meta.status}: {exc.message})",  # type: ignore[attr-defined]
                         "check NEWSWATCH_ES_USERNAME / NEWSWATCH_ES_PASSWORD or NEWSWATCH_ES_API_KEY")
    if _is(exc, "pipeline.kibana.client.KibanaImportError"):
        unreachable = any(_is(e, "httpx.TransportError") for e in _chain(exc))
        return Explained(UNAVAILABLE if unreachable else ITEMS_FAILED, str(exc),
                         "set NEWSWATCH_KIBANA_URL or pass --url" if unreachable else "")
    if _is(exc, "pipeline.tagging.nlp.ModelUnavailable"):
        return Explained(UNAVAILABLE, str(exc))
    if _is(exc, "pipeline.index.errors.IndexLayerError"):
        return Explained(ITEMS_FAILED, str(exc))
    if _is(exc, "elasticsearch.ApiError"):
        return Explained(ITEMS_FAILED, f"Elasticsearch answered HTTP {exc.meta.status}: "  # type: ignore[attr-defined]
                                       f"{exc.message}")  # type: ignore[attr-defined]
    return Explained(INTERNAL, f"unexpected error: {type(exc).__name__}: {exc}",
                     "this is a bug: run again with --debug and report the traceback")
