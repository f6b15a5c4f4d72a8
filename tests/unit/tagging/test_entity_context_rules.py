"""Gazetteer and context rules for entity types, on sentences written for the tests."""

from pipeline.tagging import entity_rules, gazetteer


def _rule_spans(tagger, text: str) -> set[tuple[str, str]]:
    doc = tagger.nlp(text)
    return {(doc[s:e].text, label) for s, e, label in entity_rules.rule_spans(doc)}


def _retype(tagger, text: str, name: str, label: str) -> str | None:
    doc = tagger.nlp(text)
    start = next(t.i for t in doc if t.idx == text.index(name))
    end = next(t.i for t in doc if t.idx + len(t.text) == text.index(name) + len(name)) + 1
    return entity_rules.retype(doc, start, end, label, name, known=False)


def _types(result) -> dict[str, str]:
    return {e.name: e.type for e in result.entities}


def test_gazetteer_lookup_ignores_case_dots_and_the():
    assert gazetteer.place_type("Punjab") == "GPE"
    assert gazetteer.place_type("the Balkans") == "LOC"
    assert gazetteer.place_type("north africa") == "LOC"
    assert gazetteer.place_type("Sikhs") == "NORP"
    assert gazetteer.place_type("African Union") == "ORG"
    assert gazetteer.place_type("Unknownland") is None


def test_gazetteer_corrects_ner_types(tagger):
    text = "Farmers from Punjab and Haryana marched to Ludhiana on Monday, while Sikhs in Winnipeg held a vigil."
    types = _types(tagger.tag(text))
    assert types.get("Punjab") == "GPE" and types.get("Haryana") == "GPE"
    assert types.get("Ludhiana") == "GPE" and types.get("Winnipeg") == "GPE"
    assert types.get("Sikhs") == "NORP"


def test_gazetteer_region_is_a_location(tagger):
    text = "Drought has spread across North Africa and the Sahel this year, the agency said."
    types = _types(tagger.tag(text))
    assert types.get("North Africa") == "LOC"


def test_copyright_line_names_the_outlet(tagger):
    text = "The council voted 5-2 to approve the budget.\n\nCopyright 2021 Lakeside Evening Courier. All rights reserved."
    types = _types(tagger.tag(text))
    assert types.get("Lakeside Evening Courier") == "ORG"


def test_outlet_noun_names_the_journal(tagger):
    text = "The findings were published on Monday in the journal Marine Ecology Letters by a team of biologists."
    types = _types(tagger.tag(text))
    assert types.get("Marine Ecology Letters") == "ORG"
    assert ("Marine Ecology Letters", "ORG") in _rule_spans(tagger, text)
    longer = "The study appeared in the journal Monthly Notices of the Royal Astronomical Society on Friday."
    assert ("Monthly Notices of the Royal Astronomical Society", "ORG") in _rule_spans(tagger, longer)


def test_dotted_domain_is_an_org(tagger):
    text = "Prices fell by 4 percent in October, Autoblog.com reported, citing dealer data."
    types = _types(tagger.tag(text))
    assert types.get("Autoblog.com") == "ORG"
    assert ("Wday.ru", "ORG") in _rule_spans(tagger, "According to Wday.ru, the bridge was closed for repairs.")


def test_based_suffix_marks_a_place(tagger):
    text = "The contract went to a Fairview Heights-based builder, the mayor said on Tuesday."
    types = _types(tagger.tag(text))
    assert types.get("Fairview Heights") == "GPE"
    assert _retype(tagger, "He paid an Ashford-based agent to arrange the trip.", "Ashford", "ORG") == "GPE"
    assert _retype(tagger, "He joined a Hartwell Group-based team.", "Hartwell Group", "ORG") == "ORG"


def test_connected_place_name_is_kept_whole(tagger):
    text = "The trade fair in Frankfurt am Main drew 90,000 visitors last year, organisers said."
    types = _types(tagger.tag(text))
    assert types.get("Frankfurt am Main") == "GPE"
    assert "Main" not in types


def test_possessive_office_with_district_is_one_org(tagger):
    text = ("The man pleaded guilty on Friday, the U.S. Attorney’s Office for the Eastern District of Ohio "
            "said in a statement.")
    result = tagger.tag(text)
    orgs = [e for e in result.entities if e.type == "ORG"]
    assert any(e.name.startswith("U.S. Attorney’s Office for the Eastern District") for e in orgs)
    assert "Office" not in _types(result)
    claim = next(c for c in result.claims if "pleaded guilty" in c.text)
    assert claim.speaker is not None and "Attorney’s Office" in claim.speaker.name


