"""Elasticsearch indices: templates and aliases (setup), the bulk writer, migrations and status."""

from pipeline.index.errors import ClusterUnavailable, IndexSetupError, MigrationError
from pipeline.index.names import KINDS, IndexNames
from pipeline.index.setup import ensure_indices, setup_indices
from pipeline.index.writer import IndexReport, IndexWriter, ItemResult, existing_article_ids, record_events

__all__ = [
    "KINDS",
    "ClusterUnavailable",
    "IndexNames",
    "IndexReport",
    "IndexSetupError",
    "IndexWriter",
    "ItemResult",
    "MigrationError",
    "ensure_indices",
    "existing_article_ids",
    "record_events",
    "setup_indices",
]
