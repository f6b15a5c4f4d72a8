"""Search articles and claims by text, entity, speaker, certainty, site and date."""

from pipeline.search.api import ArticleHit, Bucket, ClaimHit, SearchResponse, search
from pipeline.search.query import SearchError, SearchQuery

__all__ = ["ArticleHit", "Bucket", "ClaimHit", "SearchError", "SearchQuery", "SearchResponse", "search"]
