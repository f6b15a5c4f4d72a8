"""The Airflow side of newswatch: the one adapter from Airflow configuration (Connection, Variables)
to `pipeline.config.Settings`, and the spool root. DAG files import this lazily, inside tasks.

Lives in plugins/ because Airflow puts that folder on sys.path for the scheduler, the workers and
the API server, and `pipeline/` must not import Airflow.
"""

from newswatch_airflow.config import (
    ES_CONN_ID,
    SETTINGS_VARIABLE,
    es_overrides_from_connection,
    settings_from_airflow,
    spool_from_settings,
)

__all__ = [
    "ES_CONN_ID",
    "SETTINGS_VARIABLE",
    "es_overrides_from_connection",
    "settings_from_airflow",
    "spool_from_settings",
]
