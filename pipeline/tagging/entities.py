"""Entities: spaCy NER plus alias-table matches, cleaned, typed, merged and canonicalised.

Pipeline per document: raw mentions -> cleanup (determiners, possessives, split names, junk)
-> clustering (surname -> full name, alias table, context aliases, acronyms) -> capital-city
metonymy (an actor "Moscow" is Russia) -> role mentions ("the Secretary-General" after
"NATO Secretary General Jens Stoltenberg").
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span, Token

from pipeline.tagging import aliases, entity_rules, gazetteer
from pipeline.tagging.docinfo import info
from pipeline.tagging.lexicon import (
    COMMON_ACRONYMS,
    ENTITY_LABELS,
    HONORIFICS,
    JUNK_NAMES,
    LOCATIVE_PREPS,
    ORG_WORDS,
    ROLE_HEADS,
    ROLE_MODIFIERS,
)
from pipeline.tagging.names import looks_like_org

_LEADING_DETS = frozenset({"the", "a", "an", "this", "that", "these", "those"})
_NOT_NAME_POS = frozenset({"ADV", "ADJ", "VERB", "ADP", "DET", "PRON", "AUX", "CCONJ", "SCONJ", "INTJ", "NUM"})
_HYPHEN_SUFFIXES = frozenset(
    "based area born led backed owned run made style era bound related linked funded sponsored affiliated wide level".split()
)
_PLACE_NOUNS = frozenset(
    "area province city town village district region county state capital municipality neighborhood neighbourhood suburb island".split()
)
_PLACE_PREPS = frozenset({"in", "at", "atop", "near", "inside", "outside", "across", "into", "throughout"})
_NAME_SUFFIXES = frozenset({"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"})
_ACTOR_DEPS = frozenset({"nsubj", "nsubjpass", "dobj", "dative", "poss", "agent", "conj", "appos", "attr"})


@dataclass
class EMention:
    start: int
    end: int
    text: str
    label: str
    tok_start: int
    tok_end: int
    key: str = ""
    role: bool = False


@dataclass
class ECluster:
    key: str
    type: str
    name: str
    table_id: str | None
    mentions: list[EMention] = field(default_factory=list)
    aliases: set[str] = field(default_factory=set)

    @property
    def id(self) -> str:
        return self.table_id or aliases.entity_id(self.type, self.name)

    @property
    def first(self) -> int:
        return min(m.start for m in self.mentions)


@dataclass
class EntityIndex:
    """Clusters plus a token -> cluster map the claim rules use to resolve speakers and 'about'."""

    clusters: dict[str, ECluster]
    token_cluster: list[str | None]
    token_mention: list[EMention | None]
    titles: list[tuple[frozenset[str], str, int]]  # (title words, cluster key, char position)
    nouns: list[tuple[str, str, int]] = field(default_factory=list)  # (noun lemma, cluster key, position)

    def cluster_at(self, token: Token) -> ECluster | None:
        key = self.token_cluster[token.i]
        return self.clusters.get(key) if key else None

    def add_cluster(self, cluster: ECluster) -> ECluster:
        return self.clusters.setdefault(cluster.key, cluster)

    def assign(self, mention: EMention, key: str) -> None:
        mention.key = key
        cluster = self.clusters[key]
        cluster.mentions.append(mention)
        if mention.text != cluster.name:
            cluster.aliases.add(mention.text)
        for i in range(mention.tok_start, mention.tok_end):
            self.token_cluster[i] = key
            self.token_mention[i] = mention


def build_matcher(nlp: Language) -> PhraseMatcher:
    _remember_verbs(nlp)
    matcher = PhraseMatcher(nlp.vocab)  # ORTH: case-sensitive, so "us" never matches "US"
    make = nlp.make_doc
    names = {n for n in aliases.get_table().surface_names() if n[:1].isupper() and len(n) > 1}
    names |= {n.upper() for n in names if len(n) > 3}  # datelines: "NEW DELHI:", "VIENNA —"
    matcher.add("ALIAS", [make(n) for n in sorted(names)])
    matcher.add("GAZETTEER", [make(n) for n in sorted(set(gazetteer.names()) - names) if n[:1].isupper()])
    return matcher


def _clean(doc: Doc, span: Span, label: str, ruled: bool = False) -> list[EMention]:
    start, end = span.start, span.end
    # "Punjab’s Bhatinda" -> "Punjab" + "Bhatinda"; "’s Hoa Lo" -> "Hoa Lo"
    for i in range(start, end):
        if (doc[i].tag_ == "POS" or doc[i].lower_ in ("'s", "’s")) and (
            label != "ORG" or i == start or aliases.canonical_id(doc[start:i].text) is not None
            or _two_organisations(doc, start, i, end)
        ):
            left = _clean_one(doc, start, i, label, ruled)
            right = _clean_one(doc, i + 1, end, label, ruled)
            return [m for m in (left, right) if m is not None]
    m = _clean_one(doc, start, end, label, ruled)
    return [m] if m is not None else []


def _clean_one(doc: Doc, start: int, end: int, label: str, ruled: bool = False) -> EMention | None:
    toks = info(doc).tokens
    if label == "PERSON":
        start = _extend_given_names(doc, start, end)
    while start < end and (toks[start].lower_ in _LEADING_DETS or toks[start].is_punct or toks[start].is_space):
        start += 1
    while end - start > 1 and _sentence_initial_word(doc, start):
        start += 1  # "Recent Samsung smart TVs", "Hosting Cook at Dreamforce": not part of the name
    for i in range(start, end):
        if toks[i].text == "(" and not any(toks[j].text == ")" for j in range(i + 1, end)):
            end = i  # "Ministry of Trade (MOTIE": an unclosed bracket ends the name
            break
    while end > start and (toks[end - 1].tag_ == "POS" or toks[end - 1].is_punct or toks[end - 1].is_space
                           or toks[end - 1].lower_ in ("'s", "’s") or toks[end - 1].text.islower()
                           or (end - start > 1 and _TICKER.match(toks[end - 1].text))):
        end -= 1  # ... and market codes after a name: "London Metal Exchange CMAL3", "Sterling GBP="
    if end - start == 1 and start >= 2 and toks[start - 1].lower_ == "of" and toks[start - 2].lower_ in _TITLE_OF:
        return None  # "Secretary of State", "Minister of Defence": a title, not an organisation
    # "Amritsar-based", "Houston-area": the name is before the hyphen
    for i in range(start + 1, end):
        if toks[i].text in ("-", "–") and i + 1 < len(doc) and toks[i + 1].lower_ in _HYPHEN_SUFFIXES:
            end = i
            break
    if start >= end:
        return None
    for i in range(start, end):
        if "\n" in toks[i].text or toks[i].is_space:
            end = i
            break
    if start >= end:
        return None
    cstart, cend = toks[start].idx, toks[end - 1].idx + len(toks[end - 1].text)
    text = info(doc).text
    while cend + 1 < len(text) and text[cend] in ".-" and text[cend + 1].isalnum() and (
        not text[cend + 1].islower() or (label == "PERSON" and text[cend] == "-"
                                         and end < len(doc) and toks[min(end + 1, len(doc) - 1)].lower_ not in _HYPHEN_SUFFIXES)
    ):
        nxt = cend + 1
        while nxt < len(text) and text[nxt].isalnum():
            nxt += 1
        cend = nxt
        while end < len(doc) and toks[end].idx < cend:
            end += 1
    surface = text[cstart:cend]
    low = surface.lower()
    known = aliases.canonical_id(surface) is not None
    if (low in JUNK_NAMES and not (known and surface.isupper())) or len(surface) < 2 or not any(c.isalpha() for c in surface):
        return None
    if surface.upper() in COMMON_ACRONYMS and surface.isupper():
        return None
    if not known and len(surface) <= 4 and any(c.isdigit() for c in surface):
        return None  # "T3", "A4": codes, not names
    if end - start == 1 and not known and any(c.dep_ == "det" and c.lower_ in ("a", "an") for c in toks[start].children):
        return None  # "a good Samaritan": names do not take an indefinite article
    if surface[0].islower() and not known:
        return None
    if end - start == 1 and not known and not surface.isupper() and not ruled:
        tok = toks[start]
        if tok.pos_ in _NOT_NAME_POS or (tok.pos_ == "NOUN" and info(doc).sent(start).start == start):
            return None
    if end - start > (14 if ruled else 8):  # rule-found names ("Office for the ... of New York") run longer
        return None
    if surface.isupper() and len(surface) > 3 and _is_dateline(doc, start, end):
        label = "GPE"
    if label in ("PERSON", "ORG") and not known:
        root = doc[start:end].root
        if (root.dep_ == "compound" and root.head.i >= end and root.head.lemma_.lower() in _PLACE_NOUNS) or (
            root.dep_ == "pobj" and root.head.lower_ == "of" and root.head.head.lemma_.lower() in _PLACE_NOUNS
            and root.head.head.i < start
        ) or any(c.dep_ == "appos" and (c.lemma_.lower() in _PLACE_NOUNS or any(
            g.dep_ == "compound" and g.lemma_.lower() in _PLACE_NOUNS for g in c.children)) for c in root.children):
            label = "GPE"  # "Pangram area", "the province of Logar", "Addison, a village near Ithaca"
    if label == "PERSON" and not known:
        root = doc[start:end].root
        if root.dep_ == "pobj" and root.head.lower_ in _PLACE_PREPS:
            label = "LOC"  # "atop Mauna Kea": a place
        elif start > 0 and toks[start - 1].lower_ == "the" and toks[start - 1].head.i in range(start, end):
            label = "ORG"  # "the Argus Leader": people do not take an article
    new_label = entity_rules.retype(doc, start, end, label, surface, known)
    if new_label is None:
        return None
    return EMention(cstart, cend, surface, new_label, start, end)


_TICKER = re.compile(r"^(?=.*[\d=])[A-Z0-9.=]{3,}$")
_TITLE_OF = frozenset({"secretary", "minister", "ministers", "secretaries", "undersecretary"})


def _two_organisations(doc: Doc, start: int, i: int, end: int) -> bool:
    """"Tufts University's Feinstein International Center": an organisation's unit, two names; but
    "People's Liberation Army", "McDonald's" are one."""
    left, right = doc[start:i], doc[i + 1:end]
    return (len(left) > 1 and left[-1].lower_ in ORG_WORDS and len(right) > 1
            and all(t.is_title or t.is_upper or t.lower_ in ("of", "for", "and", "the") for t in right))


_NOT_NAME_TAGS = frozenset({"JJ", "JJR", "JJS", "RB", "RBR", "VBG", "VBN", "VBD", "VB", "VBZ", "VBP"})


def _sentence_initial_word(doc: Doc, i: int) -> bool:
    """A capitalised common word opening a sentence in front of a name: an adjective or adverb by its
    tag, or an -ing participle ("Hosting") whose stem is a known verb."""
    di = info(doc)
    tok = di.tokens[i]
    if not tok.is_title or not (di.sent(i).start == i or (i > 0 and "\n" in di.tokens[i - 1].text_with_ws)):
        return False
    if aliases.canonical_id(tok.text) is not None:
        return False
    if tok.tag_ in _NOT_NAME_TAGS:
        # "Recent Samsung TVs": only when the rest is a name the text uses on its own ("Nordic Wire" stays)
        nxt = di.tokens[i + 1].text if i + 1 < len(di.tokens) else ""
        return tok.tag_.startswith("V") or tok.tag_.startswith("RB") or di.title_counts().get(nxt, 0) > 1
    low = tok.lower_  # a participle: "Hosting", "Speaking", "Running" (never a given name)
    if low.endswith("ing") and len(low) > 5:
        base = low[:-3]
        return _is_verb(doc, base) or _is_verb(doc, base + "e") or (base[-1] == base[-2] and _is_verb(doc, base[:-1]))
    return False


def _is_verb(doc: Doc, word: str) -> bool:
    return word in _VERBS.get(id(doc.vocab), ())


# English verbs from each loaded model's lemmatizer tables (WordNet-derived), keyed by the vocab
_VERBS: dict[int, frozenset[str]] = {}


def _remember_verbs(nlp: Language) -> None:
    try:
        table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_index")
        _VERBS[id(nlp.vocab)] = frozenset(table["verb"])
    except (KeyError, AttributeError):  # a model without lookup tables: participles are left alone
        _VERBS[id(nlp.vocab)] = frozenset()


def _extend_given_names(doc: Doc, start: int, end: int) -> int:
    """"Adolf" in "where Adolf Hitler was born" when NER kept only "Hitler": a capitalised proper-noun
    compound right before a person's name, not a title and not sentence-initial, is part of it."""
    sents = info(doc)
    while start > 0:
        t = doc[start - 1]
        low = t.lower_.rstrip(".")
        if not (t.pos_ == "PROPN" and t.is_title and t.dep_ == "compound" and start <= t.head.i < end
                and t.ent_iob_ == "O" and low not in ROLE_HEADS and low not in ROLE_MODIFIERS
                and t.lower_ not in HONORIFICS and sents.sent(t.i).start != t.i):
            break
        start -= 1
    return start


