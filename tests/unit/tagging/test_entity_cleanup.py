"""Entity cleanup and typing on small texts written for the tests."""


def _by_name(result):
    return {e.name: e for e in result.entities}


def test_dateline_and_us_and_acronym_stoplist(tagger):
    text = "OTTAWA, Canada (AP) — The US and Canada signed a deal, the CEO of Maple Freight said before its IPO."
    ents = _by_name(tagger.tag(text))
    assert "United States" in ents and "US" in ents["United States"].aliases
    assert not any(name in ("IPO", "CEO") for name in ents)
    assert ents["Canada"].type == "GPE"


def test_possessive_split_and_hyphen_suffix(tagger):
    text = "A Kerala-based charity sent doctors to Bihar’s Patna district, officials said."
    names = set(_by_name(tagger.tag(text)))
    assert not any(n.endswith("-based") or "’s" in n for n in names)


def test_org_with_possessive_is_kept_whole(tagger):
    text = "The People's Liberation Army held drills near Taiwan on Sunday."
    ents = _by_name(tagger.tag(text))
    assert "People" not in ents


def test_surname_and_first_name_merge(tagger):
    text = "Xu Mingde, the factory owner, met inspectors. Xu said the machines were safe. Mr. Pollard, an inspector named Alan Pollard, disagreed."
    result = tagger.tag(text)
    ids = {e.id: e for e in result.entities}
    assert "Xu" in ids["person:xu-mingde"].aliases
    assert "person:alan-pollard" in ids


def test_known_platform_is_an_org(tagger):
    text = "Swift posted on Twitter that the tour would continue."
    ents = _by_name(tagger.tag(text))
    assert ents["Twitter"].type == "ORG" and ents["Twitter"].id == "org:twitter"


def test_given_name_missed_by_ner_joins_the_surname(tagger):
    text = "The cottage where Ludwig Brenner wrote his symphonies will become a museum. Brenner lived there until 1851."
    ids = {e.id for e in tagger.tag(text).entities}
    assert "person:ludwig-brenner" in ids and "person:brenner" not in ids


def test_short_codes_are_not_entities(tagger):
    text = "The plane landed at the T3 terminal of the airport in Madrid at 6am."
    names = {e.name for e in tagger.tag(text).entities}
    assert "T3" not in names and "Madrid" in names


def test_place_nouns_type_unknown_names_as_places(tagger):
    text = ("Fighting was reported in the Qarabel area and in the province of Zanduk, "
            "near Ostrava Minor, a village on the border.")
    types = {e.name: e.type for e in tagger.tag(text).entities}
    assert types.get("Ostrava Minor") == "GPE"  # NER says PERSON; the apposition "a village" says place
    assert types.get("Zanduk") == "GPE"
