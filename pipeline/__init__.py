"""newswatch: feeds -> articles -> claims and entities -> Elasticsearch."""

__version__ = "0.1.0"