def _is_dateline(doc: Doc, start: int, end: int) -> bool:
    """"HONOLULU, Hawaii (AP) -", "VIENNA —": an all-caps place opening a paragraph."""
    text = info(doc).text
    at_line_start = doc[start].idx == 0 or text[doc[start].idx - 1] == "\n"
    after = text[doc[end - 1].idx + len(doc[end - 1].text):][:3]
    return at_line_start and after[:1] in (",", " ", "(") and ("—" in after or "-" in after or "," in after or "(" in after)


def _strip_honorific(name: str) -> str:
    """"Mr. Pollard" -> "Pollard"; "Superintendent Jennifer McCormick" -> "Jennifer McCormick"."""
    parts = name.split()
    if len(parts) > 2 and parts[0].lower() in ROLE_HEADS and parts[1] == "of":
        parts = parts[2:]  # "Founder of Ceres Robotics Inc." -> the organisation
    while len(parts) > 1 and parts[1][:1].isupper() and (parts[0].lower() in HONORIFICS or (
            len(parts) > 2 and (parts[0].lower() in ROLE_HEADS or parts[0].lower() in ROLE_MODIFIERS))):
        parts = parts[1:]
    return " ".join(parts)


def _name_parts(name: str) -> tuple[str, str]:
    """(first, last) name tokens, ignoring "Jr." and the like."""
    parts = [p.rstrip(",") for p in name.split()]
    while len(parts) > 1 and parts[-1].lower() in _NAME_SUFFIXES:
        parts = parts[:-1]
    return parts[0].lower(), parts[-1].lower()


