"""Stage composition for the orchestrator: one plain function per DAG task (no Airflow imports).

`ingest` runs the feed -> index pipeline over spooled batches, `reprocess` re-tags stored articles,
`feeds` loads feed configuration into feed state. Each takes Settings and small manifests and
returns small manifests, so tasks pass only ids, keys and counts through XCom. `extract_tag` does the
CPU-bound part of a chunk, here or in the worker processes of `workers` (entry point: `worker`).
"""
