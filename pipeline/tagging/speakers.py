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
from pipeline.tagging.lexicon import (
    GROUP_PRONOUNS,
    HONORIFICS,
    PERSON_PRONOUNS,
    REPORTING_NOUNS,
    ROLE_HEADS,
    ROLE_MODIFIERS,
)

_ORG_NOUNS = frozenset(
    """agency company group organization organisation commission ministry department office firm label
    government network newspaper paper council committee party union coalition board bank court
    institute university publication outlet broadcaster station channel website club team utility
    retailer carrier automaker carmaker giant startup start-up manufacturer maker airline insurer lender
    operator provider developer chain publisher studio brand platform regulator authority hospital
    school charity nonprofit foundation association federation league conglomerate producer supplier
    distributor insurer business corporation multinational service app campaign""".split()
)
# institutions named by their function: "police said", "the government said" are descriptions, not anaphors
_INSTITUTIONS = frozenset("police government authorities military army prosecutors officials administration".split())
_RELATIVES = frozenset({"who", "whom", "which", "that", "whose"})
_DEMONSTRATIVES = frozenset({"this", "that", "these", "those", "which", "what", "whatever", "there"})
_FIRST_SECOND = frozenset({"i", "me", "you", "we", "us", "myself", "ourselves", "yourself"})
PRONOUN_WINDOW = 3  # a pronoun's antecedent lies in its own paragraph or the 3 before
NOMINAL_WINDOW = 6  # "the company", "the minister": their own paragraph or the 6 before

# roles that usually stay unnamed ("a senior official ... the official said"): a description unless a
# person was introduced with that title
_UNNAMED_ROLES = frozenset(
    """official source spokesman spokeswoman spokesperson representative analyst expert researcher scientist
    witness resident officer person economist adviser advisor aide insider""".split()
)
_SPOKESPEOPLE = frozenset("officials official spokesman spokeswoman spokesperson representatives executives".split())
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
    subjects = [c for c in verb.children if c.dep_ in ("nsubj", "csubj")]
    if subjects:
        # two subjects: the parser took a quotation for one ('"The levee held," Mayor X said'); the
        # attribution's own subject is the one next to the verb
        child = min(subjects, key=lambda c: abs(c.i - verb.i))
        if child.lower_ in _RELATIVES and verb.dep_ == "relcl" and verb.head is not verb:
            return verb.head  # "the senator, who said ...": the senator
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
    if depth < 3 and verb.dep_ in ("conj", "advcl", "xcomp", "relcl", "acomp") and verb.head is not verb:
        if verb.dep_ == "relcl":
            return verb.head
        return subject_of(verb.head, depth + 1)
    return None


def _relative_antecedent(tok: Token) -> Token | None:
    """The noun a relative pronoun stands for: the head of its relative clause, else the noun right
    before it ("Smith, who ..." when the parser missed the clause)."""
    verb = tok.head
    if verb.dep_ == "relcl" and verb.head is not verb:
        return verb.head
    doc = tok.doc
    j = tok.i - 1
    while j >= 0 and doc[j].is_punct:
        j -= 1
    if j < 0 or doc[j].pos_ not in ("NOUN", "PROPN"):
        return None
    t = doc[j]
    while t.dep_ in ("compound", "flat") and t.head.i > t.i:
        t = t.head
    return t


_TITLE_WORDS = ROLE_HEADS | ROLE_MODIFIERS | HONORIFICS
_ARTICLES = frozenset({"the", "a", "an", "this", "that", "these", "those"})
_DESCRIPTION_MAX = 12


def description_phrase(tok: Token) -> tuple[int, int]:
    """A speaker that is no entity, described in full: "Two people briefed on the talks", "a group
    representing rural counties", "Businesses and residents" (participles and conjuncts kept)."""
    lo, hi = noun_phrase(tok)
    extra = [c for c in tok.children if (c.dep_ == "acl" and c.tag_ in ("VBN", "VBG") and c.i > tok.i)
             or (c.dep_ in ("conj", "cc") and c.i > tok.i)]
    for c in extra:
        end = max(c.right_edge.i + 1, noun_phrase(c)[1])
        if end - lo <= _DESCRIPTION_MAX and "\n" not in tok.doc[hi:end].text:
            hi = max(hi, end)
    while hi > lo + 1 and tok.doc[hi - 1].is_punct:
        hi -= 1
    return lo, hi


