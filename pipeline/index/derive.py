"""Derive Elasticsearch mapping properties from pydantic models, so the records stay the one source of truth.

Python type -> field type: str/Literal/StrEnum -> keyword, int -> long, float -> float, bool -> boolean,
datetime/date -> date, BaseModel -> object (or nested when its path is listed), list[X] -> X,
dict -> object whose values become keywords. Text fields are chosen by path, not guessed.
"""

from __future__ import annotations

import types
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

KEYWORD = {"type": "keyword", "ignore_above": 1024}


def text_field(english: bool, keyword: bool = False, offsets: bool = False) -> dict[str, Any]:
    """A text field; `offsets` stores term offsets so highlighting long bodies does not re-analyse them."""
    spec: dict[str, Any] = {"type": "text", "analyzer": "standard"}
    if offsets:
        spec["index_options"] = "offsets"
    sub: dict[str, Any] = {}
    if english:
        sub["english"] = {"type": "text", "analyzer": "english"}
    if keyword:
        sub["keyword"] = {"type": "keyword", "ignore_above": 512}
    if sub:
        spec["fields"] = sub
    return spec


def _strip_optional(annotation: Any) -> Any:
    origin = get_origin(annotation)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _strip_optional(args[0])
        return args  # a real union: handled by the caller
    return annotation


def _scalar(annotation: Any) -> dict[str, Any] | None:
    if annotation is bool:
        return {"type": "boolean"}
    if annotation is int:
        return {"type": "long"}
    if annotation is float:
        return {"type": "float"}
    if annotation in (datetime, date):
        return {"type": "date"}
    if annotation is str:
        return dict(KEYWORD)
    if get_origin(annotation) is Literal:
        return dict(KEYWORD)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return dict(KEYWORD)
    return None


def field_mapping(annotation: Any, path: str, *, text: dict[str, dict[str, Any]], nested: set[str],
                  overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    if path in overrides:
        return overrides[path]
    annotation = _strip_optional(annotation)
    if isinstance(annotation, list):  # union of several types, e.g. str | int | float
        return dict(KEYWORD)
    if get_origin(annotation) in (list, tuple, set, frozenset):
        (inner, *_) = get_args(annotation) or (str,)
        return field_mapping(inner, path, text=text, nested=nested, overrides=overrides)
    if path in text:
        return text[path]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        spec: dict[str, Any] = {"properties": model_properties(annotation, prefix=path, text=text,
                                                              nested=nested, overrides=overrides)}
        spec["type"] = "nested" if path in nested else "object"
        return spec
    if get_origin(annotation) is dict or annotation is dict:
        return {"type": "object", "dynamic": True}
    scalar = _scalar(annotation)
    if scalar is None:
        raise TypeError(f"no mapping rule for field {path!r} of type {annotation!r}")
    return scalar


def model_properties(model: type[BaseModel], *, prefix: str = "", text: dict[str, dict[str, Any]] | None = None,
                     nested: set[str] | None = None, overrides: dict[str, dict[str, Any]] | None = None,
                     exclude: set[str] | None = None) -> dict[str, Any]:
    """Mapping `properties` for `model`; paths in text/nested/overrides/exclude are dotted, e.g. "claims.text"."""
    text = text or {}
    nested = nested or set()
    overrides = overrides or {}
    exclude = exclude or set()
    props: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        path = f"{prefix}.{name}" if prefix else name
        if path in exclude:
            continue
        props[name] = field_mapping(info.annotation, path, text=text, nested=nested, overrides=overrides)
    return props


def flatten_properties(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """{"claims.speaker.name": "text", "claims.speaker.name.keyword": "keyword", ...} for drift checks."""
    out: dict[str, str] = {}
    for name, spec in properties.items():
        path = f"{prefix}{name}"
        kind = spec.get("type", "object")
        out[path] = kind
        if "properties" in spec:
            out.update(flatten_properties(spec["properties"], prefix=f"{path}."))
        for sub, sub_spec in spec.get("fields", {}).items():
            out[f"{path}.{sub}"] = sub_spec.get("type", "object")
    return out
