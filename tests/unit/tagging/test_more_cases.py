"""Hard cases in small texts: inversions, reporting nouns, statements, mixed quotes, chains."""

from pipeline.tagging.spans import span_errors


def _only(result, fragment):
    found = [c for c in result.claims if fragment in c.text]
    assert found, [c.text for c in result.claims]
    return min(found, key=lambda c: len(c.text))


def test_inverted_quote_attribution_and_curly_quotes(tagger):
    text = "“The harbour will reopen next week,” said Port Director Maria Costa. “Ships are already waiting.”"
    r = tagger.tag(text)
    assert span_errors(text, r) == []
    c = _only(r, "harbour will reopen")
    assert c.kind == "direct_quote" and c.speaker.entity_id == "person:maria-costa"


def test_reporting_noun_and_in_a_statement(tagger):
    text = (
        "The ministry's claim that 300 schools were closed was disputed. "
        "In a statement, the Teachers Union of Lagos accused the government of hiding the figures."
    )
    r = tagger.tag(text)
    c = _only(r, "300 schools were closed")
    # "the ministry" with no ministry named: an unresolved nominal mention keeps its words, not a name
    assert c.kind == "reported" and c.speaker is not None and c.speaker.name == "" and c.speaker.mention == "The ministry"
    s = _only(r, "accused the government")
    assert s.kind == "reported" and s.speaker is not None and "Teachers Union" in s.speaker.name


def test_told_with_complement_and_outlet_chain(tagger):
    text = "Finance Minister Olu Bakare told Reuters that inflation could reach 30 percent by June."
    r = tagger.tag(text)
    c = _only(r, "inflation could reach 30 percent")
    assert c.kind == "indirect" and c.speaker.name == "Olu Bakare"
    assert [(s.name, s.relation) for s in c.source_chain] == [("Reuters", "interview_with")]
    assert c.certainty.level == "low"
    assert c.types == ["quantity"]


def test_surname_speaker_in_follow_on_paragraph_and_pronoun(tagger):
    text = (
        "Senator Helen Okafor criticised the budget on Tuesday.\n\n"
        "Okafor said the plan would cut rural hospital funding by a third.\n\n"
        "She added that there was clearly no money for new roads."
    )
    r = tagger.tag(text)
    a = _only(r, "cut rural hospital funding")
    b = _only(r, "no money for new roads")
    assert a.speaker.entity_id == b.speaker.entity_id == "person:helen-okafor"
    assert b.certainty.level == "high"


def test_passive_it_was_reported_has_no_speaker(tagger):
    text = "It was also reported that the army will withdraw two brigades from the border."
    r = tagger.tag(text)
    c = _only(r, "army will withdraw")
    assert c.kind == "reported" and c.speaker is None and c.cue.lemma == "report"


def test_mixed_quote_inside_indirect_speech(tagger):
    text = 'The governor said the new tax was "a fair and necessary step" for the state.'
    r = tagger.tag(text)
    (c,) = [c for c in r.claims if "fair and necessary step" in c.text]  # one statement, one claim
    assert c.kind == "mixed" and c.text == 'the new tax was "a fair and necessary step" for the state'
    assert [text[q.start:q.end] for q in c.quotes] == ["a fair and necessary step"]


def test_kremlin_as_actor_is_russia(tagger):
    text = "The Kremlin denied the report. Reporters gathered in the Kremlin on Friday."
    r = tagger.tag(text)
    russia = next(e for e in r.entities if e.id == "gpe:russia")
    assert "Kremlin" in russia.aliases


def test_quoted_as_saying_and_could_not_rule_out(tagger):
    r = tagger.tag("The minister was quoted as saying that the army could not rule out new strikes.")
    c = _only(r, "army could not rule out new strikes")
    # "the minister" with no minister named: unresolved, its words kept
    assert c.speaker is not None and c.speaker.name == "" and c.speaker.mention == "The minister"
    assert c.certainty.level == "low"


def test_negated_ability_is_not_a_hedge(tagger):
    text = "The mayor could not attend the opening of the bridge on Friday, officials said."
    c = _only(tagger.tag(text), "could not attend")
    assert c.certainty.level == "high" and c.certainty.cues == []


def test_according_to_sentence_is_not_also_an_assertion(tagger):
    r = tagger.tag("Prices will rise by 8 percent next year, according to a statement from the central bank.")
    assert [c.kind for c in r.claims] == ["reported"]


def test_capital_as_subject_stands_for_the_state(tagger):
    r = tagger.tag("Ukrainian President Volodymyr Zelensky said Kyiv would not cede any territory.")
    c = _only(r, "would not cede")
    assert "gpe:ukraine" in c.about


def test_hedging_cue_verb_counts_towards_certainty(tagger):
    c = _only(tagger.tag("Officials believe the fire was probably started deliberately."), "fire was probably")
    assert c.certainty.level == "medium" and c.certainty.cues == ["believe", "probably"]


def test_hedge_in_relative_clause_does_not_scope_over_the_claim(tagger):
    text = "Police found a man bleeding, who was possibly the victim of a stabbing, officers said."
    c = _only(tagger.tag(text), "found a man bleeding")
    assert c.certainty.level == "high"
