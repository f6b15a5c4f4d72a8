"""Query understanding without a cluster: entity spans from the alias table, their other names, stop words,
and which queries are Lucene syntax."""

from __future__ import annotations

import pytest

from pipeline.search.concepts import concepts, entity_ids, expansion_forms, has_syntax, words


def _pairs(text: str) -> list[tuple[str, str | None]]:
    return [(c.text, c.entity_id) for c in concepts(text)]


def test_alias_table_names_become_entity_concepts_with_their_other_names():
    dprk, missile = concepts("DPRK missile launches")[:2]
    assert (dprk.text, dprk.entity_id) == ("DPRK", "gpe:north-korea")
    assert dprk.forms[0] == "DPRK" and "North Korea" in dprk.forms
    assert (missile.text, missile.entity_id, missile.forms) == ("missile", None, ())
    # the longest name wins, case and a possessive do not matter
    assert _pairs("elections in North Korea's capital") == [
        ("elections", None), ("North Korea's", "gpe:north-korea"), ("capital", None)]
    assert _pairs("united states sanctions on russia") == [
        ("united states", "gpe:united-states"), ("sanctions", None), ("russia", "gpe:russia")]
    assert entity_ids(concepts("U.S. tariffs on China")) == {"U.S": "gpe:united-states", "China": "gpe:china"}


def test_stop_words_are_not_concepts_and_never_names():
    assert _pairs("what did the minister say about the budget") == [("minister", None), ("say", None),
                                                                     ("budget", None)]
    # a pronoun is not the United States, a question word is not the World Health Organization
    assert _pairs("tell us who won") == [("tell", None), ("won", None)]
    assert _pairs("US and WHO") == [("US", "gpe:united-states"), ("WHO", "org:world-health-organization")]
    # "the" before a name is not part of it; a short lower-case word is not an acronym
    assert _pairs("the UN vote") == [("UN", "org:united-nations"), ("vote", None)]
    assert _pairs("fed up") == [("fed", None)]
    # only stop words: every word counts
    assert _pairs("The Who") == [("The", None), ("Who", None)]


def test_expansion_forms_skip_common_words_and_duplicates():
    forms = expansion_forms("US", ("United States", "U.S.", "US", "USA", "America", "the States"))
    assert forms == ("United States", "U.S.", "USA")  # "us" is a pronoun, "America" also Latin America
    assert expansion_forms("North Korea", ("North Korea", "DPRK")) == ("North Korea", "DPRK")
    # what the user typed is looked for even when it is an everyday word; a stop word never
    assert expansion_forms("Congress", ("U.S. Congress", "Congress")) == ("Congress", "U.S. Congress")
    assert expansion_forms("WHO", ("World Health Organization", "WHO")) == ("World Health Organization",)


@pytest.mark.parametrize("text", ['"north korea"', "shells AND russia", "title:sanctions", "sanction*", "te?t",
                                  "(a OR b)", "-farm", "+farm", "price:[1 TO 5]", "boost^2", "fuzzy~",
                                  "/regex/", "<b>x</b>", "https://example.org/x"])
def test_lucene_syntax_is_recognised(text):
    assert has_syntax(text)


@pytest.mark.parametrize("text", ["north korea missile", "Who won?", "Brexit: what next", "COVID-19 cases",
                                  "AT&T deal", "U.S. tariffs", "Élysée: talks"])
def test_free_text_is_not_syntax(text):
    assert not has_syntax(text)


def test_words_keep_joiners_and_combining_marks():
    assert words("U.S. tariffs on AT&T, COVID-19.") == ["U.S", "tariffs", "on", "AT&T", "COVID-19"]
    assert words("North Korea’s -- missiles") == ["North", "Korea’s", "missiles"]
    arabic = "\ufe8e\u064e\ufeda berkata"  # letters with a vowel sign: one word, not three
    assert words(arabic) == ["\ufe8e\u064e\ufeda", "berkata"]
