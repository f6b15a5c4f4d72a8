"""Elasticsearch indices: names and templates (`names`, `mappings`, `setup`), the bulk writer
(`writer`), migrations and status. Import the submodules; the package itself imports nothing, so
no module pays for (or cycles through) the others."""
