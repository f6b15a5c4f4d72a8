"""The shipped alias table: one stable id per real-world entity, across documents.

``canonical_id("DPRK") == canonical_id("North Korea") == "gpe:north-korea"``. Ids are
``<type>:<slug of canonical name>``; names not in the table get the same shape from their own
name (``entity_id("PERSON", "Jane Doe") == "person:jane-doe"``), so search can build ids too.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources

import yaml

ID_TYPES = ("PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "LAW", "FAC", "PRODUCT")
_SECTION_TYPES = {
    "countries": "GPE", "regions": "LOC", "organisations": "ORG", "platforms": "ORG", "people": "PERSON", "us_states": "GPE",
}


def slugify(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")


def entity_id(type_: str, name: str) -> str:
    return f"{type_.lower()}:{slugify(name)}"


@functools.lru_cache(maxsize=65536)
def normalize_key(name: str) -> str:
    """Lookup key: case, dots, hyphens, quotes, a leading "the" and a trailing possessive ignored."""
    text = unicodedata.normalize("NFKC", name).replace("’", "'").replace("‘", "'").strip()
    text = re.sub(r"'s?$", "", text)
    text = text.lower().replace(".", "").replace("-", " ").replace("–", " ")
    text = re.sub(r"\s+", " ", text).strip()
    if text.startswith("the "):
        text = text[4:]
    return text


@dataclass(frozen=True)
class AliasEntry:
    id: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    context_aliases: tuple[str, ...] = ()


@dataclass
class AliasTable:
    entries: dict[str, AliasEntry] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)
    context_keys: dict[str, str] = field(default_factory=dict)
    stands_for: dict[str, str] = field(default_factory=dict)  # metonym id -> state id

    def add(self, entry: AliasEntry) -> None:
        self.entries[entry.id] = entry
        for name in (entry.name, *entry.aliases):
            self.by_key.setdefault(normalize_key(name), entry.id)
        for name in entry.context_aliases:
            self.context_keys.setdefault(normalize_key(name), entry.id)

    def lookup(self, name: str) -> AliasEntry | None:
        entry_id = self.by_key.get(normalize_key(name))
        return self.entries[entry_id] if entry_id else None

    def surface_names(self) -> list[str]:
        names: list[str] = []
        for entry in self.entries.values():
            names.extend((entry.name, *entry.aliases))
        return names


def _load_table(raw: dict) -> AliasTable:
    table = AliasTable()
    for section, default_type in _SECTION_TYPES.items():
        for item in raw.get(section) or []:
            type_ = item.get("type", default_type)
            name = item["name"]
            entry = AliasEntry(
                id=entity_id(type_, name),
                name=name,
                type=type_,
                aliases=tuple(item.get("aliases") or ()),
                context_aliases=tuple(item.get("context_aliases") or ()),
            )
            table.add(entry)
            capital = item.get("capital")
            metonyms = list(item.get("metonyms") or ())
            if capital:
                cap = AliasEntry(id=entity_id("GPE", capital), name=capital, type="GPE")
                table.add(cap)
                table.stands_for[cap.id] = entry.id
            for metonym in metonyms:
                met_type = "FAC" if "kremlin" in metonym.lower() or "street" in metonym.lower() else "GPE"
                met = AliasEntry(id=entity_id(met_type, metonym.removeprefix("the ")), name=metonym.removeprefix("the "), type=met_type)
                if normalize_key(metonym) not in table.by_key:
                    table.add(met)
                table.stands_for[table.by_key[normalize_key(metonym)]] = entry.id
    return table


@functools.lru_cache(maxsize=1)
def get_table() -> AliasTable:
    text = resources.files("pipeline.tagging").joinpath("data/aliases.yaml").read_text(encoding="utf-8")
    return _load_table(yaml.safe_load(text))


def canonical_id(name: str, type: str | None = None) -> str | None:  # noqa: A002 - agreed signature
    """The table id for ``name`` (any listed alias), or None when the table does not know it.

    With ``type`` given, a table entry of another type is still returned for GPE/LOC/ORG
    confusions NER makes ("DPRK" tagged ORG is still North Korea); PERSON never matches a place.
    """
    entry = get_table().lookup(name)
    if entry is None:
        return None
    if type is not None and (type == "PERSON") != (entry.type == "PERSON"):
        return None
    return entry.id


def stands_for(entity_id_: str) -> str | None:
    """For a capital or seat of power ("gpe:moscow", "fac:kremlin"), the state it can stand for."""
    return get_table().stands_for.get(entity_id_)


def ids_for_query(name: str) -> list[str]:
    """Entity ids a search for ``name`` should match.

    A name in the table gives its one canonical id. Otherwise the ids the tagger would mint for
    that name under each entity type (the tagger uses ``<type>:<slug>`` for unknown names).
    """
    if not name or not name.strip():
        return []
    known = canonical_id(name)
    if known:
        return [known]
    slug = slugify(name.strip())
    if not slug:
        return []
    return [f"{t.lower()}:{slug}" for t in ("PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "EVENT", "LAW", "PRODUCT")]
