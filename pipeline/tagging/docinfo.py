"""Per-Doc memos: spaCy rebuilds ``doc.text`` and walks the whole Doc for ``token.sent`` and
``token.is_sent_start`` on every call, which made the rules quadratic on long articles."""

from __future__ import annotations

import bisect
import re

from spacy.attrs import IDX, SENT_START
from spacy.tokens import Doc, Span

_KEY = "newswatch"


class DocInfo:
    def __init__(self, doc: Doc, text: str | None = None) -> None:
        # the text the Doc was made from when the caller has it (doc.text re-joins every token)
        self.text = text if text is not None and len(doc) and len(text) == doc[-1].idx + len(doc[-1].text_with_ws) \
            else doc.text
        self.tokens = list(doc)  # one Token object per position, reused by every rule
        n = len(self.tokens)
        self.starts = doc.to_array(IDX).tolist() if n else []
        # sentence bounds from one array read (doc.sents walks the Doc in Python)
        flags = doc.to_array(SENT_START).tolist() if n else []
        bounds = [i for i, f in enumerate(flags) if f == 1 or i == 0] + [n]
        self.sents: list[Span] = [doc[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a]
        self.sent_starts = bounds[:-1]
        self.sent_of = [0] * n
        for k, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
            self.sent_of[a:b] = [k] * (b - a)
        self._lemmas: list[str] | None = None
        self._lowers: list[str] | None = None
        self._titles: dict[str, int] | None = None
        # paragraphs are non-blank lines; a char in a blank run belongs to the line before
        self.para_starts = [m.start() for m in re.finditer(r"[^\n]+", self.text)] or [0]
        if self.para_starts[0] != 0:
            self.para_starts.insert(0, 0)

    def para_of(self, char: int) -> int:
        return max(0, bisect.bisect_right(self.para_starts, char) - 1)

    def para_start(self, para: int) -> int:
        """Char offset where paragraph `para` starts (0 for a negative index)."""
        return self.para_starts[para] if para > 0 else 0

    def tokens_in(self, start: int, end: int) -> list:
        """Tokens overlapping the char span [start, end)."""
        lo = max(0, bisect.bisect_right(self.starts, start) - 1)
        if lo < len(self.tokens) and self.starts[lo] + len(self.tokens[lo].text) <= start:
            lo += 1
        hi = bisect.bisect_left(self.starts, end)
        return self.tokens[lo:hi]

    def sent(self, i: int) -> Span:
        return self.sents[self.sent_of[i]]

    def sent_start(self, i: int) -> int:
        """Index of the first token of token `i`'s sentence."""
        return self.sent_starts[self.sent_of[i]]

    @property
    def lemmas(self) -> list[str]:
        """Lowercased lemmas of every token, read once."""
        if self._lemmas is None:
            self._lemmas = [t.lemma_.lower() for t in self.tokens]
        return self._lemmas

    def title_counts(self) -> dict[str, int]:
        """How often each capitalised word occurs in the Doc."""
        if self._titles is None:
            counts: dict[str, int] = {}
            for w in re.findall(r"\b[A-Z][\w&.-]*", self.text):
                counts[w] = counts.get(w, 0) + 1
            self._titles = counts
        return self._titles

    @property
    def lowers(self) -> list[str]:
        if self._lowers is None:
            self._lowers = [t.lower_ for t in self.tokens]
        return self._lowers


def info(doc: Doc, text: str | None = None) -> DocInfo:
    """The Doc's memo, made on first use (with `text`, the text the Doc was parsed from, when known)."""
    cached = doc.user_data.get(_KEY)
    if cached is None:
        cached = doc.user_data[_KEY] = DocInfo(doc, text)
    return cached
