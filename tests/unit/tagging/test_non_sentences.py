"""Non-sentences are not claims: headings, product listings, navigation and feature bullets."""

from pipeline.tagging.tagger import is_heading

PAGE = """Best deals this week

Lumina X2 Wireless Earbuds with Charging Case (Latest Model)

$129.00

Available from Shopnet

Automatically on, automatically connected
Easy setup for all your devices

Home | World | Business | Sport

Shopnet discounts Lumina tablets from $300

Shopnet cut the price of the Lumina X2 earbuds to $129 on Monday, its lowest price this year."""


def test_headings_listings_and_bullets_are_not_claims(tagger):
    r = tagger.tag(PAGE)
    texts = [c.text for c in r.claims]
    for line in ("Lumina X2 Wireless Earbuds", "Available from Shopnet", "automatically connected",
                 "Home | World", "Shopnet discounts Lumina tablets", "Best deals this week"):
        assert not any(line in t for t in texts), (line, texts)
    assert any("cut the price of the Lumina X2 earbuds" in t for t in texts)


def test_is_heading():
    text = "Markets rally\nStocks rose 2% on Monday, traders said.\nA caption without a full stop"
    assert is_heading(text, 0, 13)
    assert not is_heading(text, 14, 52)
    assert is_heading(text, 53, len(text))


def test_an_unattributed_quotation_without_a_verb_is_a_title_not_a_claim(tagger):
    r = tagger.tag('She bought "The Lighthouse Keeper of Brest" at the fair. "Prices are rising everywhere."')
    texts = [c.text for c in r.claims]
    assert not any(t == "The Lighthouse Keeper of Brest" for t in texts)
    assert any("Prices are rising everywhere" in t for t in texts)
