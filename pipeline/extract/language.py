"""Page language: the page's own declaration first, then a stopword vote over the text."""

from __future__ import annotations

import re
from collections import Counter

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset("the and of to in is that for it was on with as are be by this have from at not".split()),
    "de": frozenset("der die und das ist nicht mit den von zu sich auf für ein eine dem des im auch".split()),
    "fr": frozenset("le la les et des est une dans que pour pas qui sur du au avec ce sont par".split()),
    "es": frozenset("el la los las y que de en un una es por con para del se al lo su".split()),
    "it": frozenset("il la che di e un una per non con del della sono gli le nel si da".split()),
    "pt": frozenset("o a os as e que de em um uma para com não do da dos das no na".split()),
    "nl": frozenset("de het een en van is dat op in te niet met voor zijn er aan ook".split()),
}
_LANGUAGES_OF: dict[str, tuple[str, ...]] = {
    word: tuple(lang for lang, stops in _STOPWORDS.items() if word in stops)
    for word in sorted(set().union(*_STOPWORDS.values()))
}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_LANG_ATTR = re.compile(r"<html[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)
_META_LANG = re.compile(
    r"<meta[^>]+(?:http-equiv\s*=\s*[\"']content-language[\"'][^>]*content|property\s*=\s*[\"']og:locale[\"'][^>]*content)"
    r"\s*=\s*[\"']([A-Za-z]{2,3})",
    re.IGNORECASE,
)


def declared_language(html: str) -> str | None:
    head = html[:50_000]
    for pattern in (_LANG_ATTR, _META_LANG):
        m = pattern.search(head)
        if m:
            return m.group(1).lower()
    return None


def guess_language(text: str, min_hits: int = 5) -> str | None:
    """The language whose stopwords are most frequent in the text (the first 20,000 characters),
    or None below `min_hits` stopwords. Each distinct word is looked up once."""
    counts: Counter[str] = Counter()
    for word, n in Counter(_WORD.findall(text[:20_000])).items():
        counts[word.lower()] += n
    votes: Counter[str] = Counter()
    for word, n in counts.items():  # first-occurrence order, so ties go to the same language as before
        for lang in _LANGUAGES_OF.get(word, ()):
            votes[lang] += n
    if not votes:
        return None
    lang, hits = votes.most_common(1)[0]
    return lang if hits >= min_hits else None
