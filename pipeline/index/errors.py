"""Exceptions raised by the index layer. Per-item problems are values (IndexReport), never these.

    IndexLayerError
    ├── ClusterUnavailable   the cluster cannot be reached (retryable: the caller keeps its batch)
    ├── IndexSetupError      templates/aliases could not be created or are inconsistent
    └── MigrationError       a migration could not complete (the alias was not flipped)
"""

from __future__ import annotations


class IndexLayerError(Exception):
    """Base class for index-layer errors."""


class ClusterUnavailable(IndexLayerError):
    """Raised by the writer, setup and search when Elasticsearch does not answer.

    Retryable. Nothing has been dropped: ids are deterministic, so the caller re-sends the whole batch
    later; `indexed_ids` lists what the cluster had acknowledged before it went away.
    """

    retryable = True

    def __init__(self, message: str, *, url: str | None = None, indexed_ids: list[str] | None = None,
                 pending_ids: list[str] | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.indexed_ids = list(indexed_ids or [])
        self.pending_ids = list(pending_ids or [])


class IndexSetupError(IndexLayerError):
    """Raised by ensure_indices when the cluster refuses a template, index or alias."""


class MigrationError(IndexLayerError):
    """Raised by migrate when the copy fails or counts disagree; the alias stays on the old index."""