def noun_phrase(tok: Token) -> tuple[int, int]:
    """Token bounds of the compact noun phrase headed by ``tok`` (no relative clauses/appositions)."""
    lo, hi = tok.i, tok.i
    stack = [c for c in tok.children if c.dep_ not in _NP_DROP]
    while stack:
        c = stack.pop()
        lo, hi = min(lo, c.i), max(hi, c.i)
        stack.extend(x for x in c.children if x.dep_ not in _NP_DROP)
    doc = tok.doc
    while lo < tok.i and "\n" in doc[lo:tok.i].text:  # a phrase never spans lines
        lo += 1
    while hi > tok.i and "\n" in doc[tok.i:hi + 1].text:
        hi -= 1
    return lo, hi + 1


class SpeakerResolver:
    def __init__(self, doc: Doc, index: EntityIndex) -> None:
        self.doc = doc
        self.index = index
        self.history: list[tuple[int, ResolvedSpeaker]] = []
        self.gender = _genders(doc, index)
        self.info = info(doc)

    def window_start(self, position: int, paragraphs: int) -> int:
        """Char offset where the window of `paragraphs` paragraphs before `position` begins."""
        return self.info.para_start(self.info.para_of(position) - paragraphs)

    def _compatible(self, key: str | None, pronoun: str) -> bool:
        g = self.gender.get(key or "")
        if g is None:
            return True
        return (pronoun in _MALE and g == "m") or (pronoun in _FEMALE and g == "f")

    def remember(self, position: int, speaker: ResolvedSpeaker) -> None:
        if speaker.name:  # an unresolved "he" is no antecedent
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
        floor = self.window_start(tok.idx, PRONOUN_WINDOW)
        candidates: list[tuple[int, bool, ResolvedSpeaker]] = []  # (position, subject, speaker)
        for pos, sp in self.history:
            if floor <= pos <= position and sp.person_like == want_person:
                candidates.append((pos, True, sp))
        wanted = ("PERSON",) if want_person else ("ORG", "GPE", "NORP")
        seen = 0
        tokens = self.info.tokens
        for i in range(tok.i - 1, -1, -1):
            if tokens[i].idx < floor:
                break
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

    def unresolved(self, lo: int, hi: int) -> ResolvedSpeaker:
        """A mention that refers to no entity found: no name, the words kept."""
        span = self.doc[lo:hi]
        return ResolvedSpeaker("", None, span.text, span.start_char, span.end_char, False)

    def resolve(self, tok: Token | None, position: int, depth: int = 0) -> ResolvedSpeaker | None:
        if tok is None:
            return None
        found = self._resolve(tok, position, depth)
        if found is not None and not found.name.strip():
            return ResolvedSpeaker("", None, found.mention, found.start, found.end, found.person_like)
        return found

    def _resolve(self, tok: Token, position: int, depth: int) -> ResolvedSpeaker | None:
        low = tok.lower_
        if low in _RELATIVES and tok.tag_ in ("WP", "WDT", "WP$") and depth < 3:
            antecedent = _relative_antecedent(tok)
            found = self.resolve(antecedent, position, depth + 1) if antecedent is not None else None
            return found if found is not None and found.name else self.unresolved(tok.i, tok.i + 1)
        if tok.pos_ in ("PRON", "DET") and low in _DEMONSTRATIVES:
            return self.unresolved(tok.i, tok.i + 1)  # "That said", "Which is not to say"
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
        if low in _FIRST_SECOND:
            return self.unresolved(tok.i, tok.i + 1)  # the writer or the reader: no entity to name
        if tok.pos_ == "PRON" and (low in PERSON_PRONOUNS or low in GROUP_PRONOUNS):
            return self._pronoun(tok, position) or self.unresolved(tok.i, tok.i + 1)
        if tok.lemma_.lower() in REPORTING_NOUNS and depth < 3:
            owned = any(c.dep_ == "poss" or (c.dep_ == "prep" and c.lower_ in ("from", "by", "of")) for c in tok.children)
            if not owned and tok.dep_ in ("dobj", "nsubjpass") and tok.head.pos_ == "VERB":
                owner = subject_of(tok.head)  # "The company published a blog post that said ..."
                if owner is not None and owner.i != tok.i:
                    return self.resolve(owner, position, depth + 1)
            if not owned and any(c.lower_ == "the" for c in tok.children) and self.history:
                sp = self.history[-1][1]  # "the statement said": the statement just mentioned
                return ResolvedSpeaker(sp.name, sp.key, tok.text, tok.idx, tok.idx + len(tok.text), sp.person_like)
            for child in tok.children:
                if child.dep_ == "poss":
                    return self.resolve(child, position, depth + 1)
                if child.dep_ == "prep" and child.lower_ in ("from", "by", "of"):
                    pobj = next((c for c in child.children if c.dep_ == "pobj"), None)
                    if pobj is not None:
                        return self.resolve(pobj, position, depth + 1)
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
        definite = self.doc[lo].lower_ in ("the", "this")
        lemma = tok.lemma_.lower()
        if definite and (lemma in _PERSON_NOUNS or re.search(r"\d+-year-old$", tok.text)
                         or (tok.i > 0 and re.search(r"\d+-year-$", self.doc[lo:tok.i].text))):
            # "the 56-year-old", "the Portuguese boss", "the minister": the nearest compatible person
            # ("the spokesman", "the official": only one introduced with that title; else a description)
            person = self._nearest_person(tok, lo, position, titled_only=lemma in _UNNAMED_ROLES)
            if person is not None:
                return person
        antecedent = self._antecedent_phrase(tok, lo)
        if antecedent is not None:
            return antecedent
        if tok.pos_ == "NOUN" and lemma in _ORG_NOUNS and definite and lemma not in _INSTITUTIONS:
            org = self._org_fallback(tok, position)
            return org if org is not None else self.unresolved(lo, tok.i + 1)
        if definite and tok.pos_ == "NOUN" and lemma not in _UNNAMED_ROLES and (lemma in ROLE_HEADS or lemma in ("man", "woman")):
            return self.unresolved(lo, tok.i + 1)  # "the minister" with no minister in reach
        lo, hi = description_phrase(tok)
        while lo < hi and self.doc[lo].lower_ in _ARTICLES:
            lo += 1
        span = self.doc[lo:hi]
        org = self._organisation_of(tok) if lemma in _PERSON_NOUNS or lemma in _SPOKESPEOPLE else None
        if org is not None and span.text.strip():
            # "PG&E officials", "a spokesperson for the ministry": they speak for the organisation
            return ResolvedSpeaker(org.name, org.key, span.text, span.start_char, span.end_char, False)
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
            want = "ORG" if lemma in _ORG_NOUNS else "PERSON" if lemma in _PERSON_NOUNS else None
            nouns = [(pos, k) for n, k, pos in self.index.nouns if n == lemma and pos < position
                     and (want is None or self.index.clusters[k].type == want)]
            if nouns:
                key = max(nouns)[1]
            elif lemma in _ORG_NOUNS:
                key = self._recent_org_named(lemma, tok.i, exact=True)
        if key is None:
            return None
        cluster = self.index.clusters[key]
        return ResolvedSpeaker(cluster.name, key, span.text, span.start_char, span.end_char, cluster.type == "PERSON")

    def _nearest_person(self, tok: Token, lo: int, position: int, titled_only: bool = False) -> ResolvedSpeaker | None:
        """The nearest person before the mention within the window, gender-compatible ("the woman"),
        preferring one introduced with the same title word ("the minister")."""
        if lo > 0 and self.doc[lo - 1].lower_ == "the":
            lo -= 1
        span = self.doc[lo:tok.i + 1]
        floor = self.window_start(span.start_char, NOMINAL_WINDOW)
        lemma = tok.lemma_.lower()
        gender = {"man": "he", "woman": "she", "father": "he", "mother": "she"}.get(lemma)
        titled = {k for ts, k, _ in self.index.titles if lemma in ts}
        best: tuple[int, int, str] | None = None  # (titled, position, key)
        for c in self.index.clusters.values():
            if c.type != "PERSON" or (gender and not self._compatible(c.key, gender)):
                continue
            starts = [m.start for m in c.mentions if floor <= m.start < span.start_char]
            if not starts:
                continue
            cand = (1 if c.key in titled else 0, max(starts), c.key)
            if best is None or cand > best:
                best = cand
        if best is None or (titled_only and not best[0]):
            return None
        c = self.index.clusters[best[2]]
        return ResolvedSpeaker(c.name, c.key, span.text, span.start_char, span.end_char, True)

    def _org_fallback(self, tok: Token, position: int) -> ResolvedSpeaker | None:
        """"the company said" with no better antecedent: the latest organisation that spoke, else the
        latest organisation named."""
        key = None
        floor = self.window_start(tok.idx, NOMINAL_WINDOW)
        for pos, sp in reversed(self.history):
            if floor <= pos <= position and sp.key and self.index.clusters[sp.key].type == "ORG":
                key = sp.key
                break
        key = key or self._recent_org_named(tok.lemma_.lower(), tok.i, floor=floor)
        if key is None:
            return None
        lo, _ = noun_phrase(tok)
        span = self.doc[lo:tok.i + 1]
        c = self.index.clusters[key]
        return ResolvedSpeaker(c.name, key, span.text, span.start_char, span.end_char, False)

    def _organisation_of(self, tok: Token) -> ECluster | None:
        """The organisation a person noun belongs to: a compound or possessive name ("PG&E officials",
        "Apple's spokesman") or "for/at/of" + name ("a spokesperson for Acme")."""
        for c in tok.children:
            target = c
            if c.dep_ == "prep" and c.lower_ in ("for", "at", "of", "from"):
                target = next((x for x in c.children if x.dep_ == "pobj"), None)
            elif c.dep_ not in ("compound", "poss"):
                continue
            if target is None:
                continue
            cluster = self.index.cluster_at(target)
            if cluster is not None and cluster.type == "ORG":
                return cluster
        return None

    def _antecedent_phrase(self, tok: Token, lo: int) -> ResolvedSpeaker | None:
        """"the commission said" after "the regional health commission": name the speaker by the fuller
        earlier description of the same thing."""
        if tok.pos_ != "NOUN" or self.doc[lo].lower_ != "the" or any(c.dep_ in ("amod", "compound") for c in tok.children):
            return None
        lemma = tok.lemma_.lower()
        lowers, tokens, low = self.info.lowers, self.info.tokens, tok.lower_
        for i in range(tok.i - 1, max(-1, tok.i - 400), -1):
            if lowers[i] != low:
                continue
            t = tokens[i]
            if t.pos_ not in ("NOUN", "PROPN"):
                continue
            mods = [c for c in t.children if c.dep_ in ("amod", "compound")]
            if not mods:
                continue
            a = min([c.left_edge.i for c in mods] + [t.i])
            phrase = self.doc[a:t.i + 1]
            span = self.doc[lo:tok.i + 1]
            if lemma in _ORG_NOUNS and self.doc[a].lower_ in ("the", "its") or any(c.dep_ == "poss" for c in t.children):
                # "The state's largest utility" is itself a re-description: of the organisation named before it
                key = self._recent_org_named(lemma, a, floor=self.window_start(t.idx, NOMINAL_WINDOW))
                if key is not None:
                    c = self.index.clusters[key]
                    return ResolvedSpeaker(c.name, key, span.text, span.start_char, span.end_char, False)
            return ResolvedSpeaker(phrase.text, None, span.text, span.start_char, span.end_char, lemma in _PERSON_NOUNS)
        return None

    def _recent_org_named(self, lemma: str, before: int, exact: bool = False, floor: int = 0) -> str | None:
        fallback = None
        any_org: str | None = None
        tokens = self.info.tokens
        for i in range(before - 1, -1, -1):
            if tokens[i].idx < floor:
                break
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
        while lo < tok.i and self.doc[lo].lower_ in _TITLE_WORDS:
            lo += 1  # "Mayor Ines Baptiste": the title is not part of the name
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
    di = info(doc)
    lowers, clusters, token_cluster = di.lowers, index.clusters, index.token_cluster
    bounds = [*di.sent_starts, len(di.tokens)]
    for a, b in zip(bounds, bounds[1:], strict=False):
        people: dict[str, int] = {}  # person -> first token
        for i in range(a, b):
            key = token_cluster[i]
            if key and key not in people and clusters[key].type == "PERSON":
                people[key] = i
        if len(people) != 1:
            continue
        ((key, first),) = people.items()
        for i in range(first + 1, b):
            low = lowers[i]
            if low in _MALE:
                votes.setdefault(key, [0, 0])[0] += 1
            elif low in _FEMALE:
                votes.setdefault(key, [0, 0])[1] += 1
    return {k: ("m" if m > f else "f") for k, (m, f) in votes.items() if m != f}
