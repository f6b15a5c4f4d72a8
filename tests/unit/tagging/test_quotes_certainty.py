import pytest

from pipeline.tagging.certainty import certainty_of
from pipeline.tagging.quotes import find_quotes


def _texts(text):
    return [(text[q.start:q.end], q.continues is not None) for q in find_quotes(text)]


def test_straight_and_curly_quotes():
    text = 'She said: "The bridge will open in March." Later: “We are on budget,” he added.'
    assert _texts(text) == [("The bridge will open in March.", False), ("We are on budget", False)]


def test_multi_paragraph_quote_continues():
    text = 'The mayor said: "Our water is safe to drink.\n\n"We tested every well twice," she said.'
    assert _texts(text) == [("Our water is safe to drink.", False), ("We tested every well twice", True)]


def test_short_scare_quotes_and_apostrophes_ignored():
    text = "Critics called it a \"hoax\". It's the mayor's plan, not the council's."
    assert find_quotes(text) == []


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("There is no doubt that the dam is leaking.", "high"),
        ("The ministry clearly violated the rules.", "high"),
        ("The council does not rule out that taxes may rise.", "low"),
        ("The vaccine might reduce infections.", "low"),
        ("Turnout is likely to fall.", "medium"),
        ("The factory closed in 2019.", "high"),
        ("It is not clear whether the talks will resume.", "low"),
        ("Sales rose in May.", "high"),
        ("Officials have no doubts about the figures.", "high"),
    ],
)
def test_certainty_levels(text, level):
    assert certainty_of(text).level == level


def test_certainty_reports_the_deciding_cues_as_written():
    assert certainty_of("There is no doubt it may fail").cues == ["may"]  # the weakest cue decides
    assert certainty_of("It Clearly Worked").cues == ["Clearly"]


def test_british_single_quotes_but_not_apostrophes():
    text = ("‘We will not back down,’ the union leader said. It’s the teachers’ union that called "
            "the offer ‘an insult to every nurse’. “She called it ‘a disgrace’ on air,” he said.")
    assert _texts(text) == [
        ("We will not back down", False),
        ("an insult to every nurse", False),
        ("She called it ‘a disgrace’ on air", False),
    ]


def test_british_quote_attribution(tagger):
    r = tagger.tag("‘The ward will close in March,’ said health minister Clara Voss.")
    c = next(c for c in r.claims if "ward will close" in c.text)
    assert c.kind == "direct_quote" and c.speaker.entity_id == "person:clara-voss"
