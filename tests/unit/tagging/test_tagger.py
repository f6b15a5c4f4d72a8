import pytest
from tagging_samples import TRADE

from pipeline.tagging.schema import TagResult
from pipeline.tagging.spans import span_errors


@pytest.fixture(scope="module")
def trade(tagger) -> TagResult:
    return tagger.tag(TRADE)


def _entity(result, eid):
    return next(e for e in result.entities if e.id == eid)


def _claim(result, fragment):
    return next(c for c in result.claims if fragment in c.text)


def test_spans_match_text(trade):
    assert span_errors(TRADE, trade) == []


def test_aliases_merge_within_document(trade):
    eu = _entity(trade, "org:european-union")
    assert {"EU", "the bloc"} <= set(eu.aliases)
    person = _entity(trade, "person:anna-lindqvist")
    assert person.type == "PERSON"
    assert {"Lindqvist", "the Trade Commissioner"} <= set(person.aliases)
    nfc = _entity(trade, "org:nordic-fisheries-council")
    assert "NFC" in nfc.aliases


def test_cross_document_ids_and_metonymy(trade):
    nk = _entity(trade, "gpe:north-korea")
    assert {"DPRK", "Pyongyang"} <= set(nk.aliases)
    assert "Moscow" in _entity(trade, "gpe:russia").aliases  # "Moscow may provide": the state
    assert [m.text for m in _entity(trade, "gpe:moscow").mentions] == ["Moscow"]  # "in Moscow": the city
    assert _entity(trade, "gpe:united-states").aliases == ["U.S."]


def test_no_possessives_or_pronouns_in_entities(trade):
    for e in trade.entities:
        for m in e.mentions:
            assert not m.text.endswith(("'s", "’s")), m.text
            assert m.text.lower() not in {"he", "she", "her", "they", "it"}


def test_speaker_type_fixed_for_relaying_outlet(trade):
    assert _entity(trade, "org:daily-ledger").type == "ORG"


def test_passive_attribution_covers_previous_paragraph(trade):
    first = _claim(trade, "Brazil supplies cheap steel")
    second = _claim(trade, "keep its smelters running")
    for c in (first, second):
        assert c.kind == "reported"
        assert c.speaker.entity_id == "person:anna-lindqvist"
    assert first.certainty.level == "high"
    chain = [(s.name, s.relation) for s in first.source_chain]
    assert chain == [("Reuters", "interview_with"), ("Baltic News Service", "origin"), ("Daily Ledger", "relayed_by")]


def test_direct_quote_after_colon(trade):
    c = _claim(trade, "We will respond within weeks")
    assert c.kind == "direct_quote" and c.cue.lemma == "say"
    assert c.speaker.mention == "Lindqvist" and c.speaker.entity_id == "person:anna-lindqvist"
    assert "prediction" in c.types


def test_according_to_pronoun_and_hedges(trade):
    c = _claim(trade, "does not rule out")
    assert c.kind == "reported" and c.speaker.mention == "her"
    assert c.speaker.entity_id == "person:anna-lindqvist"
    assert c.certainty.level == "low" and "may" in c.certainty.cues
    assert "quantity" in c.types


def test_role_title_speaker(trade):
    c = _claim(trade, "possible loss of 40,000 jobs")
    assert c.speaker.mention == "the Trade Commissioner"
    assert c.speaker.entity_id == "person:anna-lindqvist"


def test_indirect_speech_with_pronoun(trade):
    c = _claim(trade, "partnership with Canada")
    assert c.kind == "indirect" and c.cue.text == "emphasized" and c.speaker.mention == "She"
    assert c.speaker.entity_id == "person:anna-lindqvist"


def test_multi_paragraph_quote_speaker_carried_both_ways(trade):
    first = _claim(trade, "The measures are temporary")
    second = _claim(trade, "They will be lifted")
    assert first.kind == second.kind == "direct_quote"
    assert first.speaker.entity_id == second.speaker.entity_id == "person:anna-lindqvist"


def test_told_outlet_is_in_source_chain(trade):
    c = _claim(trade, "Moscow may provide Pyongyang with fuel")
    assert c.speaker.name == "Russian officials" and c.speaker.entity_id is None
    assert ("Agence France-Presse", "interview_with") in [(s.name, s.relation) for s in c.source_chain]
    assert {"gpe:russia", "gpe:north-korea"} <= set(c.about)


def test_acronym_speaker_and_quantity_claim(trade):
    c = _claim(trade, "cod catches fell by 12 percent")
    assert c.speaker.entity_id == "org:nordic-fisheries-council"
    assert {"quantity", "comparison"} <= set(c.types)


def test_unattributed_assertion(trade):
    c = _claim(trade, "The DPRK sent a delegation")
    assert c.kind == "assertion" and c.speaker is None
    assert "event" in c.types and 0.0 <= c.checkworthiness <= 1.0
    assert {"gpe:north-korea", "gpe:united-states"} <= set(c.about)


def test_checkworthiness_ranks_numbers_above_opinion(trade):
    numbers = _claim(trade, "cod catches fell by 12 percent")
    opinion = _claim(trade, "partnership with Canada")
    assert numbers.checkworthiness > opinion.checkworthiness


def test_claim_ids_are_stable_and_batch_equals_single(tagger, trade):
    again = tagger.tag(TRADE)
    assert [c.id for c in again.claims] == [c.id for c in trade.claims]
    assert len({c.id for c in trade.claims}) == len(trade.claims)
    batch = tagger.tag_many([TRADE, "Short text."])
    assert batch[0] == trade
    assert batch[1].claims == []


def test_empty_and_odd_texts(tagger):
    for text in ["", "   \n\n ", '"', "“unclosed quote that never ends and goes on", "Hello.\n\n\n\"\"\n"]:
        result = tagger.tag(text)
        assert span_errors(text, result) == []


def test_a_rule_failure_is_contained_per_text(tagger, monkeypatch, caplog):
    import pipeline.tagging.tagger as mod

    calls = {"n": 0}
    real = mod.build_index

    def flaky(doc, matcher=None):
        calls["n"] += 1
        if "explode" in doc.text:
            raise RuntimeError("boom")
        return real(doc, matcher)

    monkeypatch.setattr(mod, "build_index", flaky)
    before = tagger.failures
    results = tagger.tag_many(["Maria Costa said that the port will reopen.", "explode here", "Plain text."], batch_size=2)
    assert len(results) == 3 and calls["n"] == 3
    assert results[0].claims and results[1].claims == [] and results[1].entities == []
    assert tagger.failures == before + 1
    assert "tagging failed" in caplog.text


def test_attribution_sentence_is_not_itself_a_claim(trade):
    assert not any(c.text.startswith("This was stated by") for c in trade.claims)


def test_multiprocess_tagging_matches_single_process(tagger):
    texts = ["Censor.NET reported that the DPRK sent troops to Russia.",
             'Jens Stoltenberg said: "Russia may lose this war."'] * 2
    assert tagger.tag_many(texts, batch_size=2, n_process=2) == [tagger.tag(t) for t in texts]
