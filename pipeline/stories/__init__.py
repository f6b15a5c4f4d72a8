"""Stories: near-duplicate copies of one article (syndicated, trimmed, re-templated) grouped at ingest."""
