"""Hypothesis: the span validator against a plain oracle. On any text and any spans, valid or not,
it reports exactly the spans for which ``text[start:end] == span text`` fails (or the span is not
inside the text), once each, in order; and a result it accepts is returned unchanged."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.tagging.schema import Certainty, Claim, Cue, Entity, Mention, Speaker, Tagger, TagResult
from pipeline.tagging.spans import SpanError, span_errors, validate_spans

# no example database in the work tree; no deadline on a busy 2-core machine
PROPERTY = settings(database=None, deadline=None, max_examples=300)
TEXTS = st.text(alphabet=st.sampled_from("ab .\n\"“”é"), max_size=40)


@st.composite
def span(draw: st.DrawFn, text: str) -> tuple[int, int, str]:
    """A span over `text`: mostly true ones, some shifted, stretched, out of range or with other text."""
    n = len(text)
    start = draw(st.integers(-2, n + 2))
    end = draw(st.integers(-2, n + 2))
    if draw(st.booleans()):  # a true span
        start, end = sorted((max(0, min(start, n)), max(0, min(end, n))))
        return start, end, text[start:end]
    return start, end, draw(st.one_of(st.just(text[max(0, start):max(0, end)]), TEXTS))


def _ok(text: str, start: int, end: int, value: str) -> bool:
    return 0 <= start <= end <= len(text) and text[start:end] == value


@st.composite
def tagged(draw: st.DrawFn) -> tuple[str, TagResult, list[str]]:
    """A text, a TagResult over it, and the labels of the spans that should be reported, in order."""
    text = draw(TEXTS)
    expected: list[str] = []
    entities = []
    for e in range(draw(st.integers(0, 2))):
        mentions = []
        for _ in range(draw(st.integers(0, 3))):
            s, t, v = draw(span(text))
            mentions.append(Mention(start=s, end=t, text=v))
            if not _ok(text, s, t, v):
                expected.append(f"entity e{e} mention")
        entities.append(Entity(id=f"e{e}", name="x", type="ORG", mentions=mentions))
    claims = []
    for c in range(draw(st.integers(0, 3))):
        s, t, v = draw(span(text))
        if not _ok(text, s, t, v):
            expected.append(f"claim c{c}")
        speaker = cue = None
        if draw(st.booleans()):
            ss, st_, sv = draw(span(text))
            speaker = Speaker(name="x", mention=sv, start=ss, end=st_)
            if not _ok(text, ss, st_, sv):
                expected.append(f"claim c{c} speaker")
        if draw(st.booleans()):
            cs, ct, cv = draw(span(text))
            cue = Cue(text=cv, lemma="say", start=cs, end=ct)
            if not _ok(text, cs, ct, cv):
                expected.append(f"claim c{c} cue")
        claims.append(Claim(id=f"c{c}", text=v, start=s, end=t, kind="assertion", speaker=speaker, cue=cue,
                            certainty=Certainty(level="medium"), checkworthiness=0.5))
    return text, TagResult(tagger=Tagger(version="t"), entities=entities, claims=claims), expected


@PROPERTY
@given(tagged())
def test_exactly_the_broken_spans_are_reported(case):
    text, result, expected = case
    errors = span_errors(text, result)
    assert [e.split(": [")[0] for e in errors] == expected
    if expected:
        try:
            validate_spans(text, result)
        except SpanError as exc:
            assert str(exc) == "; ".join(errors[:5])
        else:
            raise AssertionError("a result with a broken span was accepted")
    else:
        assert validate_spans(text, result) is result


@PROPERTY
@given(TEXTS, st.data())
def test_the_error_quotes_the_span_and_what_the_text_holds_there(text, data):
    start, end, value = data.draw(span(text))
    result = TagResult(tagger=Tagger(version="t"), claims=[Claim(
        id="c", text=value, start=start, end=end, kind="assertion", certainty=Certainty(level="low"),
        checkworthiness=0.1)])
    errors = span_errors(text, result)
    if _ok(text, start, end, value):
        assert errors == []
    else:
        assert errors == [f"claim c: [{start}:{end}] {value!r} != {text[max(0, start):max(0, end)]!r}"]
