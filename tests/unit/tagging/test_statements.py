"""One claim per statement: quotes inside reported statements, split quotes, nesting, and no overlaps."""

from pipeline.tagging.spans import span_errors


def _claims(result, fragment):
    return [c for c in result.claims if fragment in c.text]


def _overlaps(result):
    cs = result.claims
    return [(a.text, b.text) for i, a in enumerate(cs) for b in cs[i + 1:] if a.start < b.end and b.start < a.end]


def test_quoted_fragment_in_an_indirect_statement_is_one_mixed_claim(tagger):
    text = 'The regulator said the retailers had "used the shortage as cover" to raise margins.'
    r = tagger.tag(text)
    (c,) = _claims(r, "used the shortage as cover")
    assert c.kind == "mixed" and c.text.startswith("the retailers had")
    assert [text[q.start:q.end] for q in c.quotes] == ["used the shortage as cover"]
    assert c.speaker is not None and c.speaker.mention == "The regulator"
    assert span_errors(text, r) == []


def test_split_direct_quote_is_one_claim_with_two_quote_spans(tagger):
    text = '"The levee held through the night," Mayor Ines Baptiste said. "No homes were flooded."'
    r = tagger.tag(text)
    (c,) = _claims(r, "The levee held")
    assert c.kind == "direct_quote" and "No homes were flooded" in c.text
    assert [text[q.start:q.end] for q in c.quotes] == ["The levee held through the night", "No homes were flooded."]
    assert c.speaker.entity_id == "person:ines-baptiste"
    assert _overlaps(r) == []


def test_a_second_quote_with_its_own_attribution_is_another_statement(tagger):
    text = ('"The levee held," Mayor Ines Baptiste said. "The pumps failed twice," '
            'fire chief Omar Lind added.')
    r = tagger.tag(text)
    first, second = _claims(r, "The levee held")[0], _claims(r, "The pumps failed")[0]
    assert first is not second and second.speaker.entity_id == "person:omar-lind"


def test_nested_report_keeps_the_outer_statement(tagger):
    text = "The spokesman said investors believe the airline will be sold this year."
    r = tagger.tag(text)
    (c,) = _claims(r, "the airline will be sold")
    assert c.text.startswith("investors believe") and c.cue.text == "said"


def test_according_to_keeps_the_inner_speaker(tagger):
    text = "According to the court filing, Mara Quist said the payments were approved by the board."
    r = tagger.tag(text)
    (c,) = _claims(r, "payments were approved")
    assert c.speaker.entity_id == "person:mara-quist"


def test_quote_inside_an_unattributed_sentence_gives_it_the_quotes_speaker(tagger):
    text = 'Senator Leah Moss called the budget "a betrayal of rural voters" during the debate.'
    r = tagger.tag(text)
    (c,) = _claims(r, "betrayal of rural voters")
    assert c.kind == "mixed" and c.speaker.entity_id == "person:leah-moss"


def test_the_clause_after_an_attribution_is_its_own_assertion(tagger):
    text = ("Both pilots claimed the engine had been serviced in March, but it is impossible to verify "
            "the 40 maintenance logs of the airline.")
    r = tagger.tag(text)
    claimed = _claims(r, "engine had been serviced")[0]
    rest = _claims(r, "impossible to verify")[0]
    assert claimed is not rest and rest.kind == "assertion" and rest.certainty.level == "low"
    assert _overlaps(r) == []


def test_parenthetical_attribution_makes_the_whole_sentence_the_speakers(tagger):
    text = "While some farmers sold their herds, Minister Paulo Reis said, most kept their cattle through the drought."
    r = tagger.tag(text)
    (c,) = _claims(r, "most kept their cattle")
    assert "some farmers sold their herds" in c.text and c.speaker.entity_id == "person:paulo-reis"


def test_no_two_claims_overlap_in_a_busy_paragraph(tagger):
    text = (
        'The agency said prices would "rise sharply" next year, adding that the cuts were "unavoidable". '
        '"We have no choice," director Hal Brenner said. "The fund is empty." According to Brenner, '
        'the board knew in May. Critics said the board had "ignored every warning", and the union '
        'warned that strikes could follow.'
    )
    r = tagger.tag(text)
    assert _overlaps(r) == []
    assert span_errors(text, r) == []
    for c in r.claims:
        for q in c.quotes:
            assert c.start <= q.start < q.end <= c.end
