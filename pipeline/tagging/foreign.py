"""Texts not in English: entities from that language's spaCy model when one is installed, never claims
(the claim rules are English rules). Names go through the same alias table, so "Deutschland" stays its
own id but "NATO" in a German text is ``org:nato`` as anywhere else."""

from __future__ import annotations

from spacy.tokens import Doc

from pipeline.tagging import aliases
from pipeline.tagging.schema import Entity, Mention

# spaCy's label sets: OntoNotes (English-style) and WikiNER (PER/ORG/LOC/MISC in most news models)
LABELS = {"PER": "PERSON", "PERSON": "PERSON", "ORG": "ORG", "LOC": "LOC", "GPE": "GPE", "NORP": "NORP",
          "FAC": "FAC", "EVENT": "EVENT", "PRODUCT": "PRODUCT", "LAW": "LAW"}
_STRIP = " \t\n\r.,;:!?\"'“”«»„‘’()[]"


def entities_of(doc: Doc) -> list[Entity]:
    """One entity per id, mentions merged; MISC and other unmapped labels are left out."""
    merged: dict[str, Entity] = {}
    text = doc.text
    for ent in doc.ents:
        type_ = LABELS.get(ent.label_)
        if type_ is None:
            continue
        start, end = ent.start_char, ent.end_char
        while start < end and text[start] in _STRIP:
            start += 1
        while end > start and text[end - 1] in _STRIP:
            end -= 1
        name = text[start:end]
        if len(name) < 2 or not name[:1].isupper() or "\n" in name:
            continue
        table_id = aliases.canonical_id(name)
        if table_id is not None:
            entry = aliases.get_table().entries[table_id]
            eid, canonical, type_ = entry.id, entry.name, entry.type
        else:
            eid, canonical = aliases.entity_id(type_, name), name
        entity = merged.get(eid)
        if entity is None:
            entity = merged[eid] = Entity(id=eid, name=canonical, type=type_)  # type: ignore[arg-type]
        entity.mentions.append(Mention(start=start, end=end, text=name))
        if name != entity.name and name not in entity.aliases:
            entity.aliases.append(name)
    for entity in merged.values():
        entity.aliases.sort()
    return list(merged.values())
