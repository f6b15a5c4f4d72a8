"""Batch storage between pipeline tasks: JSON Lines files under one root, on any path-like backend.

The root only needs pathlib's small surface (`/`, `open`, `exists`, `unlink`, `mkdir`, `iterdir`,
`name`): a `pathlib.Path` in tests and the CLI, Airflow's `ObjectStoragePath` in the DAGs (a local
folder by default, S3 or GCS by configuration). Layout, one folder per kind of batch:

    <root>/entries/<chunk_id>.jsonl   feed entries waiting to be fetched, extracted and tagged
    <root>/retag/<chunk_id>.jsonl     stored articles waiting to be re-tagged (news_reprocess)
    <root>/tagged/<chunk_id>.jsonl    tagged articles and failure events waiting to be indexed
    <root>/runs/<run_key>.json        the summary of one run

A batch is deleted only after the next stage has durably taken it over, so a retried task re-uses
what is already spooled and a batch survives the index being unreachable.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel

ENTRIES = "entries"
RETAG = "retag"
TAGGED = "tagged"
RUNS = "runs"
KINDS = (ENTRIES, RETAG, TAGGED, RUNS)

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


class PathLike(Protocol):
    name: str

    @property
    def parent(self) -> PathLike: ...

    def __truediv__(self, other: str) -> PathLike: ...
    def open(self, mode: str = "r", **kwargs: Any) -> Any: ...
    def exists(self) -> bool: ...
    def unlink(self, missing_ok: bool = False) -> None: ...
    def mkdir(self, parents: bool = False, exist_ok: bool = False) -> None: ...
    def iterdir(self) -> Iterator[PathLike]: ...


def safe_key(raw: str) -> str:
    """A file-name-safe key (run ids contain ':' and '+')."""
    return _SAFE.sub("_", raw).strip("_") or "run"


def default_root(data_dir: str) -> Path:
    return Path(data_dir) / "spool"


def _dump(record: BaseModel | dict[str, Any]) -> str:
    if isinstance(record, BaseModel):
        return record.model_dump_json()
    return json.dumps(record, default=str, ensure_ascii=False)


class Spool:
    def __init__(self, root: PathLike) -> None:
        self.root = root

    def path(self, kind: str, key: str) -> PathLike:
        if kind not in KINDS:
            raise ValueError(f"unknown spool kind {kind!r}")
        suffix = ".json" if kind == RUNS else ".jsonl"
        return self.root / kind / f"{safe_key(key)}{suffix}"

    def exists(self, kind: str, key: str) -> bool:
        return self.path(kind, key).exists()

    def write(self, kind: str, key: str, records: Iterable[BaseModel | dict[str, Any]]) -> int:
        """Write one batch, replacing any previous one with the same key. Returns the line count."""
        lines = [_dump(r) for r in records]
        text = "".join(line + "\n" for line in lines)
        self._write_text(self.path(kind, key), text)
        return len(lines)

    def read(self, kind: str, key: str) -> list[dict[str, Any]]:
        with self.path(kind, key).open("r", encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]

    def delete(self, kind: str, key: str) -> None:
        target = self.path(kind, key)
        if target.exists():
            target.unlink()

    def keys(self, kind: str) -> list[str]:
        """Keys of the batches of one kind, sorted (oldest run first when keys start with the run)."""
        folder = self.root / kind
        if not folder.exists():
            return []
        suffix = ".json" if kind == RUNS else ".jsonl"
        return sorted(p.name[: -len(suffix)] for p in folder.iterdir() if p.name.endswith(suffix))

    def write_json(self, kind: str, key: str, payload: dict[str, Any]) -> None:
        self._write_text(self.path(kind, key), json.dumps(payload, default=str, indent=2, sort_keys=True))

    def read_json(self, kind: str, key: str) -> dict[str, Any]:
        with self.path(kind, key).open("r", encoding="utf-8") as fh:
            return json.load(fh)

    def _write_text(self, target: PathLike, text: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        if _is_local(target):
            # Write beside the target, then rename: readers never see half a batch.
            tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
            with tmp.open("w", encoding="utf-8") as fh:
                fh.write(text)
            tmp.replace(target)  # type: ignore[attr-defined]
        else:
            # Object stores publish an object only when its upload completes.
            with target.open("w", encoding="utf-8") as fh:
                fh.write(text)


def _is_local(target: PathLike) -> bool:
    if isinstance(target, Path):
        return True
    protocol = getattr(target, "protocol", None)
    if isinstance(protocol, tuple | list):
        protocol = protocol[0] if protocol else None
    return protocol in ("file", "local") and hasattr(target, "replace")