def _is_place(word: str) -> bool:
    table_id = aliases.canonical_id(word)
    return gazetteer.place_type(word) in ("GPE", "LOC") or (
        table_id is not None and aliases.get_table().entries[table_id].type in ("GPE", "LOC"))


_CORPORATE = frozenset({"co", "co.", "corp", "corp.", "inc", "inc.", "ltd", "ltd.", "llc", "plc", "ag", "sa", "nv"})


def _initials(name: str) -> set[str]:
    """Acronyms a name can have: "Pacific Gas & Electric Co." -> PGE (and PGEC); "California Public
    Utilities Commission" -> CPUC and, dropping a leading place word, PUC."""
    words = [w for w in re.split(r"[\s-]+", name) if w and w[0].isupper()]
    if words and words[0].lower() == "the":
        words = words[1:]
    full = "".join(w[0] for w in words)
    out = {full}
    while words and words[-1].lower() in _CORPORATE:
        words = words[:-1]
        out.add("".join(w[0] for w in words))
    if len(words) >= 4 and _is_place(words[0]):
        out.add("".join(w[0] for w in words[1:]))
    return {x for x in out if len(x) >= 2}


def _is_actor(doc: Doc, m: EMention) -> bool:
    root = doc[m.tok_start:m.tok_end].root
    if root.dep_ == "pobj":
        return root.head.lower_ not in LOCATIVE_PREPS and root.head.lower_ != "of" or (
            root.head.lower_ == "from" and root.head.head.pos_ == "VERB"
        )
    if root.dep_ == "compound":
        return False
    return root.dep_ in _ACTOR_DEPS


