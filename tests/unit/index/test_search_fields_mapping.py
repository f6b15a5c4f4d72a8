"""The search-only fields (copy_to targets) and the English subfields the search relies on."""

from __future__ import annotations

from pipeline.index.derive import flatten_properties
from pipeline.index.documents import article_document, claim_documents
from pipeline.index.mappings import CLAIM_TEXT, ENTITY_TEXT, mapping_for
from pipeline.index.synthetic import ClaimSpec, EntitySpec, tagged_article


def test_entity_names_and_claim_text_are_copied_to_flat_text_fields():
    props = mapping_for("articles", english=True)["properties"]
    assert props["entity_names"]["type"] == props["entity_aliases"]["type"] == "keyword"  # facets stay keywords
    assert props["entity_names"]["copy_to"] == props["entity_aliases"]["copy_to"] == [ENTITY_TEXT]
    assert props["claims"]["properties"]["text"]["copy_to"] == [CLAIM_TEXT]
    assert props[ENTITY_TEXT] == {"type": "text", "analyzer": "standard"}
    assert props[CLAIM_TEXT]["fields"]["english"]["analyzer"] == "english"
    claims = mapping_for("claims", english=True)["properties"]
    assert claims["about_names"]["copy_to"] == [ENTITY_TEXT] and claims[ENTITY_TEXT]["type"] == "text"


def test_copy_to_targets_are_never_in_the_documents():
    ns = EntitySpec("person:jens-stoltenberg", "Jens Stoltenberg", "PERSON")
    tagged = tagged_article("https://example.org/a", '"We will respond," Jens Stoltenberg said.', entities=[ns],
                            claims=[ClaimSpec("We will respond", speaker=ns)])
    assert ENTITY_TEXT not in article_document(tagged) and CLAIM_TEXT not in article_document(tagged)
    assert all(ENTITY_TEXT not in doc for _, doc in claim_documents(tagged))


def test_english_subfields_on_prose_not_on_names():
    flat = flatten_properties(mapping_for("articles", english=True)["properties"])
    for field in ("title", "text", "summary", "description", "claims.text", CLAIM_TEXT):
        assert flat[f"{field}.english"] == "text", field
    for field in ("entities.name", "claims.speaker.name", ENTITY_TEXT):
        assert f"{field}.english" not in flat, field
    plain = flatten_properties(mapping_for("articles", english=False)["properties"])
    assert not [f for f in plain if f.endswith(".english")]
    assert mapping_for("articles", english=True)["properties"]["text"]["fields"]["english"] == {
        "type": "text", "analyzer": "english"}
