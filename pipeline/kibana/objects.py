"""Kibana saved objects, defined in Python: data views, saved searches, visualizations and a dashboard.

`kibana/saved_objects.ndjson` is generated from these definitions (`newswatch kibana export`); a test
keeps the file current, and another checks that every field referenced here exists in the mappings.
Visualizations are aggregation-based (legacy) ones, which Kibana 8.x and 9.x import and migrate.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipeline.index.derive import flatten_properties
from pipeline.index.mappings import mapping_for
from pipeline.index.names import IndexNames

CORE_MIGRATION_VERSION = "8.8.0"
TYPE_MIGRATION_VERSION = {"index-pattern": "8.0.0", "search": "8.0.0", "visualization": "8.5.0",
                          "dashboard": "8.7.0"}
INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"


@dataclass
class FieldRef:
    """A field the saved objects use, with the index kind that must map it."""

    kind: str
    field: str
    used_by: str


@dataclass
class SavedObjects:
    objects: list[dict[str, Any]] = field(default_factory=list)
    fields: list[FieldRef] = field(default_factory=list)

    def use(self, kind: str, used_by: str, *names: str) -> None:
        self.fields.extend(FieldRef(kind, n, used_by) for n in names)


def _dv_id(names: IndexNames, kind: str) -> str:
    return f"{names.alias(kind)}-dataview"


def _feeds_fields() -> dict[str, str]:
    """Feed-state field names, picked from the feeds mapping (the poller's FeedState owns them)."""
    available = flatten_properties(mapping_for("feeds", english=False)["properties"])

    def pick(kind: str, *candidates: str) -> str:
        kinds = {"number": {"long", "integer", "short", "float"}}.get(kind, {kind})
        return next((c for c in candidates if available.get(c) in kinds), candidates[0])

    return {
        "time": pick("date", "last_polled_at", "last_poll_at", "last_polled", "updated_at", "next_poll_at"),
        "status": pick("keyword", "status", "health", "state"),
        "feed": pick("keyword", "feed_id", "id", "url"),
        "failures": pick("number", "consecutive_failures", "failures", "failure_count"),
    }


def _meta(query: str = "", filters: list[Any] | None = None, with_index: bool = True) -> dict[str, str]:
    source: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": filters or []}
    if with_index:
        source["indexRefName"] = INDEX_REF
    return {"searchSourceJSON": json.dumps(source, sort_keys=True)}


def _obj(type_: str, id_: str, attributes: dict[str, Any], references: list[dict[str, str]]) -> dict[str, Any]:
    return {"type": type_, "id": id_, "attributes": attributes, "references": references,
            "coreMigrationVersion": CORE_MIGRATION_VERSION, "typeMigrationVersion": TYPE_MIGRATION_VERSION[type_]}


def _index_ref(dv_id: str) -> list[dict[str, str]]:
    return [{"name": INDEX_REF, "type": "index-pattern", "id": dv_id}]


def _data_views(names: IndexNames, so: SavedObjects) -> None:
    feeds = _feeds_fields()
    views = {
        "articles": ("published_at", {"url": {"id": "url"}, "canonical_url": {"id": "url"},
                                      "word_count": {"id": "number", "params": {"pattern": "0,0"}}}),
        "claims": ("published_at", {"url": {"id": "url"},
                                    "checkworthiness": {"id": "percent", "params": {"pattern": "0%"}}}),
        "feeds": (feeds["time"], {}),
        "events": ("at", {"url": {"id": "url"}}),
    }
    for kind, (time_field, formats) in views.items():
        so.use(kind, f"data view {kind}", time_field, *formats)
        so.objects.append(_obj("index-pattern", _dv_id(names, kind), {
            "title": names.alias(kind), "name": f"newswatch {kind}", "timeFieldName": time_field,
            "fieldFormatMap": json.dumps(formats, sort_keys=True), "allowNoIndex": True,
        }, []))


def _saved_searches(names: IndexNames, so: SavedObjects) -> None:
    searches = [
        ("newswatch-claims-by-speaker", "claims", "Claims by speaker", "speaker.name : *",
         ["speaker.name", "text", "certainty.level", "title", "site"], "published_at",
         ["speaker.name"]),
        ("newswatch-low-certainty-claims", "claims", "Low-certainty claims", 'certainty.level : "low"',
         ["speaker.name", "text", "certainty.cues", "about_names", "title"], "published_at",
         ["certainty.level"]),
        ("newswatch-failed-fetches", "events", "Failed fetches", 'stage : "fetch" and not status : "ok"',
         ["status", "reason", "url", "feed_id", "http_status", "attempt"], "at", ["stage", "status"]),
    ]
    for id_, kind, title, query, columns, sort_field, query_fields in searches:
        so.use(kind, f"saved search {title!r}", *columns, sort_field, *query_fields)
        so.objects.append(_obj("search", id_, {
            "title": title, "description": f"newswatch: {title.lower()}", "columns": columns,
            "sort": [[sort_field, "desc"]], "grid": {}, "hideChart": False, "isTextBasedQuery": False,
            "kibanaSavedObjectMeta": _meta(query),
        }, _index_ref(_dv_id(names, kind))))


def _count() -> dict[str, Any]:
    return {"id": "1", "enabled": True, "type": "count", "params": {}, "schema": "metric"}


def _terms(field_name: str, size: int, schema: str = "segment", agg_id: str = "2") -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": "terms", "schema": schema,
            "params": {"field": field_name, "size": size, "order": "desc", "orderBy": "1",
                       "otherBucket": False, "missingBucket": False}}


