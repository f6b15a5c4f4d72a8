"""The feed list: `seeds/feeds.yaml` and OPML. A bad entry gives an error naming the entry and the
field, and every other feed still loads."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.urls import is_http_url

DEFAULT_MIN_INTERVAL = 300  # seconds
DEFAULT_MAX_INTERVAL = 6 * 3600
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(value: Any) -> int:
    """Seconds from an int or a string like '90', '15m', '2h', '1d'."""
    if isinstance(value, bool):
        raise ValueError("must be a number of seconds or a duration like '15m'")
    if isinstance(value, int | float):
        seconds = int(value)
    else:
        m = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", str(value))
        if not m:
            raise ValueError(f"invalid duration {value!r} (use seconds or e.g. '15m', '2h')")
        seconds = int(m.group(1)) * _UNITS[m.group(2) or "s"]
    if seconds <= 0:
        raise ValueError("must be positive")
    return seconds


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:64] or "feed"


class FeedConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,99}$")
    name: str = Field(min_length=1)
    url: str
    language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
    tags: list[str] = Field(default_factory=list)
    enabled: bool = True
    min_interval: int = DEFAULT_MIN_INTERVAL
    max_interval: int = DEFAULT_MAX_INTERVAL

    @field_validator("url")
    @classmethod
    def _http_url(cls, v: str) -> str:
        v = v.strip()
        if not is_http_url(v):
            raise ValueError("must be an http(s) URL")
        return v

    @field_validator("min_interval", "max_interval", mode="before")
    @classmethod
    def _interval(cls, v: Any) -> int:
        return parse_interval(v)

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v: Any) -> list[str]:
        if isinstance(v, str):
            v = [t for t in re.split(r"[,/]", v)]
        if not isinstance(v, list) or not all(isinstance(t, str) for t in v):
            raise ValueError("must be a list of strings")
        return [t.strip().lower() for t in v if t.strip()]

    @model_validator(mode="after")
    def _bounds(self) -> FeedConfig:
        if self.min_interval > self.max_interval:
            raise ValueError(f"min_interval ({self.min_interval}s) exceeds max_interval ({self.max_interval}s)")
        return self


@dataclass(frozen=True)
class FeedError:
    entry: str  # "#3 (bbc-world)": position and id/name as written
    field: str  # "url", "min_interval", "(entry)" for whole-entry problems
    message: str

    def __str__(self) -> str:
        return f"feed {self.entry}: {self.field}: {self.message}"


@dataclass
class FeedLoad:
    feeds: list[FeedConfig] = field(default_factory=list)
    errors: list[FeedError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _label(i: int, raw: Any) -> str:
    if isinstance(raw, dict):
        name = raw.get("id") or raw.get("name") or raw.get("url")
        if name:
            return f"#{i + 1} ({name})"
    return f"#{i + 1}"


def validate_entries(raws: Iterable[Any]) -> FeedLoad:
    load = FeedLoad()
    ids: set[str] = set()
    urls: set[str] = set()
    for i, raw in enumerate(raws):
        label = _label(i, raw)
        if not isinstance(raw, dict):
            load.errors.append(FeedError(label, "(entry)", "must be a mapping"))
            continue
        data = dict(raw)
        if not data.get("id") and isinstance(data.get("name"), str):
            data["id"] = slugify(data["name"])
        try:
            feed = FeedConfig.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "(entry)"
                load.errors.append(FeedError(label, where, err["msg"].removeprefix("Value error, ")))
            continue
        if feed.id in ids:
            load.errors.append(FeedError(label, "id", f"duplicate id {feed.id!r}"))
            continue
        if feed.url in urls:
            load.errors.append(FeedError(label, "url", f"duplicate url {feed.url!r}"))
            continue
        ids.add(feed.id)
        urls.add(feed.url)
        load.feeds.append(feed)
    return load


def load_feeds(path: str | Path) -> FeedLoad:
    """Feeds from a YAML file (`feeds:` list, or a bare list)."""
    p = Path(path)
    try:
        raw = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        return FeedLoad(errors=[FeedError(str(p), "(file)", f"cannot read: {exc.strerror or exc}")])
    except yaml.YAMLError as exc:
        return FeedLoad(errors=[FeedError(str(p), "(file)", f"invalid YAML: {exc}")])
    if isinstance(raw, dict):
        raw = raw.get("feeds")
    if raw is None:
        return FeedLoad()
    if not isinstance(raw, list):
        return FeedLoad(errors=[FeedError(str(p), "feeds", "must be a list of feed entries")])
    return validate_entries(raw)


def dump_feeds_yaml(feeds: Sequence[FeedConfig]) -> str:
    rows = []
    for f in feeds:
        row: dict[str, Any] = {"id": f.id, "name": f.name, "url": f.url}
        if f.language:
            row["language"] = f.language
        row["tags"] = list(f.tags)
        row["enabled"] = f.enabled
        if f.min_interval != DEFAULT_MIN_INTERVAL:
            row["min_interval"] = f.min_interval
        if f.max_interval != DEFAULT_MAX_INTERVAL:
            row["max_interval"] = f.max_interval
        rows.append(row)
    return yaml.safe_dump({"feeds": rows}, sort_keys=False, allow_unicode=True, width=120)


def merge_feeds(existing: Sequence[FeedConfig], new: Sequence[FeedConfig]) -> tuple[list[FeedConfig], int]:
    """Existing feeds plus those in `new` whose id and url are unseen; (merged, number added)."""
    ids = {f.id for f in existing}
    urls = {f.url for f in existing}
    merged = list(existing)
    for f in new:
        if f.id in ids or f.url in urls:
            continue
        merged.append(f)
        ids.add(f.id)
        urls.add(f.url)
    return merged, len(merged) - len(existing)


# OPML ------------------------------------------------------------------------------------------

def import_opml(source: str | Path) -> FeedLoad:
    """Feeds from an OPML file path or OPML text. Folder outlines become tags."""
    text = source if isinstance(source, str) and source.lstrip().startswith("<") else None
    label = "OPML"
    if text is None:
        label = str(source)
        try:
            text = Path(source).read_text(encoding="utf-8")
        except OSError as exc:
            return FeedLoad(errors=[FeedError(label, "(file)", f"cannot read: {exc.strerror or exc}")])
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        return FeedLoad(errors=[FeedError(label, "(file)", "DOCTYPE/ENTITY declarations are not accepted")])
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return FeedLoad(errors=[FeedError(label, "(file)", f"invalid OPML: {exc}")])
    body = root.find("body")
    if root.tag != "opml" or body is None:
        return FeedLoad(errors=[FeedError(label, "(file)", "not an OPML document (no <opml><body>)")])
    raws: list[dict[str, Any]] = []

    def walk(node: ET.Element, folders: list[str]) -> None:
        for outline in node.findall("outline"):
            a = outline.attrib
            url = a.get("xmlUrl") or a.get("xmlurl")
            if url:
                tags = list(folders)
                for cat in (a.get("category") or "").split(","):
                    tags += [t for t in cat.split("/") if t.strip()]
                raw: dict[str, Any] = {"name": a.get("title") or a.get("text") or url, "url": url,
                                       "tags": list(dict.fromkeys(t.strip().lower() for t in tags))}
                if a.get("language"):
                    raw["language"] = a["language"].lower()
                if a.get("id"):
                    raw["id"] = a["id"]
                if a.get("isComment") == "true":
                    raw["enabled"] = False
                raws.append(raw)
            else:
                folder = a.get("text") or a.get("title")
                walk(outline, folders + ([folder] if folder else []))

    walk(body, [])
    return validate_entries(raws)


def export_opml(feeds: Sequence[FeedConfig], title: str = "newswatch feeds") -> str:
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for f in feeds:
        attrs = {"type": "rss", "text": f.name, "title": f.name, "xmlUrl": f.url, "id": f.id}
        if f.language:
            attrs["language"] = f.language
        if f.tags:
            attrs["category"] = ",".join(f.tags)
        if not f.enabled:
            attrs["isComment"] = "true"
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
