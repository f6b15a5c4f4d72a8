"""The span invariant: every span satisfies ``text[start:end] == span text``, and a claim's quoted
parts lie inside the claim."""

from __future__ import annotations

from pipeline.tagging.schema import TagResult


class SpanError(ValueError):
    """A span in a TagResult does not match the text it was computed on (a tagger bug)."""


def span_errors(text: str, result: TagResult) -> list[str]:
    errors: list[str] = []

    def check(where: str, start: int, end: int, value: str) -> None:
        if not (0 <= start <= end <= len(text)) or text[start:end] != value:
            errors.append(f"{where}: [{start}:{end}] {value!r} != {text[max(0, start):max(0, end)]!r}")

    for e in result.entities:
        for m in e.mentions:
            check(f"entity {e.id} mention", m.start, m.end, m.text)
    for c in result.claims:
        check(f"claim {c.id}", c.start, c.end, c.text)
        if c.speaker is not None:
            check(f"claim {c.id} speaker", c.speaker.start, c.speaker.end, c.speaker.mention)
        if c.cue is not None:
            check(f"claim {c.id} cue", c.cue.start, c.cue.end, c.cue.text)
        for q in c.quotes:  # a quoted part lies inside its claim
            if not (c.start <= q.start < q.end <= c.end):
                errors.append(f"claim {c.id} quote: [{q.start}:{q.end}] outside the claim [{c.start}:{c.end}]")
    return errors


def validate_spans(text: str, result: TagResult) -> TagResult:
    errors = span_errors(text, result)
    if errors:
        raise SpanError("; ".join(errors[:5]))
    return result
