"""Read-side queries for the operators' pages (the Airflow plugin's Feed health and feed detail).

    feeds    feed states filtered, sorted and paged, with counts per health class; one feed's
             state, recent failure events and recent articles
    volume   articles and failures per hour over a window, and failures by reason per hour
    claims   what a claim search hit does not carry (its feeds, the words naming an unresolved speaker)
    labels   readable names for statuses, stages, claim kinds and durations
    run      one `_msearch` round trip for a page's queries

Request builders and parsers are pure functions (unit-testable without a cluster); a page sends its
queries together through `run.msearch`. Nothing here imports Airflow.
"""
