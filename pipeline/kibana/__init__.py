"""Kibana assets: saved objects defined in Python, exported to kibana/saved_objects.ndjson, imported via the API."""

from pipeline.kibana.client import ImportResult, KibanaImportError, import_saved_objects
from pipeline.kibana.objects import build_saved_objects, missing_fields, to_ndjson

__all__ = ["ImportResult", "KibanaImportError", "build_saved_objects", "import_saved_objects", "missing_fields",
           "to_ndjson"]
