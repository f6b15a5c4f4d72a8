"""Short forms link to the full name met before them, so one entity id stands for every name used."""


def _owner(result, mention):
    return next(e for e in result.entities if any(m.text == mention for m in e.mentions))


def test_surname_links_to_the_latest_full_name_before_it(tagger):
    text = ("Judge Amara Cole opened the hearing. Her brother, Daniel Cole, was not in court.\n\n"
            "Cole told the jury that the evidence was incomplete.")
    r = tagger.tag(text)
    assert _owner(r, "Cole").id == "person:daniel-cole"
    text = "Sarah Mitchell opened the hearing on Monday.\n\nMitchell told the jury that the 40 files were incomplete."
    r = tagger.tag(text)
    assert _owner(r, "Mitchell").id == "person:sarah-mitchell"


def test_a_surname_the_ner_left_out_is_still_that_person(tagger):
    text = ("The album was bought by talent manager Rolf Brandauer last year.\n\n"
            "Brandauer has worked with many of the label's 30 artists.")
    r = tagger.tag(text)
    assert _owner(r, "Brandauer").id == "person:rolf-brandauer"


def test_sentence_initial_participle_is_not_a_given_name(tagger):
    text = ("Apple chief Tim Cook spoke in Berlin on Monday.\n\n"
            "Hosting Cook at the summit was an honour, the organisers said. Cook thanked 300 engineers.")
    r = tagger.tag(text)
    names = {e.name for e in r.entities if e.type == "PERSON"}
    assert "Hosting Cook" not in names and _owner(r, "Cook").id == "person:tim-cook"


def test_acronyms_match_names_with_ampersands_suffixes_and_places(tagger):
    text = ("Northern Gas & Power Co. cut supplies to 9,000 homes. NGP said repairs would take a week.\n\n"
            "The California Water Resources Board met on Friday. The WRB approved the 40 new wells.")
    r = tagger.tag(text)
    assert _owner(r, "NGP").id == _owner(r, "Northern Gas & Power Co.").id
    assert _owner(r, "WRB").id == _owner(r, "California Water Resources Board").id


def test_acronym_of_a_name_with_the(tagger):
    text = "The Coastal Herald first reported the merger on Monday. TCH said 200 jobs would go."
    r = tagger.tag(text)
    assert _owner(r, "TCH").id == _owner(r, "Coastal Herald").id


def test_a_unit_of_an_organisation_is_its_own_organisation(tagger):
    text = "A professor at Marlow University's Hartley Research Center said 40 sites were contaminated."
    r = tagger.tag(text)
    names = {e.name for e in r.entities}
    assert {"Marlow University", "Hartley Research Center"} <= names


def test_market_codes_titles_and_ranks_are_not_names(tagger):
    text = ("Copper on the London Metal Exchange CMAL3 rose 2% on Monday. Secretary of State Ana Pires "
            "arrived on Tuesday. Cmdr. Joel Ruiz said 12 ships had left port.")
    r = tagger.tag(text)
    names = {e.name for e in r.entities}
    assert "London Metal Exchange" in names and not any("CMAL3" in n for n in names)
    assert "State" not in names and "Cmdr" not in names and "Joel Ruiz" in names


def test_one_id_whatever_name_is_used(tagger):
    text = ("The United States imposed new duties on Monday. U.S. officials said the US would review them "
            "in America's next trade round.")
    r = tagger.tag(text)
    ids = {_owner(r, name).id for name in ("United States", "U.S.", "US", "America")}
    assert ids == {"gpe:united-states"}
