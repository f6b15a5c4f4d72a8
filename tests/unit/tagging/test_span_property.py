"""Property-style: on many generated news-like texts every span matches the text exactly."""

import random

from pipeline.tagging.schema import TagResult
from pipeline.tagging.spans import SpanError, span_errors, validate_spans

NAMES = ["Jens Stoltenberg", "Maria Costa", "the Secretary-General", "He", "She", "Censor.NET",
         "North Korea's", "the DPRK", "Moscow", "The U.S.", "Dr. Amal Haddad", "Zoë Müller", "NATO"]
VERBS = ["said", "told Reuters", "emphasized", "warned", "added", "claimed", "noted"]
CLAUSES = ["prices may rise by 4.5% next year", "there is no doubt the bridge collapsed",
           "the council does not rule out new taxes", "talks will resume in Geneva on 12 May",
           "exports to Russia's allies doubled", "the law bans smoking in parks",
           "unemployment fell because factories reopened", "it's “clearly” a mistake"]
QUOTES = ['"{c}," {n} {v}.', "“{c},” {v} {n}.", '{n} {v}: "{c}."', '{n} {v} that {c}.',
          "According to {n}, {c}.", "This was stated by {n}.", '"{c}.\n\n"{c}," {n} {v}.',
          "{c}.", "{n}'s office said in a statement that {c}.", '“{c}', '{n} {v} "{c}"']


def _text(rng: random.Random) -> str:
    paras = []
    for _ in range(rng.randint(1, 6)):
        tpl = rng.choice(QUOTES)
        paras.append(tpl.format(c=rng.choice(CLAUSES), n=rng.choice(NAMES), v=rng.choice(VERBS)))
    sep = rng.choice(["\n\n", "\n", " ", "\r\n\r\n", "\n \n"])
    return sep.join(paras) + rng.choice(["", " ", "\n", "…"])


def test_spans_hold_on_generated_texts(tagger):
    rng = random.Random(1234)
    texts = [_text(rng) for _ in range(80)]
    for text, result in zip(texts, tagger.tag_many(texts, batch_size=16), strict=True):
        assert span_errors(text, result) == [], text
        for c in result.claims:
            assert 0 <= c.start < c.end <= len(text)
            assert 0.0 <= c.checkworthiness <= 1.0
        assert len({c.id for c in result.claims}) == len(result.claims)


def test_validate_spans_rejects_a_wrong_span(tagger):
    text = "Maria Costa said that the harbour will reopen next week."
    result = tagger.tag(text)
    assert validate_spans(text, result) is result
    broken = TagResult.model_validate(result.model_dump())
    broken.claims[0].start += 1
    try:
        validate_spans(text, broken)
    except SpanError as exc:
        assert "claim" in str(exc)
    else:
        raise AssertionError("a shifted span was accepted")
