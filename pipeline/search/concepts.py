"""What a free-text query is about: its words, and the entities among them that the alias table knows.

    >>> [(c.text, c.entity_id) for c in concepts("DPRK missile launches")]
    [('DPRK', 'gpe:north-korea'), ('missile', None), ('launches', None)]

An entity concept carries the other names of the entity (`forms`: "North Korea", "D.P.R.K.", ...), so the
query can match "North Korea" in the text when the user typed "DPRK" (alias expansion at query time, from
the same table the tagger canonicalises entities with: `pipeline.tagging.aliases`). Stop words are not
concepts. Queries written in Lucene syntax (AND/OR/NOT, quotes, field:value, wildcards, ...) are left to
`query_string`, which gives them their exact meaning.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# English function words (Lucene's English stop set plus pronouns and auxiliaries): never a concept on
# their own, and never an expansion form ("US" must not match the pronoun "us").
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor not
now of off on once only or other our ours ourselves out over own same she should so some such than that
the their theirs them themselves then there these they this those through to too under until up us very
was we were what when where which while who whom why will with would you your yours yourself yourselves
""".split())

# Table aliases that are also everyday words or part of other names; expanding to them would match text
# about something else ("fed up", "Latin America"). Typed by the user, they are matched as typed.
AMBIGUOUS_FORMS = frozenset({"america", "fed", "censor", "congress", "states"})

MAX_ENTITY_WORDS = 6
_JOINERS = ".'’&-"  # inside a word: "U.S", "Korea's", "AT&T", "COVID-19"
# Lucene query syntax: quotes, groups, ranges, boosts, fuzziness, wildcards, regexes ("/" anywhere, as
# query_string reads it), escapes, required and prohibited terms, boolean operators. A trailing "?" is a
# question mark, not a wildcard.
_SYNTAX = re.compile(r"""["()\[\]{}~^*\\/]|\?(?=\w)|(?<!\S)[+\-!](?=\S)|&&|\|\||\b(?:AND|OR|NOT)\b""")
# field:value (a colon followed by a space is punctuation: "Brexit: what next")
_FIELD_REF = re.compile(r"(?<![\w.\\])[A-Za-z_@][\w.]*:(?=[^\s/])")


@dataclass(frozen=True)
class Concept:
    """One unit of meaning in the query: a word, or an entity span with its other names."""

    text: str
    entity_id: str | None = None
    forms: tuple[str, ...] = ()

    @property
    def is_entity(self) -> bool:
        return self.entity_id is not None


def has_syntax(text: str) -> bool:
    """True when the query uses Lucene syntax (operators, quotes, field:value, wildcards, ...)."""
    return bool(_SYNTAX.search(text) or _FIELD_REF.search(text))


def words(text: str) -> list[str]:
    """The words of a query: letters, digits and combining marks (Arabic vowel signs, accents), with
    `.'’&-` kept inside a word."""
    out: list[str] = []
    current: list[str] = []
    for ch in f"{text} ":
        if ch.isalnum() or ch == "_" or unicodedata.category(ch).startswith("M"):
            current.append(ch)
        elif ch in _JOINERS and current:
            current.append(ch)
        elif current:
            out.append("".join(current).rstrip(_JOINERS))
            current = []
    return [w for w in out if w]


def concepts(text: str) -> list[Concept]:
    """The query's concepts, in order: the longest alias-table names first, then the remaining content words.
    When every word is a stop word, every word counts ("The Who")."""
    from pipeline.tagging.aliases import get_table

    table = get_table()
    tokens = words(text)
    out: list[Concept] = []
    i = 0
    while i < len(tokens):
        for size in range(min(MAX_ENTITY_WORDS, len(tokens) - i), 0, -1):
            span = tokens[i:i + size]
            if size > 1 and span[0].lower() in STOP_WORDS:
                continue  # "the UN": the table ignores "the", and so does the concept
            entry = table.lookup(" ".join(span))
            if entry is not None and _plausible_name(span):
                phrase = " ".join(span)
                out.append(Concept(phrase, entry.id, expansion_forms(phrase, (entry.name, *entry.aliases))))
                i += size
                break
        else:
            if tokens[i].lower() not in STOP_WORDS:
                out.append(Concept(tokens[i]))
            i += 1
    if not out and tokens:
        out = [Concept(t) for t in tokens]
    return out


def _plausible_name(span: list[str]) -> bool:
    """Whether a one-word span is meant as the name: a stop word only in capitals ("US", "WHO", not "us" or
    "Who won?"), a short word only when not all lower case ("fed"); longer words always ("russia")."""
    if len(span) > 1:
        return True
    word = span[0]
    if word.lower() in STOP_WORDS:
        return len(word) > 1 and word.isupper()
    return not (word.islower() and len(word) <= 3)


def expansion_forms(typed: str, names: tuple[str, ...]) -> tuple[str, ...]:
    """The names to look for in text: what the user typed, then the table's names; never a stop word ("US"
    would match "us": text fields are case-insensitive, so only the entity id can tell "WHO" from "who"),
    nor a name starting with "the" (the table also lists it without); of the table's names, not the everyday
    words either ("America"), though what the user typed counts ("Congress")."""
    out: dict[str, str] = {}
    for n, name in enumerate((typed, *names)):
        key = _key(name)
        if key in out or key in STOP_WORDS or key.startswith("the ") or (n > 0 and key in AMBIGUOUS_FORMS):
            continue
        out[key] = name
    return tuple(out.values())


def _key(name: str) -> str:
    return name.lower().rstrip(".")


def entity_ids(cs: list[Concept]) -> dict[str, str]:
    """typed text -> entity id, for the entity concepts (shown to the user as what the query resolved to)."""
    return {c.text: c.entity_id for c in cs if c.entity_id is not None}
