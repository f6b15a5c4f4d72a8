"""Shared fixtures. Elasticsearch comes from NEWSWATCH_ES_URL when set, else the embedded dev node."""
