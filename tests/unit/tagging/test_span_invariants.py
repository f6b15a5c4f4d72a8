"""The span validator with each kind of span broken in turn: entity mention, speaker, cue, a direct
quote and an unattributed claim. Hand-built TagResults (no tagger), so every check is exercised on its own."""

from __future__ import annotations

import pytest

from pipeline.tagging.schema import Certainty, Claim, Cue, Entity, Mention, Speaker, Tagger, TagResult
from pipeline.tagging.spans import SpanError, span_errors, validate_spans

TEXT = '"The bridge will reopen," Maria Costa said. Prices may rise, the ECB noted.'
# spans: quote [1:23], "Maria Costa" [26:37], "said" [38:42], "Prices may rise" [44:59], "ECB" [65:68]; 75 long


def _span(needle: str) -> tuple[int, int]:
    start = TEXT.index(needle)
    return start, start + len(needle)


def _result() -> TagResult:
    quote_start, quote_end = _span("The bridge will reopen")
    maria = _span("Maria Costa")
    said = _span("said")
    ecb = _span("ECB")
    assertion = _span("Prices may rise")
    return TagResult(
        tagger=Tagger(version="t"),
        entities=[
            Entity(id="person:maria-costa", name="Maria Costa", type="PERSON",
                   mentions=[Mention(start=maria[0], end=maria[1], text="Maria Costa")]),
            Entity(id="org:ecb", name="European Central Bank", type="ORG",
                   mentions=[Mention(start=ecb[0], end=ecb[1], text="ECB")]),
        ],
        claims=[
            Claim(id="q1", text="The bridge will reopen", start=quote_start, end=quote_end, kind="direct_quote",
                  speaker=Speaker(name="Maria Costa", mention="Maria Costa", start=maria[0], end=maria[1]),
                  cue=Cue(text="said", lemma="say", start=said[0], end=said[1]),
                  certainty=Certainty(level="high"), checkworthiness=0.5),
            Claim(id="a1", text="Prices may rise", start=assertion[0], end=assertion[1], kind="assertion",
                  certainty=Certainty(level="low"), checkworthiness=0.5),
        ],
    )


def test_a_result_whose_spans_all_match_passes():
    result = _result()
    assert span_errors(TEXT, result) == []
    assert validate_spans(TEXT, result) is result


def _shift(span, by: int = 1) -> None:
    span.start += by
    span.end += by


BREAKS = {
    # each: (how to break one span, the exact error)
    "entity mention shifted": (lambda r: _shift(r.entities[0].mentions[0]),
                               "entity person:maria-costa mention: [27:38] 'Maria Costa' != 'aria Costa '"),
    "entity mention text": (lambda r: setattr(r.entities[1].mentions[0], "text", "EC B"),
                            "entity org:ecb mention: [65:68] 'EC B' != 'ECB'"),
    "speaker shifted": (lambda r: _shift(r.claims[0].speaker, -1),
                        "claim q1 speaker: [25:36] 'Maria Costa' != ' Maria Cost'"),
    "speaker mention text": (lambda r: setattr(r.claims[0].speaker, "mention", "Costa"),
                             "claim q1 speaker: [26:37] 'Costa' != 'Maria Costa'"),
    "cue shifted": (lambda r: _shift(r.claims[0].cue),
                    "claim q1 cue: [39:43] 'said' != 'aid.'"),
    "cue text": (lambda r: setattr(r.claims[0].cue, "text", "says"),
                 "claim q1 cue: [38:42] 'says' != 'said'"),
    "direct quote shifted": (lambda r: _shift(r.claims[0], 2),
                             "claim q1: [3:25] 'The bridge will reopen' != 'e bridge will reopen,\"'"),
    "assertion text": (lambda r: setattr(r.claims[1], "text", "Prices will rise"),
                       "claim a1: [44:59] 'Prices will rise' != 'Prices may rise'"),
    "negative start": (lambda r: setattr(r.claims[1], "start", -1),
                       "claim a1: [-1:59] 'Prices may rise' != '\"The bridge will reopen,\" Maria Costa said. Prices may rise'"),
    "end past the text": (lambda r: setattr(r.entities[1].mentions[0], "end", len(TEXT) + 1),
                          "entity org:ecb mention: [65:76] 'ECB' != 'ECB noted.'"),
    "start after end": (lambda r: (setattr(r.claims[0].cue, "start", 41), setattr(r.claims[0].cue, "end", 37)),
                        "claim q1 cue: [41:37] 'said' != ''"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_broken_span_is_named_exactly(name):
    breaker, expected = BREAKS[name]
    result = _result()
    breaker(result)
    assert span_errors(TEXT, result) == [expected]
    with pytest.raises(SpanError) as raised:
        validate_spans(TEXT, result)
    assert str(raised.value) == expected


def test_an_empty_span_at_either_end_of_the_text_is_valid():
    result = _result()
    result.entities[0].mentions = [Mention(start=0, end=0, text=""), Mention(start=len(TEXT), end=len(TEXT), text=""),
                                   Mention(start=len(TEXT) - 6, end=len(TEXT), text="noted.")]
    assert span_errors(TEXT, result) == []
    result.entities[0].mentions.append(Mention(start=len(TEXT) + 1, end=len(TEXT) + 1, text=""))
    assert span_errors(TEXT, result) == [f"entity person:maria-costa mention: [{len(TEXT) + 1}:{len(TEXT) + 1}] '' != ''"]


def test_claims_without_speaker_or_cue_check_the_claim_span_only():
    result = _result()
    result.claims[0].speaker = None
    result.claims[0].cue = None
    assert span_errors(TEXT, result) == []
    result.claims[0].start += 1
    assert [e.split(":")[0] for e in span_errors(TEXT, result)] == ["claim q1"]


def test_every_error_is_listed_and_the_exception_names_the_first_five():
    result = _result()
    result.entities[0].mentions = [Mention(start=n, end=n + 1, text="#") for n in range(7)]
    errors = span_errors(TEXT, result)
    assert len(errors) == 7
    with pytest.raises(SpanError) as raised:
        validate_spans(TEXT, result)
    assert str(raised.value) == "; ".join(errors[:5])


def test_a_quoted_part_must_lie_inside_its_claim():
    """The quoted parts of a claim (QuoteSpan, without their quote marks) lie inside the claim span."""
    from pipeline.tagging.schema import QuoteSpan

    result = _result()
    quote = result.claims[0]  # "The bridge will reopen" at [1:23]
    quote.quotes = [QuoteSpan(start=1, end=23), QuoteSpan(start=5, end=11)]
    assert span_errors(TEXT, result) == []
    for start, end in ((0, 23), (1, 24), (5, 5), (11, 5)):
        quote.quotes = [QuoteSpan(start=start, end=end)]
        assert span_errors(TEXT, result) == [f"claim q1 quote: [{start}:{end}] outside the claim [1:23]"]