def _vis(names: IndexNames, so: SavedObjects, id_: str, kind: str, title: str, vis_type: str,
         aggs: list[dict[str, Any]], params: dict[str, Any], query: str = "") -> str:
    for agg in aggs:
        if "field" in agg["params"]:
            so.use(kind, f"visualization {title!r}", agg["params"]["field"])
    state = {"title": title, "type": vis_type, "aggs": aggs, "params": {"type": vis_type, **params}}
    so.objects.append(_obj("visualization", id_, {
        "title": title, "description": "", "uiStateJSON": "{}", "version": 1,
        "visState": json.dumps(state, sort_keys=True), "kibanaSavedObjectMeta": _meta(query),
    }, _index_ref(_dv_id(names, kind))))
    return id_


def _visualizations(names: IndexNames, so: SavedObjects) -> list[str]:
    feeds = _feeds_fields()
    date_hist = {"id": "2", "enabled": True, "type": "date_histogram", "schema": "segment",
                 "params": {"field": "published_at", "interval": "auto", "min_doc_count": 1, "extended_bounds": {}}}
    pie = {"addTooltip": True, "addLegend": True, "legendPosition": "right", "isDonut": True}
    table = {"perPage": 10, "showPartialRows": False, "showMetricsAtAllLevels": False, "showTotal": False,
             "totalFunc": "sum", "percentageCol": ""}
    return [
        _vis(names, so, "newswatch-articles-over-time", "articles", "Articles over time", "histogram",
             [_count(), date_hist], {"addLegend": False, "addTimeMarker": False}),
        _vis(names, so, "newswatch-top-entities", "articles", "Top entities", "table",
             [_count(), _terms("entity_names", 20, "bucket")], table),
        _vis(names, so, "newswatch-top-speakers", "claims", "Top speakers", "table",
             [_count(), _terms("speaker.name.keyword", 20, "bucket")], table),
        _vis(names, so, "newswatch-claims-by-certainty", "claims", "Claims by certainty", "pie",
             [_count(), _terms("certainty.level", 3)], pie),
        _vis(names, so, "newswatch-largest-stories-today", "articles", "Largest stories of the day", "table",
             [{"id": "1", "enabled": True, "type": "max", "schema": "metric", "params": {"field": "story.size",
                                                                                        "customLabel": "Copies"}},
              {"id": "3", "enabled": True, "type": "cardinality", "schema": "metric",
               "params": {"field": "domain", "customLabel": "Outlets"}},
              {**_terms("story.first_url", 20, "bucket"), "params": {
                  **_terms("story.first_url", 20, "bucket")["params"], "customLabel": "Story (first copy seen)"}}],
             table, query="story.first_seen_at >= now-24h and story.size > 1"),
        _vis(names, so, "newswatch-feed-health", "feeds", "Feed health", "table",
             [{"id": "1", "enabled": True, "type": "max", "schema": "metric", "params": {"field": feeds["failures"]}},
              _terms(feeds["feed"], 50, "bucket"), _terms(feeds["status"], 5, "bucket", agg_id="3")], table),
        _vis(names, so, "newswatch-events-by-status", "events", "Failures by stage and status", "table",
             [_count(), _terms("stage", 10, "bucket"), _terms("status", 20, "bucket", agg_id="3")], table,
             query='not status : "ok"'),
    ]


def _dashboard(names: IndexNames, so: SavedObjects, vis_ids: list[str]) -> None:
    panels: list[dict[str, Any]] = []
    refs: list[dict[str, str]] = []
    for n, vis_id in enumerate(vis_ids):
        idx = str(n + 1)
        x, y = (0 if n % 2 == 0 else 24), (n // 2) * 15
        panels.append({"version": "8.7.0", "type": "visualization", "panelIndex": idx,
                       "gridData": {"x": x, "y": y, "w": 24, "h": 15, "i": idx},
                       "embeddableConfig": {"enhancements": {}}, "panelRefName": f"panel_{idx}"})
        refs.append({"name": f"{idx}:panel_{idx}", "type": "visualization", "id": vis_id})
    so.objects.append(_obj("dashboard", "newswatch-overview", {
        "title": "newswatch overview",
        "description": "Articles over time, top entities and speakers, claims by certainty, the largest stories "
                       "of the day, feed health",
        "panelsJSON": json.dumps(panels, sort_keys=True),
        "optionsJSON": json.dumps({"useMargins": True, "syncColors": False, "hidePanelTitles": False}),
        "timeRestore": True, "timeFrom": "now-30d", "timeTo": "now", "refreshInterval": {"pause": True, "value": 0},
        "kibanaSavedObjectMeta": _meta(with_index=False),
    }, refs))


def build_saved_objects(prefix: str = "newswatch") -> SavedObjects:
    names = IndexNames(prefix)
    so = SavedObjects()
    _data_views(names, so)
    _saved_searches(names, so)
    _dashboard(names, so, _visualizations(names, so))
    return so


def to_ndjson(so: SavedObjects) -> str:
    return "".join(json.dumps(obj, sort_keys=True, ensure_ascii=False) + "\n" for obj in so.objects)


def missing_fields(so: SavedObjects, english: bool = False) -> list[str]:
    """Fields the saved objects use that the derived mappings lack: '<kind>.<field> (used by ...)'."""
    out: list[str] = []
    for ref in so.fields:
        mapped = flatten_properties(mapping_for(ref.kind, english)["properties"])
        if ref.field not in mapped:
            out.append(f"{ref.kind}: {ref.field} (used by {ref.used_by})")
    return out
