"""The on-disk site format (documented in the package docstring) and its in-memory model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class SiteError(ValueError):
    """Raised by load_site when site.yaml is missing or invalid; the message names the entry."""


class ItemSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    slug: str
    title: str
    published: datetime = Field(default_factory=lambda: datetime.now(UTC))
    author: str | None = None
    summary: str | None = None
    body: str | None = None
    file: str | None = None
    html: str | None = None  # resolved page (from `file`), filled by load_site
    guid: str | None = None
    link: str | None = None  # absolute link overriding /articles/<slug>.html (hostile fixtures)

    @model_validator(mode="after")
    def _needs_content(self) -> ItemSpec:
        if self.body is None and self.file is None and self.html is None and self.link is None:
            raise ValueError("item needs `body` or `file`")
        if self.published.tzinfo is None:
            self.published = self.published.replace(tzinfo=UTC)
        return self


class FeedSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    title: str = ""
    format: Literal["rss", "atom"] = "rss"
    language: str = "en"
    ttl: int | None = None
    description: str = ""
    items: list[ItemSpec] = Field(default_factory=list)


class SiteSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "Simulated News"
    robots: str | None = None
    feeds: list[FeedSpec] = Field(default_factory=list)
    behaviours: dict[str, dict[str, Any]] = Field(default_factory=dict)


def load_site(site_dir: str | Path) -> SiteSpec:
    root = Path(site_dir)
    path = root / "site.yaml"
    if not path.is_file():
        raise SiteError(f"{path}: not found")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SiteError(f"{path}: invalid YAML: {exc}") from exc
    try:
        site = SiteSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise SiteError(f"{path}: {problems}") from exc
    for feed in site.feeds:
        for item in feed.items:
            if item.file:
                page = (root / item.file).resolve()
                if root.resolve() not in page.parents or not page.is_file():
                    raise SiteError(f"{path}: feed {feed.id!r} item {item.slug!r}: file {item.file!r} not found")
                item.html = page.read_text(encoding="utf-8")
    return site