def collect_mentions(doc: Doc, matcher: PhraseMatcher | None) -> list[EMention]:
    ruled = entity_rules.rule_spans(doc)
    taken = [False] * len(doc)
    for s, e, _ in ruled:
        for i in range(s, e):
            taken[i] = True
    spans: list[tuple[Span, str]] = [(e, e.label_) for e in doc.ents if e.label_ in ENTITY_LABELS and not any(taken[e.start:e.end])]
    for span, _ in spans:
        for i in range(span.start, span.end):
            taken[i] = True
    if matcher is not None:
        gaz_id = doc.vocab.strings["GAZETTEER"]
        for match_id, s, e in sorted(matcher(doc), key=lambda m: (m[1], -(m[2] - m[1]))):
            if any(taken[s:e]):
                continue
            span = doc[s:e]
            if match_id == gaz_id:
                if _inside_longer_name(doc, s, e):
                    continue  # "NBC Latino", "Sikh Coalition": part of a name NER missed or cut short
                type_ = gazetteer.place_type(span.text)
                if type_ is None or (e - s == 1 and span[0].pos_ != "PROPN" and not (type_ == "NORP" and span[0].pos_ == "ADJ")):
                    continue
            else:
                entry = aliases.get_table().lookup(span.text)
                if entry is None:
                    continue
                type_ = entry.type
            spans.append((span, type_))
            for i in range(s, e):
                taken[i] = True
    mentions = [m for s, e, label in ruled for m in _clean(doc, doc[s:e], label, ruled=True)]
    mentions += [m for s, label in spans for m in _clean(doc, s, label)]
    mentions = _drop_common_nouns(doc, mentions)
    mentions.sort(key=lambda m: m.start)
    deduped: list[EMention] = []
    for m in mentions:
        if deduped and m.start < deduped[-1].end:
            continue
        deduped.append(m)
    return deduped


