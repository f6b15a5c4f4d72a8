from pipeline.tagging.aliases import canonical_id, entity_id, ids_for_query, slugify, stands_for


def test_country_names_share_one_id():
    ids = {canonical_id(n) for n in ["DPRK", "North Korea", "Democratic People's Republic of Korea",
                                      "Democratic People’s Republic of Korea", "North Korea's", "D.P.R.K."]}
    assert ids == {"gpe:north-korea"}


def test_united_states_variants():
    assert {canonical_id(n) for n in ["U.S.", "US", "United States", "America", "the United States"]} == {
        "gpe:united-states"
    }


def test_capitals_keep_their_id_and_know_their_state():
    assert canonical_id("Moscow") == "gpe:moscow"
    assert stands_for("gpe:moscow") == "gpe:russia"
    assert stands_for(canonical_id("Pyongyang")) == "gpe:north-korea"
    assert stands_for(canonical_id("the Kremlin")) == "gpe:russia"


def test_type_guard_keeps_people_apart_from_places():
    assert canonical_id("Georgia", "PERSON") is None
    assert canonical_id("DPRK", "ORG") == "gpe:north-korea"


def test_unknown_names_and_query_ids():
    assert canonical_id("Ruritania Daily") is None
    assert entity_id("PERSON", "Zoë Müller-Lang") == "person:zoe-muller-lang"
    assert slugify("Censor.NET") == "censor-net"
    assert ids_for_query("DPRK") == ["gpe:north-korea"]
    unknown = ids_for_query("Jane Roe")
    assert "person:jane-roe" in unknown and "org:jane-roe" in unknown
    assert ids_for_query("  ") == []
