"""The operator pages of the plugin app, one module per page (see newswatch_airflow.web)."""