def _inside_longer_name(doc: Doc, s: int, e: int) -> bool:
    def name_like(t: Token) -> bool:
        return t.ent_iob_ != "O" and not t.is_punct or (t.pos_ == "PROPN" and (t.is_title or t.is_upper))

    return (s > 0 and name_like(doc[s - 1])) or (e < len(doc) and name_like(doc[e]))


def _drop_common_nouns(doc: Doc, mentions: list[EMention]) -> list[EMention]:
    """A one-word name the same article also uses as a lowercase common noun ("Meth. We're on it."
    beside "the meth epidemic") is that noun capitalised, not a name, unless a table knows it or a
    longer name contains it."""
    nouns = {t.lower_ for t in info(doc).tokens if t.pos_ == "NOUN" and t.is_lower}
    if not nouns:
        return mentions
    words_in_names = {w.lower() for m in mentions if " " in m.text for w in m.text.split()}
    kept = []
    for m in mentions:
        low = m.text.lower()
        if (" " not in m.text and low in nouns and low not in words_in_names and not m.text.isupper()
                and aliases.canonical_id(m.text) is None and gazetteer.place_type(m.text) is None):
            continue
        kept.append(m)
    return kept


def _role_words_before(doc: Doc, tok_start: int, limit: int = 6) -> tuple[list[Token], bool]:
    """Title words directly before a name: "NATO Secretary General | Jens Stoltenberg"."""
    words: list[Token] = []
    i = tok_start - 1
    has_head = False
    while i >= 0 and len(words) < limit:
        t = doc[i]
        low = t.lower_
        if low in ROLE_HEADS or low in ROLE_MODIFIERS:
            words.insert(0, t)
            has_head = has_head or low in ROLE_HEADS
        elif t.text in ("-", "–") and words:
            pass
        else:
            break
        i -= 1
    return words, has_head


def _title_set(tokens: list[Token]) -> frozenset[str]:
    parts: list[str] = []
    for t in tokens:
        parts.extend(p for p in re.split(r"[-–\s]+", t.lower_) if p)
    return frozenset(p for p in parts if p in ROLE_HEADS or p in ROLE_MODIFIERS)


