"""Watchlists and alerts: a watch is a saved search with a target; new matches are delivered once.

    model      Watch (name, search, target, mode) and the records of the deliveries index
    mapping    the index mappings of watches and deliveries, derived from the models
    store      WatchStore: watches in `<prefix>-watches` (add, list, pause, leases)
    evaluate   every active watch against what was indexed since its high-water mark (batched _msearch of
               ids only; snapshots and highlights are fetched for what a message shows)
    ledger     exactly-once bookkeeping in `<prefix>-deliveries`: matches, deliveries, idempotency keys
    render     the message: title, outlet, speaker, certainty, highlighted claim, link, "and N more"
    deliver    webhook (JSON POST, Slack-compatible `text`) and SMTP e-mail, with retries and backoff
    run        what the news_alerts DAG and the CLI call: evaluate_watches, deliver_watches, preview

Import the submodules; the package itself imports nothing (pipeline.index.mappings imports `mapping`).
See docs/alerts.md.
"""
