"""The certainty scale (FactBank collapsed to three levels), rule by rule, on sentences written for it."""

import pytest

from pipeline.tagging.certainty import certainty_of, certainty_of_tokens


def _claim(result, fragment):
    found = [c for c in result.claims if fragment in c.text]
    assert found, [c.text for c in result.claims]
    return min(found, key=lambda c: len(c.text))


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # high: stated as fact, positive or negative, or boosted
        ("The bridge was closed on Monday.", "high"),
        ("We will not accept any delay to the harbour works.", "high"),
        ("There is no threat to the water supply.", "high"),
        ("The council certainly broke its own procurement rules.", "high"),
        ("There is no doubt that the levee held.", "high"),
        ("The mill could not reopen after the flood.", "high"),  # negated ability is no hedge
        ("Turnout rose more than expected.", "high"),  # "as/than expected": the outcome is a fact
        ("The tram line will open in June.", "high"),  # a future stated as fact
        ("The suspected arsonist was arrested near the depot.", "high"),  # "suspected" modifying a noun
        ("The possible closure of the plant worries 300 workers.", "high"),  # attributive "possible"
        ("It should be noted that the audit is voluntary.", "high"),  # a formula, not a hedge
        # medium: probable
        ("Turnout is likely to fall in the northern districts.", "medium"),
        ("The ferry will probably be replaced next year.", "medium"),
        ("The new stadium is expected to cost 40 million euros.", "medium"),
        ("The governor should resign over the contracts.", "medium"),
        ("We believe the figures were inflated.", "medium"),
        ("I think the plan is too expensive.", "medium"),
        ("The two fires appear to be linked.", "medium"),
        ("The mayor allegedly accepted gifts from the builder.", "medium"),
        ("The vaccine almost certainly prevents severe illness.", "medium"),
        # low: possible
        ("The dam may fail in a major storm.", "low"),
        ("Prices might rise again next winter.", "low"),
        ("The strike could spread to the ports.", "low"),
        ("Perhaps the museum will reopen in spring.", "low"),
        ("The council does not rule out new parking fees.", "low"),
        ("The plant will reopen if demand improves.", "low"),  # a conditional
        ("Fares will rise unless the state steps in.", "low"),
        ("It is not clear whether the talks will resume.", "low"),
        ("It is impossible to verify the rebels' account.", "low"),
        ("Is the bridge safe?", "low"),  # a question asserts nothing
    ],
)
def test_levels(tagger, text, level):
    doc = tagger.nlp(text)
    assert certainty_of_tokens(list(doc), text).level == level


def test_the_weakest_cue_decides_and_only_its_words_are_kept():
    c = certainty_of("There is no doubt it may fail")
    assert (c.level, c.cues) == ("low", ["may"])
    c = certainty_of("Clearly, the regulator was right")
    assert (c.level, c.cues) == ("high", ["Clearly"])
    assert certainty_of("The ferry sank").cues == []


def test_reporting_verbs_do_not_lower_commitment(tagger):
    text = ('The harbour master said the channel was dredged in May. Fishermen claimed the nets were cut. '
            'According to the coastguard, two boats sank. "The pier is safe," the engineer told reporters.')
    r = tagger.tag(text)
    for fragment in ("channel was dredged", "nets were cut", "two boats sank", "The pier is safe"):
        assert _claim(r, fragment).certainty.level == "high", fragment


def test_a_hedging_reporting_verb_is_the_speakers_own_hedge(tagger):
    r = tagger.tag("Investigators suspect that the fire started in the kitchen.")
    c = _claim(r, "fire started in the kitchen")
    assert c.certainty.level == "medium" and c.certainty.cues == ["suspect"]


def test_someone_elses_belief_inside_a_claim_is_reported_fact(tagger):
    r = tagger.tag("The union claimed the board thought the merger would save money.")
    c = _claim(r, "the merger would save money")
    assert c.certainty.level == "high"  # the speaker asserts what the board thought
    r = tagger.tag("The minister said he hoped the bridge would open soon.")
    assert _claim(r, "the bridge would open soon").certainty.level == "medium"  # his own hope


def test_hedges_in_relative_and_temporal_clauses_do_not_scope(tagger):
    r = tagger.tag("Rescuers found a hiker, who may have fallen from the ridge, near the lake on Sunday.")
    assert _claim(r, "Rescuers found a hiker").certainty.level == "high"
    r = tagger.tag("The Baltic rail link opened on time because the builders might otherwise have lost 90 million euros.")
    assert _claim(r, "The Baltic rail link opened").certainty.level == "high"


def test_an_embedded_question_is_not_a_hedge_but_a_content_clause_is(tagger):
    r = tagger.tag("The delay left councillors wondering if the contractor could finish the school.")
    assert _claim(r, "The delay left councillors").certainty.level == "high"
    r = tagger.tag("The ceasefire offers signs that the war may soon end, the envoy said.")
    assert _claim(r, "signs that the war may soon end").certainty.level == "low"


def test_split_quote_certainty_reads_only_the_quoted_words(tagger):
    text = '"The tunnel is sound," the engineer said, though she may retire soon. "We checked every bolt."'
    r = tagger.tag(text)
    c = _claim(r, "The tunnel is sound")
    assert c.certainty.level == "high"