def _compound_title(head: Token) -> list[Token]:
    mods = [c for c in head.lefts if c.dep_ in ("compound", "amod") and (c.lower_ in ROLE_MODIFIERS or c.lower_ in ROLE_HEADS)]
    return [*mods, head]


def find_titles(doc: Doc, index: EntityIndex) -> None:
    for cluster in list(index.clusters.values()):
        if cluster.type != "PERSON":
            continue
        for m in list(cluster.mentions):
            words, has_head = _role_words_before(doc, m.tok_start)
            title_tokens: list[Token] = words if has_head else []
            root = doc[m.tok_start:m.tok_end].root
            if not title_tokens and root.dep_ == "appos" and root.head.lower_ in ROLE_HEADS:
                title_tokens = _compound_title(root.head)
            if not title_tokens:
                for child in root.children:
                    if child.dep_ == "appos" and child.lower_ in ROLE_HEADS:
                        title_tokens = _compound_title(child)
                        break
            ts = _title_set(title_tokens)
            if ts and any(w in ROLE_HEADS for w in ts):
                index.titles.append((ts, cluster.key, m.start))


def find_role_mentions(doc: Doc, index: EntityIndex) -> None:
    """"the Secretary-General" / "the General Secretary" -> the person introduced with that title."""
    if not index.titles:
        return
    for t in info(doc).tokens:
        if t.lower_ != "the" or index.token_cluster[t.i] is not None:
            continue
        j = t.i + 1
        toks: list[Token] = []
        while j < len(doc) and len(toks) < 5:
            w = doc[j]
            parts = [p for p in re.split(r"[-–]+", w.lower_) if p]
            if parts and all(p in ROLE_HEADS or p in ROLE_MODIFIERS for p in parts):
                toks.append(w)
            elif w.text in ("-", "–") and toks:
                pass
            else:
                break
            j += 1
        if not toks or index.token_cluster[toks[-1].i] is not None:
            continue
        if j < len(doc) and (doc[j].pos_ == "PROPN" or doc[j].lower_ == "of"):
            continue  # "the President of X", "the Prime Minister Fumio Kishida": not a bare role
        words = _title_set(toks)
        if not words or not any(w in ROLE_HEADS for w in words):
            continue
        candidates = [(pos, key) for ts, key, pos in index.titles if ts == words]
        if not candidates:
            candidates = [(pos, key) for ts, key, pos in index.titles if words < ts and toks[-1].lower_ in ts]
        if not candidates:
            continue
        before = [c for c in candidates if c[0] < t.idx]
        pos, key = max(before) if before else min(candidates)
        if len({k for _, k in candidates}) > 1 and not before:
            continue
        end_tok = toks[-1]
        m = EMention(t.idx, end_tok.idx + len(end_tok.text), info(doc).text[t.idx:end_tok.idx + len(end_tok.text)],
                     "PERSON", t.i, end_tok.i + 1, role=True)
        index.assign(m, key)


