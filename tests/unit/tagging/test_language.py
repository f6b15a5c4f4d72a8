"""Language: detected from the text; English claim rules on English only; other languages get entities
from their own model when one is installed, never claims, and the reason is recorded."""

import pytest
import spacy

from pipeline.tagging import language
from pipeline.tagging import tagger as tagger_module
from pipeline.tagging.language import detect

GERMAN = ("Der Bürgermeister von Hamburg sagte am Montag, die neue Brücke werde im Juni eröffnet. "
          "Die Stadt rechnet mit Kosten von 40 Millionen Euro, teilte die Verwaltung mit.")
FRENCH = ("Le maire de Lyon a déclaré lundi que le nouveau pont ouvrira en juin. La ville prévoit "
          "un coût de 40 millions d'euros, selon un communiqué de la mairie.")
ENGLISH = "The mayor of Hamburg said on Monday that the new bridge would open in June, at a cost of 40 million euros."


@pytest.mark.parametrize(("text", "code"), [(ENGLISH, "en"), (GERMAN, "de"), (FRENCH, "fr")])
def test_detects_the_language_of_the_text(text, code):
    found = detect(text)
    assert found.code == code and found.confidence >= language.MIN_CONFIDENCE and found.detector


def test_too_little_text_is_undetermined():
    assert detect("OK 42").code is None and detect("").code is None


def test_english_text_is_tagged_and_records_its_language(tagger):
    r = tagger.tag(ENGLISH)
    assert r.tagger.language == "en" and r.tagger.claims_skipped is None and r.claims


def test_other_languages_get_no_claims_and_the_reason(tagger, monkeypatch):
    monkeypatch.setattr(tagger_module, "load_foreign_nlp", lambda lang: None)
    r = tagger.tag(GERMAN)
    assert r.tagger.language == "de" and r.claims == [] and r.entities == []
    assert "English only" in r.tagger.claims_skipped and "no spaCy model" in r.tagger.entities_skipped


def test_entities_from_the_languages_own_model(tagger, monkeypatch):
    nlp = spacy.blank("de")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "LOC", "pattern": "Hamburg"}, {"label": "MISC", "pattern": "Euro"}])
    monkeypatch.setattr(tagger_module, "load_foreign_nlp", lambda lang: nlp if lang == "de" else None)
    r = tagger.tag(GERMAN)
    assert [(e.id, e.type) for e in r.entities] == [("loc:hamburg", "LOC")]  # MISC is left out
    assert r.claims == [] and r.tagger.entities_skipped is None and r.tagger.claims_skipped


def test_tag_many_keeps_order_across_languages(tagger, monkeypatch):
    monkeypatch.setattr(tagger_module, "load_foreign_nlp", lambda lang: None)
    results = tagger.tag_many([GERMAN, ENGLISH, FRENCH, ENGLISH])
    assert [r.tagger.language for r in results] == ["de", "en", "fr", "en"]
    assert [bool(r.claims) for r in results] == [False, True, False, True]


def test_falls_back_to_the_stopword_vote_without_py3langid(monkeypatch):
    monkeypatch.setattr(language, "_identifier", lambda: None)
    found = detect(GERMAN)
    assert found.code == "de" and found.detector == "stopwords"