def test_ideology_and_award_names_are_not_orgs(tagger):
    text = ("The memorial must never glorify National Socialism, the minister said. "
            "The singer will perform at the Country Music Awards in Nashville on Sunday.")
    types = _types(tagger.tag(text))
    assert types.get("National Socialism", "NORP") == "NORP"
    assert types.get("Country Music Awards", "EVENT") == "EVENT"


def test_job_title_word_is_not_a_person(tagger):
    text = ("“We need answers now,” said Maria Lopez, Research and Outreach Director for South Asia at the "
            "Green Rivers Trust.")
    types = _types(tagger.tag(text))
    assert types.get("Outreach") != "PERSON" and types.get("Research") != "PERSON"
    assert types.get("Maria Lopez") == "PERSON"
    assert _retype(tagger, text, "Outreach", "PERSON") is None
    assert _retype(tagger, text, "Maria Lopez", "PERSON") == "PERSON"


def test_ner_org_in_a_place_context_is_a_place(tagger):
    text = "Gunfire was heard near the fuel plant in Kalanga, which protesters had blocked for days."
    assert _retype(tagger, text, "Kalanga", "ORG") == "GPE"
    invest = "The fund bought a stake in Kalanga last year."
    assert _retype(tagger, invest, "Kalanga", "ORG") == "ORG"
    school = "Police gathered near Kalanga High School on Monday."
    assert _retype(tagger, school, "Kalanga High School", "ORG") == "ORG"


def test_person_before_a_facility_noun_is_a_facility(tagger):
    text = "The minister visited the city’s Hoa Binh prison, where pilots were held during the war."
    assert _retype(tagger, text, "Hoa Binh", "PERSON") == "FAC"


def test_unknown_name_after_place_possessive_is_a_place(tagger):
    text = "“This was my third attempt,” said Harjit Singh, 31, from Punjab’s Kheda, who paid an agent."
    types = _types(tagger.tag(text))
    assert types.get("Kheda") == "GPE"
    assert types.get("Punjab") == "GPE"


def test_name_used_as_common_noun_elsewhere_is_dropped(tagger):
    text = 'The new slogan reads "Vape. Not here." Teachers say vape use in schools has doubled since 2019.'
    names = {e.name for e in tagger.tag(text).entities}
    assert "Vape" not in names


def test_admin_noun_makes_a_district_a_gpe(tagger):
    text = "Lam Ka-ho, the commander of Kowloon East district, said officers were attacked with bricks."
    types = _types(tagger.tag(text))
    assert types.get("Kowloon East") == "GPE"


def test_sentence_initial_domain_name_is_kept(tagger):
    text = "RiverTown.Net - Verified video shows police firing at protesters in the square, witnesses said."
    types = _types(tagger.tag(text))
    assert types.get("RiverTown.Net") == "ORG"


def test_unclosed_bracket_ends_a_name(tagger):
    text = "Qualified teams\n\nCzech Republic (Group A: tenth appearance\nWales (Group E: fourth appearance"
    names = {e.name for e in tagger.tag(text).entities}
    assert not any("(" in n for n in names)


def test_gazetteer_word_inside_a_longer_name_is_not_matched(tagger):
    names = {e.name for e in tagger.tag("Follow NBC Latino on Facebook and Instagram for more stories.").entities}
    assert "Latino" not in names


def test_who_clause_and_honorific_make_a_person(tagger):
    text = "Dorian Whitcombe, who represents the driver, said his client would appeal."
    assert _retype(tagger, text, "Dorian Whitcombe", "ORG") == "PERSON"
    assert _retype(tagger, "Gov. Ada Brightwater said the bridge would reopen.", "Ada Brightwater", "ORG") == "PERSON"
    assert _retype(tagger, "Keller Industries, which employs 400 people, said it would appeal.", "Keller Industries", "ORG") == "ORG"


def test_outlet_name_with_company_suffix_is_whole(tagger):
    spans = _rule_spans(tagger, "The report says the Denver ad agency Brightline Co. designed the campaign.")
    assert ("Brightline Co.", "ORG") in spans


def test_title_words_are_stripped_only_before_a_name():
    from pipeline.tagging.entities import _strip_honorific

    assert _strip_honorific("State of Israel") == "State of Israel"
    assert _strip_honorific("Health and Human Services") == "Health and Human Services"
    assert _strip_honorific("Founder of Ceres Robotics Inc.") == "Ceres Robotics Inc."
    assert _strip_honorific("Superintendent Jennifer McCormick") == "Jennifer McCormick"
    assert _strip_honorific("Mr. Pollard") == "Pollard"