def build_index(doc: Doc, matcher: PhraseMatcher | None = None) -> EntityIndex:
    mentions = collect_mentions(doc, matcher)
    table = aliases.get_table()
    last_names: dict[str, dict[str, int]] = {}  # surname -> {full name: first position}
    first_names: dict[str, dict[str, int]] = {}

    def add_person(full: str, position: int) -> None:
        first, last = _name_parts(full)
        for names, part in ((last_names, last), (first_names, first)):
            seen = names.setdefault(part, {})
            seen[full] = min(position, seen.get(full, position))

    for m in mentions:
        name = _strip_honorific(m.text)
        if m.label == "PERSON" and len(name.split()) > 1 and not looks_like_org(name):
            add_person(name, m.start)
        entry_id = aliases.canonical_id(m.text)
        if entry_id is not None and table.entries[entry_id].type == "PERSON":
            add_person(table.entries[entry_id].name, m.start)
    orgs: dict[str, str] = {}
    org_words: dict[str, set[str]] = {}
    for m in mentions:
        if (m.label == "ORG" and (len(m.text.split()) > 1 or "." in m.text)) or looks_like_org(m.text) and "." in m.text:
            initials = _initials(m.text)
            if m.tok_start > 0 and doc[m.tok_start - 1].lower_ == "the":
                initials |= {"T" + x for x in initials}  # "The Real Deal" -> TRD
            for acronym in initials:
                orgs.setdefault(acronym, m.text)
            for w in re.split(r"[\s.]+", m.text):
                if w and w[0].isupper() and w.lower() not in ("the", "of", "com", "net", "org"):
                    org_words.setdefault(w.lower(), set()).add(m.text)

    keys: list[tuple[str, str, str | None]] = []  # (key, type, table id)
    for m in mentions:
        name = _strip_honorific(m.text)
        table_id = aliases.canonical_id(name)
        entry = table.entries.get(table_id) if table_id else None
        one_word = len(name.split()) == 1
        low = name.lower()
        person_match = _met_before(last_names.get(low), m.start) if one_word else set()
        if one_word and not person_match:
            person_match = _met_before(first_names.get(low), m.start)
        if m.label == "PERSON" and not one_word and not looks_like_org(name):
            tid = aliases.canonical_id(name, "PERSON")
            keys.append((tid or _name_key(name), "PERSON", tid))
        elif len(person_match) == 1 and not (entry is not None and entry.type != "PERSON" and m.label == entry.type):
            full = next(iter(person_match))
            tid = aliases.canonical_id(full, "PERSON")
            keys.append((tid or _name_key(full), "PERSON", tid))
        elif entry is not None and not (m.label == "PERSON" and entry.type not in ("PERSON", "ORG") and not one_word):
            keys.append((entry.id, entry.type, entry.id))
        elif name.isupper() and _acronym(name) in orgs and orgs[_acronym(name)] != name:
            full = orgs[_acronym(name)]
            tid = aliases.canonical_id(full)
            keys.append((tid or _name_key(full), "ORG", tid))
        elif one_word and len(org_words.get(low, ())) == 1 and next(iter(org_words[low])) != name:
            full = next(iter(org_words[low]))
            tid = aliases.canonical_id(full)
            keys.append((tid or _name_key(full), "ORG", tid))
        else:
            keys.append((_name_key(name), m.label, None))

    present = {k for k, _, _ in keys}
    for i, m in enumerate(mentions):
        target = table.context_keys.get(aliases.normalize_key(m.text))
        if target and target in present and keys[i][2] is None:
            keys[i] = (target, table.entries[target].type, target)

    index = EntityIndex({}, [None] * len(doc), [None] * len(doc), [])
    for m, (key, type_, tid) in zip(mentions, keys, strict=True):
        state = aliases.stands_for(key) if tid else None
        if state and _is_actor(doc, m):
            entry = table.entries[state]
            key, type_, tid = entry.id, entry.type, entry.id
        if key not in index.clusters:
            name = table.entries[tid].name if tid else _strip_honorific(m.text)
            index.add_cluster(ECluster(key, type_, name, tid))
        if not tid and type_ != m.label:
            m.label = type_ if type_ in ("PERSON", "ORG") and m.label not in ("PERSON", "ORG") else m.label
        index.assign(m, key)
    for cluster in index.clusters.values():
        if cluster.table_id:
            continue
        best = max(cluster.mentions, key=lambda m: (len(_strip_honorific(m.text).split()), len(m.text), -m.start))
        cluster.name = _strip_honorific(best.text)
        cluster.type = _vote_type(cluster)
        cluster.aliases.discard(cluster.name)
    find_titles(doc, index)
    find_role_mentions(doc, index)
    find_context_aliases(doc, index)
    find_appositive_nouns(doc, index)
    find_surname_mentions(doc, index)
    return index


