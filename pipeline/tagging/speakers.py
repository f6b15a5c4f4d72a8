"""Who is speaking: the subject of a reporting verb, resolved to an entity.

Names resolve through the entity index (surname, alias and role mentions are already merged);
pronouns go to the most recent compatible speaker; reporting nouns ("a statement from the
ministry") to their owner; unknown proper names become new entities; anything else stays a
phrase ("a spokesperson for the ministry").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacy.tokens import Doc, Token

from pipeline.tagging import aliases
from pipeline.tagging.docinfo import info
from pipeline.tagging.entities import ECluster, EMention, EntityIndex, looks_like_org
from pipeline.tagging.lexicon import GROUP_PRONOUNS, PERSON_PRONOUNS, REPORTING_NOUNS, ROLE_HEADS

_ORG_NOUNS = frozenset(
    """agency company group organization organisation commission ministry department office firm label
    government network newspaper paper council committee party union coalition board bank court
    institute university publication outlet broadcaster station channel website club team""".split()
)

_PERSON_NOUNS = ROLE_HEADS | frozenset(
    "man woman person resident witness source official officer spokesperson mother father student".split()
)
_NP_DROP = frozenset({"relcl", "appos", "acl", "punct", "cc", "conj", "advcl", "parataxis"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass"})
_MALE = frozenset({"he", "him", "his", "himself"})
_FEMALE = frozenset({"she", "her", "hers", "herself"})


@dataclass
class ResolvedSpeaker:
    name: str
    key: str | None  # entity cluster key
    mention: str
    start: int
    end: int
    person_like: bool


def subject_of(verb: Token, depth: int = 0) -> Token | None:
    """The speaker token of a reporting verb (or of "according to")."""
    if verb.lower_ == "according":
        for child in verb.children:
            if child.lower_ == "to":
                return next((c for c in child.children if c.dep_ == "pobj"), None)
        return None
    for child in verb.children:
        if child.dep_ == "agent":
            pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
            if pobj is not None:
                return pobj
    for child in verb.children:
        if child.dep_ in ("nsubj", "csubj"):
            return child
    if any(c.dep_ == "nsubjpass" for c in verb.children):
        return None
    # "The 48-year-old said": the parser hung the subject's words on the verb as modifiers
    mods = [c for c in verb.children if c.i < verb.i and c.dep_ in ("amod", "compound", "nmod", "nummod")]
    if mods and any(c.dep_ == "det" for c in verb.children):
        return max(mods, key=lambda c: c.i)
    if depth < 3 and verb.dep_ == "pcomp" and verb.head.head is not verb.head:
        head = verb.head.head  # "was quoted as saying": the one quoted
        passive = next((c for c in head.children if c.dep_ == "nsubjpass"), None)
        if passive is not None and head.lemma_.lower() in ("quote", "cite"):
            return passive
        return subject_of(head, depth + 1)
    if depth < 3 and verb.dep_ in ("conj", "advcl", "xcomp", "relcl") and verb.head is not verb:
        if verb.dep_ == "relcl":
            return verb.head
        return subject_of(verb.head, depth + 1)
    return None


def noun_phrase(tok: Token) -> tuple[int, int]:
    """Token bounds of the compact noun phrase headed by ``tok`` (no relative clauses/appositions)."""
    lo, hi = tok.i, tok.i
    stack = [c for c in tok.children if c.dep_ not in _NP_DROP]
    while stack:
        c = stack.pop()
        lo, hi = min(lo, c.i), max(hi, c.i)
        stack.extend(x for x in c.children if x.dep_ not in _NP_DROP)
    return lo, hi + 1


class SpeakerResolver:
    def __init__(self, doc: Doc, index: EntityIndex) -> None:
        self.doc = doc
        self.index = index
        self.history: list[tuple[int, ResolvedSpeaker]] = []
        self.gender = _genders(doc, index)

    def _compatible(self, key: str | None, pronoun: str) -> bool:
        g = self.gender.get(key or "")
        if g is None:
            return True
        return (pronoun in _MALE and g == "m") or (pronoun in _FEMALE and g == "f")

    def remember(self, position: int, speaker: ResolvedSpeaker) -> None:
        self.history.append((position, speaker))

    def _from_mention(self, m: EMention) -> ResolvedSpeaker:
        cluster = self.index.clusters[m.key]
        return ResolvedSpeaker(cluster.name, cluster.key, m.text, m.start, m.end, cluster.type == "PERSON")

    def _pronoun(self, tok: Token, position: int) -> ResolvedSpeaker | None:
        """The most recent compatible speaker or subject before the pronoun; for he/she a person whose
        gender is known to match beats one whose gender is unknown."""
        low = tok.lower_
        want_person = low in PERSON_PRONOUNS
        if (not want_person and low not in GROUP_PRONOUNS) or low in ("we", "us"):
            return None
        candidates: list[tuple[int, bool, ResolvedSpeaker]] = []  # (position, subject, speaker)
        for pos, sp in self.history:
            if pos <= position and sp.person_like == want_person:
                candidates.append((pos, True, sp))
        wanted = ("PERSON",) if want_person else ("ORG", "GPE", "NORP")
        seen = 0
        for i in range(tok.i - 1, -1, -1):
            m = self.index.token_mention[i]
            if m is None or i != m.tok_start or self.index.clusters[m.key].type not in wanted:
                continue
            c = self.index.clusters[m.key]
            root = self.doc[m.tok_start:m.tok_end].root
            subject = root.dep_ in _SUBJECT_DEPS or (root.dep_ == "compound" and root.head.dep_ in _SUBJECT_DEPS)
            candidates.append((m.start, subject, ResolvedSpeaker(c.name, c.key, m.text, m.start, m.end, want_person)))
            seen += 1
            if seen >= 8:
                break
        if want_person:
            candidates = [c for c in candidates if self._compatible(c[2].key, low)]
        if not candidates:
            return None
        history = [c for c in candidates if c[1] and any(c[2] is sp for _, sp in self.history)]
        latest_speaker = max(history, key=lambda c: c[0]) if history else None

        def gender_known(c: tuple[int, bool, ResolvedSpeaker]) -> int:
            return 1 if want_person and self.gender.get(c[2].key or "") else 0

        mention = max(candidates, key=lambda c: (gender_known(c), 1 if c[1] else 0, c[0]))
        if latest_speaker is not None and (latest_speaker[0] >= mention[0] or (want_person and not gender_known(mention))):
            sp = latest_speaker[2]
        else:
            sp = mention[2]
        return ResolvedSpeaker(sp.name, sp.key, tok.text, tok.idx, tok.idx + len(tok.text), sp.person_like)

    def resolve(self, tok: Token | None, position: int) -> ResolvedSpeaker | None:
        if tok is None:
            return None
        mention = self.index.token_mention[tok.i]
        if mention is not None and self._is_dateline(mention):
            # "HANOI, Vietnam (AP) — U.S. Defense Secretary Mark Esper on Wednesday accused ...": the
            # parser made the dateline the subject; the speaker is the name after the dash
            dash = next((t.i for t in tok.subtree if t.text in ("—", "–", "-") and t.i > tok.i), None)
            after = [t for t in tok.subtree if dash is not None and t.i > dash and t.dep_ == "appos"
                     and self.index.token_mention[t.i] is not None]
            if after:
                return self._from_mention(self.index.token_mention[after[-1].i])
        if mention is not None:
            return self._from_mention(mention)
        if tok.pos_ == "PRON" and (tok.lower_ in PERSON_PRONOUNS or tok.lower_ in GROUP_PRONOUNS):
            return self._pronoun(tok, position)
        if tok.lower_ in ("i", "me", "you", "we", "us"):
            return None  # the writer or the reader: not a resolvable speaker
        if tok.lemma_.lower() in REPORTING_NOUNS:
            owned = any(c.dep_ == "poss" or (c.dep_ == "prep" and c.lower_ in ("from", "by", "of")) for c in tok.children)
            if not owned and any(c.lower_ == "the" for c in tok.children) and self.history:
                sp = self.history[-1][1]  # "the statement said": the statement just mentioned
                return ResolvedSpeaker(sp.name, sp.key, tok.text, tok.idx, tok.idx + len(tok.text), sp.person_like)
            for child in tok.children:
                if child.dep_ == "poss":
                    return self.resolve(child, position)
                if child.dep_ == "prep" and child.lower_ in ("from", "by", "of"):
                    pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
                    if pobj is not None:
                        return self.resolve(pobj, position)
        # "Carlineo's attorney, Sonya Zoghlin, said", "The group that owns her music, Big Machine, says"
        for t in tok.subtree:
            if t.dep_ != "appos" or t.i <= tok.i:
                continue
            m = self.index.token_mention[t.i]
            if m is not None and self.index.clusters[m.key].type in ("PERSON", "ORG"):
                return self._from_mention(m)
            if m is None and t.pos_ == "PROPN" and tok.pos_ == "NOUN":
                hint = "ORG" if tok.lemma_.lower() in _ORG_NOUNS else "PERSON" if tok.lemma_.lower() in _PERSON_NOUNS else None
                found = self.entity_for_name(t, hint)
                if found.key:
                    self.index.nouns.append((tok.lemma_.lower(), found.key, tok.idx))
                return found
        lo, hi = noun_phrase(tok)
        role = self._role_or_noun(tok, lo, position)
        if role is not None:
            return role
        # a name inside the phrase ("Minister Smith", "the Kremlin's spokesman Peskov")
        for i in range(hi - 1, lo - 1, -1):
            m = self.index.token_mention[i]
            if m is not None and self.index.clusters[m.key].type == "PERSON" and i >= tok.i:
                return self._from_mention(m)
        if tok.pos_ == "PROPN" and tok.text[:1].isupper():
            return self.entity_for_name(tok)
        if lo > 0 and self.doc[lo - 1].lower_ == "the" and self.doc[lo - 1].head.i in (tok.i, tok.head.i):
            lo -= 1
        if self.doc[lo].lower_ == "the" and (tok.lemma_.lower() in _PERSON_NOUNS or re.search(r"\d+-year-old$", tok.text)
                                               or (tok.i > 0 and re.search(r"\d+-year-$", self.doc[lo:tok.i].text))):
            # "the 56-year-old", "the Portuguese boss": the person the story is about
            person = self._pronoun_like_person(tok, position)
            if person is not None:
                return person
        antecedent = self._antecedent_phrase(tok, lo)
        if antecedent is not None:
            return antecedent
        if tok.pos_ == "NOUN" and tok.lemma_.lower() in _ORG_NOUNS and self.doc[lo].lower_ == "the":
            org = self._org_fallback(tok, position)
            if org is not None:
                return org
        while lo < hi and self.doc[lo].dep_ == "det":
            lo += 1
        span = self.doc[lo:hi]
        if not span.text.strip():
            return None
        start, end = span.start_char, span.end_char
        return ResolvedSpeaker(span.text, None, span.text, start, end, tok.lemma_.lower() in _PERSON_NOUNS)

    def _is_dateline(self, m: EMention) -> bool:
        text = info(self.doc).text
        return m.text.isupper() and (m.start == 0 or text[m.start - 1] == "\n")

    def _role_or_noun(self, tok: Token, lo: int, position: int) -> ResolvedSpeaker | None:
        """"Austria's interior minister" (a title given elsewhere), "the company" (a known noun)."""
        if tok.pos_ != "NOUN":
            return None
        lemma = tok.lemma_.lower()
        span = self.doc[lo:tok.i + 1]
        key = None
        if lemma in ROLE_HEADS:
            words = frozenset(w.lower_ for w in span if w.lower_ in ROLE_HEADS or w.dep_ in ("amod", "compound"))
            matches = [(abs(pos - position), k) for ts, k, pos in self.index.titles if words and words <= ts]
            if len({k for _, k in matches}) == 1:
                key = matches[0][1]
        definite = any(w.lower_ in ("the", "this") for w in span[:1])
        if key is None and definite:
            nouns = [(pos, k) for n, k, pos in self.index.nouns if n == lemma and pos < position]
            if nouns:
                key = max(nouns)[1]
            elif lemma in _ORG_NOUNS:
                key = self._recent_org_named(lemma, tok.i, exact=True)
        if key is None:
            return None
        cluster = self.index.clusters[key]
        return ResolvedSpeaker(cluster.name, key, span.text, span.start_char, span.end_char, cluster.type == "PERSON")

    def _pronoun_like_person(self, tok: Token, position: int) -> ResolvedSpeaker | None:
        """The most salient person so far: most mentions before this point, then the latest."""
        lo, _ = noun_phrase(tok)
        if lo > 0 and self.doc[lo - 1].lower_ == "the":
            lo -= 1
        span = self.doc[lo:tok.i + 1]
        seen: dict[str, list[int]] = {}
        for c in self.index.clusters.values():
            if c.type != "PERSON":
                continue
            starts = [m.start for m in c.mentions if m.start < span.start_char]
            if starts:
                seen[c.key] = [len(starts), max(starts)]
        if not seen:
            return None
        key = max(seen, key=lambda k: (seen[k][0], seen[k][1]))
        c = self.index.clusters[key]
        return ResolvedSpeaker(c.name, c.key, span.text, span.start_char, span.end_char, True)

    def _org_fallback(self, tok: Token, position: int) -> ResolvedSpeaker | None:
        """"the company said" with no better antecedent: the latest organisation that spoke, else the
        latest organisation named."""
        key = None
        for pos, sp in reversed(self.history):
            if pos <= position and sp.key and self.index.clusters[sp.key].type == "ORG":
                key = sp.key
                break
        key = key or self._recent_org_named(tok.lemma_.lower(), tok.i)
        if key is None:
            return None
        lo, _ = noun_phrase(tok)
        span = self.doc[lo:tok.i + 1]
        c = self.index.clusters[key]
        return ResolvedSpeaker(c.name, key, span.text, span.start_char, span.end_char, False)

    def _antecedent_phrase(self, tok: Token, lo: int) -> ResolvedSpeaker | None:
        """"the commission said" after "the regional health commission": name the speaker by the fuller
        earlier description of the same thing."""
        if tok.pos_ != "NOUN" or self.doc[lo].lower_ != "the" or any(c.dep_ in ("amod", "compound") for c in tok.children):
            return None
        lemma = tok.lemma_.lower()
        for i in range(tok.i - 1, max(-1, tok.i - 400), -1):
            t = self.doc[i]
            if t.lower_ != tok.lower_ or t.pos_ not in ("NOUN", "PROPN"):
                continue
            mods = [c for c in t.children if c.dep_ in ("amod", "compound")]
            if not mods:
                continue
            a = min([c.left_edge.i for c in mods] + [t.i])
            phrase = self.doc[a:t.i + 1]
            span = self.doc[lo:tok.i + 1]
            return ResolvedSpeaker(phrase.text, None, span.text, span.start_char, span.end_char, lemma in _PERSON_NOUNS)
        return None

    def _recent_org_named(self, lemma: str, before: int, exact: bool = False) -> str | None:
        fallback = None
        any_org: str | None = None
        for i in range(before - 1, -1, -1):
            m = self.index.token_mention[i]
            if m is None:
                continue
            c = self.index.clusters[m.key]
            if c.type != "ORG":
                continue
            if lemma in c.name.lower() or any(lemma in a.lower() for a in c.aliases):
                return c.key
            if exact:
                continue
            if fallback is None and self.doc[m.tok_start:m.tok_end].root.dep_ in _SUBJECT_DEPS:
                fallback = c.key
            any_org = any_org or c.key
        return fallback or any_org

    def entity_for_name(self, tok: Token, hint: str | None = None) -> ResolvedSpeaker:
        lo = tok.i
        while lo > 0 and self.doc[lo - 1].dep_ == "compound" and self.doc[lo - 1].pos_ == "PROPN" and self.doc[lo - 1].head.i >= tok.i - 3:
            lo -= 1
        span = self.doc[lo:tok.i + 1]
        name = span.text
        for cluster in self.index.clusters.values():
            words = re.split(r"[\s.]+", cluster.name)
            if cluster.name == name or name in cluster.aliases or (cluster.type == "PERSON" and name in (words[0], words[-1])) or (
                cluster.type == "ORG" and len(words) > 1 and name in words
            ):
                m = EMention(span.start_char, span.end_char, name, "PERSON", lo, tok.i + 1)
                self.index.assign(m, cluster.key)
                return self._from_mention(m)
        table_id = aliases.canonical_id(name)
        if table_id:
            entry = aliases.get_table().entries[table_id]
            type_, key, cname = entry.type, entry.id, entry.name
        else:
            type_ = hint or ("ORG" if looks_like_org(name) else "PERSON")
            key, cname = "name:" + aliases.slugify(name), name
        cluster = self.index.add_cluster(ECluster(key, type_, cname, table_id))
        m = EMention(span.start_char, span.end_char, name, type_, lo, tok.i + 1)
        self.index.assign(m, cluster.key)
        return self._from_mention(m)


def _genders(doc: Doc, index: EntityIndex) -> dict[str, str]:
    """A person's grammatical gender from pronouns in sentences where they are the only person named."""
    votes: dict[str, list[int]] = {}
    for sent in info(doc).sents:
        people = {index.token_cluster[t.i] for t in sent if index.token_cluster[t.i]
                  and index.clusters[index.token_cluster[t.i]].type == "PERSON"}
        if len(people) != 1:
            continue
        key = next(iter(people))
        first = min(t.i for t in sent if index.token_cluster[t.i] == key)
        for t in sent:
            if t.i > first and t.pos_ == "PRON":
                if t.lower_ in _MALE:
                    votes.setdefault(key, [0, 0])[0] += 1
                elif t.lower_ in _FEMALE:
                    votes.setdefault(key, [0, 0])[1] += 1
    return {k: ("m" if m > f else "f") for k, (m, f) in votes.items() if m != f}
