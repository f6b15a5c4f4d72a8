"""Mappings of `<prefix>-watches` and `<prefix>-deliveries`, derived from the records in
pipeline.alerts.model the way pipeline.index.mappings derives the others (registered there in PROPERTIES).

The deliveries index holds both AlertMatch and Delivery records (`record` tells them apart), so its
mapping is the union of both models' fields.
"""

from __future__ import annotations

from typing import Any

from pipeline.alerts.model import AlertMatch, Delivery, Watch
from pipeline.index.derive import model_properties, text_field

_STORED_ONLY = {"type": "text", "index": False}
_NOT_INDEXED = {"type": "object", "enabled": False}  # kept in _source for re-sends, never searched


def watches_properties(english: bool) -> dict[str, Any]:
    reason = text_field(english=False, keyword=True)
    return model_properties(Watch, text={"description": text_field(english=False), "paused_reason": reason,
                                         "state.last_error": reason})


def deliveries_properties(english: bool) -> dict[str, Any]:
    text = {"item.title": text_field(english=False, keyword=True), "item.text": text_field(english=False),
            "last_error": text_field(english=False, keyword=True)}
    props = model_properties(AlertMatch, text=text, overrides={"item.highlighted": _STORED_ONLY})
    for name, spec in model_properties(Delivery, text=text, overrides={"shown": _NOT_INDEXED}).items():
        if props.setdefault(name, spec) != spec:
            raise TypeError(f"AlertMatch and Delivery map {name!r} differently")
    return props