def find_surname_mentions(doc: Doc, index: EntityIndex) -> None:
    """A surname NER left untagged ("Braun has worked with ...") after the full name ("Scooter Braun")
    is a mention of that person: the latest person with that surname met before it."""
    surnames: dict[str, list[tuple[int, str]]] = {}
    for c in index.clusters.values():
        if c.type == "PERSON" and len(c.name.split()) > 1 and c.mentions:
            last = _name_parts(c.name)[1]
            if len(last) > 2:
                surnames.setdefault(last, []).append((c.first, c.key))
    if not surnames:
        return
    for t in info(doc).tokens:
        if not t.is_title or index.token_cluster[t.i] is not None or not (
                t.pos_ == "PROPN" or (t.pos_ == "NOUN" and t.dep_ in ("nsubj", "nsubjpass", "poss", "appos"))):
            continue  # "Scissors, who consults ..., said": a surname the tagger took for a noun
        owners = surnames.get(t.lower_)
        if not owners:
            continue
        if (t.i + 1 < len(doc) and doc[t.i + 1].pos_ == "PROPN" and doc[t.i + 1].is_title) or (
                t.i > 0 and doc[t.i - 1].pos_ == "PROPN" and doc[t.i - 1].is_title):
            continue  # part of a longer name ("Braun Strowman", "Eva Braun")
        before = [o for o in owners if o[0] < t.idx]
        if not before:
            continue
        key = max(before)[1]
        index.assign(EMention(t.idx, t.idx + len(t.text), t.text, "PERSON", t.i, t.i + 1), key)


def _met_before(names: dict[str, int] | None, position: int) -> set[str]:
    """The full name a short form stands for: the only one, else the latest met before it."""
    if not names:
        return set()
    if len(names) == 1:
        return set(names)
    before = [(pos, full) for full, pos in names.items() if pos < position]
    return {max(before)[1]} if before else set()


def _acronym(name: str) -> str:
    """"PG&E" -> "PGE", "U.N." -> "UN": the letters an acronym is matched on."""
    return re.sub(r"[.&]", "", name)


def _name_key(name: str) -> str:
    return "name:" + aliases.slugify(name)


_TYPE_PREFERENCE = ("GPE", "ORG", "PERSON", "LOC", "NORP", "FAC", "EVENT", "PRODUCT", "LAW")


def _vote_type(cluster: ECluster) -> str:
    labels = Counter(m.label for m in cluster.mentions)
    if looks_like_org(cluster.name) and (labels["ORG"] or labels["PERSON"]):
        return "ORG"
    if labels["PERSON"] and len(cluster.name.split()) > 1 and labels["PERSON"] >= labels["ORG"]:
        return "PERSON"
    top = max(labels.values())
    return next(t for t in _TYPE_PREFERENCE if labels[t] == top)


def find_appositive_nouns(doc: Doc, index: EntityIndex) -> None:
    """"The group, WeWorkers Coalition, ..." lets a later "the group" mean WeWorkers Coalition."""
    for cluster in index.clusters.values():
        for m in cluster.mentions:
            root = doc[m.tok_start:m.tok_end].root
            head = None
            if root.dep_ == "appos" and root.head.pos_ == "NOUN":
                head = root.head
            else:
                head = next((c for c in root.children if c.dep_ == "appos" and c.pos_ == "NOUN"), None)
            if head is not None:
                index.nouns.append((head.lemma_.lower(), cluster.key, m.start))


def find_context_aliases(doc: Doc, index: EntityIndex) -> None:
    """Generic names ("the bloc") for an entity the document names explicitly."""
    table = aliases.get_table()
    phrases = [(tuple(k.split()), target) for k, target in table.context_keys.items() if target in index.clusters]
    if not phrases:
        return
    lowers = [t.lower_ for t in info(doc).tokens]
    for words, target in phrases:
        n = len(words) + 1
        for i in range(len(doc) - n + 1):
            if lowers[i] != "the" or tuple(lowers[i + 1:i + n]) != words:
                continue
            if any(index.token_cluster[j] for j in range(i, i + n)):
                continue
            span = doc[i:i + n]
            index.assign(EMention(span.start_char, span.end_char, span.text, index.clusters[target].type, i, i + n), target)


def fix_speaker_type(cluster: ECluster) -> None:
    """A name used as a speaker is a PERSON or an ORG, not a place (unless it is a known state)."""
    if cluster.table_id or cluster.type not in ("GPE", "LOC", "FAC", "PRODUCT", "LAW", "EVENT"):
        return
    cluster.type = "ORG" if looks_like_org(cluster.name) or len(cluster.name.split()) == 1 else "PERSON"
