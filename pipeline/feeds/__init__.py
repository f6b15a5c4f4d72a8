"""Feeds: the feed list (catalog), per-feed state, parsing, polling and scheduling."""
