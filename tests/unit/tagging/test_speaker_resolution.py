"""Speaker resolution beyond names: appositions, definite descriptions, gender, carried quotes."""

from pipeline.tagging.spans import span_errors


def _claim(result, fragment):
    found = [c for c in result.claims if fragment in c.text]
    assert found, [c.text for c in result.claims]
    return min(found, key=lambda c: len(c.text))


def test_apposition_names_the_speaker(tagger):
    text = "The mayor's lawyer, Dana Whitfield, said that the contract was signed in good faith."
    c = _claim(tagger.tag(text), "contract was signed")
    assert c.speaker.entity_id == "person:dana-whitfield"


def test_definite_description_after_apposition(tagger):
    text = (
        "The union, Riverside Nurses Alliance, met hospital managers on Monday.\n\n"
        "The union said that 400 nurses would strike on Friday."
    )
    c = _claim(tagger.tag(text), "400 nurses would strike")
    assert c.speaker.name == "Riverside Nurses Alliance"


def test_definite_description_uses_earlier_fuller_phrase(tagger):
    text = (
        "The regional water authority inspected the dam last week.\n\n"
        "No cracks were found in the main wall, the authority said."
    )
    c = _claim(tagger.tag(text), "No cracks were found")
    assert c.speaker.name == "regional water authority" and c.speaker.mention == "the authority"


def test_pronoun_prefers_person_of_matching_gender(tagger):
    text = (
        "Singer Marta Holm, who thanked her fans, left Nordic Records, which was bought by investor Piet Kranz.\n\n"
        "Marta Holm said her new album is ready. Piet Kranz runs three labels.\n\n"
        "She said that the album will be released in June."
    )
    c = _claim(tagger.tag(text), "album will be released in June")
    assert c.speaker.entity_id == "person:marta-holm"


def test_pronoun_prefers_latest_speaker_over_older_subject(tagger):
    text = (
        "Worker Tom Reyes said he saw the fire start in his kitchen.\n\n"
        "Fire Chief Ana Ortiz said that crews arrived within six minutes.\n\n"
        "She said the building would be demolished."
    )
    c = _claim(tagger.tag(text), "building would be demolished")
    assert c.speaker.entity_id == "person:ana-ortiz"


def test_quote_paragraphs_with_blank_lines_carry_speaker(tagger):
    text = (
        '"We will not close the clinic," Dr. Lena Brook said.\n\n'
        '"It serves four villages and 3,000 patients."\n\n'
        '"Nobody else offers that care," she added.'
    )
    r = tagger.tag(text)
    assert span_errors(text, r) == []
    for fragment in ("close the clinic", "serves four villages", "Nobody else offers"):
        assert _claim(r, fragment).speaker.entity_id == "person:lena-brook"


def test_misparsed_that_clause_after_told(tagger):
    text = "Police Chief Omar Diallo told reporters at a news conference that officers arrested two suspects overnight."
    c = _claim(tagger.tag(text), "officers arrested two suspects")
    assert c.speaker.entity_id == "person:omar-diallo"


def test_quantifier_subject_is_a_phrase_not_a_pronoun(tagger):
    text = "Dozens of farmers protested in the capital. Some said that prices had halved since March."
    c = _claim(tagger.tag(text), "prices had halved")
    assert c.speaker is not None and c.speaker.name == "Some" and c.speaker.entity_id is None


def test_age_description_means_the_salient_person_and_quote_keeps_paragraph(tagger):
    text = (
        "Rita Moreau has agreed to coach Harbor City until 2027, replacing Paul Stenner.\n\n"
        "Stenner was dismissed on Monday after Moreau's agents met the board.\n\n"
        "Moreau led her last club to two titles.\n\n"
        'The 48-year-old said after signing: "I am thrilled to join a club with such loyal fans.\n\n'
        '"The young squad excites me."\n\n'
        'Harbor City said in a statement: "Rita is one of the best coaches in Europe."'
    )
    r = tagger.tag(text)
    first = _claim(r, "thrilled to join")
    second = _claim(r, "young squad excites me")
    assert first.speaker.entity_id == second.speaker.entity_id == "person:rita-moreau"
    assert first.speaker.mention == "The 48-year-old"


def test_dateline_is_not_the_speaker(tagger):
    text = ("LISBON, Portugal (AP) — Portuguese Economy Minister Rui Alves on Monday accused the airline of "
            "hiding losses from its shareholders.")
    c = _claim(tagger.tag(text), "accused the airline")
    assert c.speaker.entity_id == "person:rui-alves"


def test_it_prefers_the_latest_subject_over_an_older_speaker(tagger):
    text = ("Two soldiers were killed, the army said in a statement.\n\n"
            "The Northern Front rebel group claimed responsibility for the attack, which it said "
            "took place near the border.")
    c = _claim(tagger.tag(text), "took place near the border")
    assert c.speaker is not None and "Northern Front" in c.speaker.name


def test_title_is_not_part_of_the_name_and_first_person_is_not_resolved(tagger):
    text = ("State Superintendent Jennifer McCormick said the rally was historic. "
            "I said that it was fine. McCormick added that teachers deserve more.")
    r = tagger.tag(text)
    assert _claim(r, "rally was historic").speaker.entity_id == "person:jennifer-mccormick"
    first_person = _claim(r, "it was fine").speaker  # the writer: no entity to name
    assert first_person is not None and first_person.name == "" and first_person.mention == "I"
    assert _claim(r, "teachers deserve more").speaker.entity_id == "person:jennifer-mccormick"
