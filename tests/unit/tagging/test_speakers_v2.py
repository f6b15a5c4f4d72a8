"""Speakers: pronouns, relative pronouns and nominal mentions resolve to the nearest compatible named
entity within a paragraph window, or stay unresolved (no name, the words kept); never "who" as a name."""

from pipeline.tagging.speakers import PRONOUN_WINDOW

PRONOUNS = {"he", "she", "it", "they", "who", "which", "that", "him", "her", "them", "we", "i", "you"}


def _claim(result, fragment):
    found = [c for c in result.claims if fragment in c.text]
    assert found, [c.text for c in result.claims]
    return min(found, key=lambda c: len(c.text))


def test_relative_pronoun_speaker_is_its_antecedent(tagger):
    text = ("The plan was opposed by Councillor Rosa Vidal, who said the tower would block the river view "
            "for 2,000 homes.")
    c = _claim(tagger.tag(text), "tower would block the river view")
    assert c.speaker.entity_id == "person:rosa-vidal" and c.speaker.name == "Rosa Vidal"


def test_relative_pronoun_of_an_organisation(tagger):
    text = "Investors sued Corvane Holdings, which denied that it had hidden losses of 30 million dollars."
    c = _claim(tagger.tag(text), "hidden losses")
    assert c.speaker.name == "Corvane Holdings"


def test_unresolved_pronoun_keeps_its_words_not_a_name(tagger):
    c = _claim(tagger.tag("He said the ferry service would end in March."), "ferry service would end")
    assert c.speaker.name == "" and c.speaker.mention == "He" and c.speaker.entity_id is None


def test_pronoun_antecedent_must_lie_in_the_paragraph_window(tagger):
    paragraphs = ["Inspector Nadia Okoro opened the inquiry on Monday."]
    paragraphs += [f"The depot had been closed for {n + 2} weeks before the audit." for n in range(PRONOUN_WINDOW + 1)]
    paragraphs += ["She said the records were missing."]
    c = _claim(tagger.tag("\n\n".join(paragraphs)), "records were missing")
    assert c.speaker.name == "" and c.speaker.mention == "She"
    near = "Inspector Nadia Okoro opened the inquiry on Monday.\n\nShe said the records were missing."
    assert _claim(tagger.tag(near), "records were missing").speaker.entity_id == "person:nadia-okoro"


def test_the_company_resolves_to_the_nearest_organisation(tagger):
    text = ("Halvorsen Shipping reported a loss of 12 million euros on Tuesday.\n\n"
            "The company said that fuel costs had doubled since January.")
    c = _claim(tagger.tag(text), "fuel costs had doubled")
    assert c.speaker.name == "Halvorsen Shipping" and c.speaker.mention == "The company"


def test_a_redescription_resolves_through_the_earlier_mention(tagger):
    text = ("Pacific Tide Power began cutting electricity to 80,000 homes.\n\n"
            "The region's largest utility restored power to 5,000 customers by noon.\n\n"
            "The utility said it would inspect every line before the weekend.")
    c = _claim(tagger.tag(text), "inspect every line")
    assert c.speaker.name == "Pacific Tide Power"


def test_unresolvable_nominal_mention_has_no_name(tagger):
    c = _claim(tagger.tag("The company said that profits had halved."), "profits had halved")
    assert c.speaker.name == "" and c.speaker.mention == "The company"


def test_officials_of_an_organisation_speak_for_it(tagger):
    text = "Winds could topple power lines across the valley, Halvorsen Energy officials said on Monday."
    c = _claim(tagger.tag(text), "topple power lines")
    assert c.speaker.name == "Halvorsen Energy" and c.speaker.mention == "Halvorsen Energy officials"


def test_descriptive_speakers_keep_their_whole_description(tagger):
    text = ("Two people briefed on the talks said the tariffs would stay. "
            "Farmers and traders said the market had collapsed in October.")
    r = tagger.tag(text)
    assert _claim(r, "tariffs would stay").speaker.name == "Two people briefed on the talks"
    assert _claim(r, "market had collapsed").speaker.name == "Farmers and traders"


def test_that_said_is_no_attribution(tagger):
    text = "That said, the harbour authority insists that the 12 cranes are safe."
    c = _claim(tagger.tag(text), "cranes are safe")
    assert c.speaker.mention != "That" and c.cue.text == "insists"


def test_participle_attribution_after_an_adjective_finds_the_subject(tagger):
    text = ("Halvorsen Energy appointed a new board in May.\n\n"
            "The energy regulator is angry with the firm, saying it ignored 14 safety warnings.")
    c = _claim(tagger.tag(text), "ignored 14 safety warnings")
    assert c.speaker is not None and "regulator" in c.speaker.mention


def test_passive_and_nested_attribution_keep_working(tagger):
    text = ("The rail strike will end on Friday, according to union leader Petra Holm.\n\n"
            "Transport Minister Ivo Marek was quoted as saying that the timetable would be restored.\n\n"
            "Nordic Wire reported, citing Baltic Press, that 40 trains were cancelled.")
    r = tagger.tag(text)
    assert _claim(r, "rail strike will end").speaker.entity_id == "person:petra-holm"
    assert _claim(r, "timetable would be restored").speaker.entity_id == "person:ivo-marek"
    chain = _claim(r, "40 trains were cancelled").source_chain
    assert ("Baltic Press", "origin") in [(s.name, s.relation) for s in chain]


def test_no_speaker_is_ever_a_pronoun(tagger):
    text = ("The mayor, who said the bridge was safe, left early. It said the fees would rise. "
            "They said the river was clean. Which is not to say the works are over. "
            "That said, she insisted the 20 pumps were working.")
    for c in tagger.tag(text).claims:
        assert c.speaker is None or c.speaker.name.lower() not in PRONOUNS, c.speaker
