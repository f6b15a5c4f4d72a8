"""Per-Doc memos: spaCy rebuilds ``doc.text`` and walks the whole Doc for ``token.sent`` and
``token.is_sent_start`` on every call, which made the rules quadratic on long articles."""

from __future__ import annotations

import bisect

from spacy.tokens import Doc, Span

_KEY = "newswatch"


class DocInfo:
    def __init__(self, doc: Doc) -> None:
        self.text = doc.text
        self.tokens = list(doc)  # one Token object per position, reused by every rule
        self.starts = [t.idx for t in self.tokens]
        self.sents: list[Span] = list(doc.sents)
        self.sent_of = [0] * len(doc)
        for n, sent in enumerate(self.sents):
            for i in range(sent.start, sent.end):
                self.sent_of[i] = n

    def tokens_in(self, start: int, end: int) -> list:
        """Tokens overlapping the char span [start, end)."""
        lo = max(0, bisect.bisect_right(self.starts, start) - 1)
        if lo < len(self.tokens) and self.starts[lo] + len(self.tokens[lo].text) <= start:
            lo += 1
        hi = bisect.bisect_left(self.starts, end)
        return self.tokens[lo:hi]

    def sent(self, i: int) -> Span:
        return self.sents[self.sent_of[i]]


def info(doc: Doc) -> DocInfo:
    cached = doc.user_data.get(_KEY)
    if cached is None:
        cached = doc.user_data[_KEY] = DocInfo(doc)
    return cached
