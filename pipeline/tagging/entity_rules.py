"""Context rules that find names NER missed and correct the types it guessed.

Two entry points, both one pass over the tokens:
- ``rule_spans(doc)``: names found by their context ("Copyright 2019 Hawaii News Now", "the journal
  Nature Astronomy", "Censor.NET", "a Sugar Land-based firm", "Braunau am Inn", "the U.S. Attorney's
  Office for the Western District of New York"). They win over overlapping NER spans.
- ``retype(...)``: the type a cleaned mention should have from its context, or None to drop it
  ("Hoa Lo prison" is a facility, "National Socialism" an ideology, "the American Music Awards" an
  event, "Advocacy Director" a job title, "in Senkata" / "from Punjab's Bhatinda" places).
"""

from __future__ import annotations

import re

from spacy.tokens import Doc, Token

from pipeline.tagging import aliases, gazetteer
from pipeline.tagging.docinfo import info
from pipeline.tagging.lexicon import HONORIFICS, ROLE_HEADS, ROLE_MODIFIERS
from pipeline.tagging.names import looks_like_org

OUTLET_NOUNS = frozenset(
    "journal newspaper magazine broadcaster outlet website site channel tabloid publication station agency wire daily weekly".split()
)
ORG_HEADS = frozenset(
    """office department ministry agency commission committee council bureau authority university institute
    service court party administration directorate inspectorate secretariat""".split()
)
EVENT_HEADS = frozenset(
    "awards olympics paralympics cup championship championships festival expo marathon summit oscars grammys emmys".split()
)
FACILITY_WORDS = frozenset("school college academy center centre hall auditorium library arena theatre theater".split())
FACILITY_NOUNS = frozenset(
    """prison jail airport hospital stadium bridge station tower dam museum palace mosque church temple
    cathedral hotel square plant mine refinery port harbour harbor camp base""".split()
)
ADMIN_NOUNS = frozenset("district province county city town village municipality prefecture township borough".split())
LOCATED_HEADS = frozenset(
    """facility plant factory base camp border street streets road town village city area region
    protest protests clash clashes attack attacks violence fighting people residents home homes house
    houses school hospital office offices headquarters station airport market neighbourhood neighborhood
    live locate base bear hold happen occur arrive die kill stay gather march rally meet land stop fight""".split()
)
LOCATIVE = frozenset({"in", "near", "outside", "inside"})
ORIGIN = frozenset({"in", "near", "from", "at", "outside", "inside"})
_DOTTED = re.compile(r"^[A-Z][A-Za-z0-9-]*\.(?:NET|COM|ORG|Net|Com|Org|net|com|org|info|io|ua|ru)$")
_NOT_NAME = frozenset({"VERB", "AUX", "DET", "ADP", "PRON", "CCONJ", "SCONJ", "PUNCT", "NUM", "PART"})


def _title(t: Token) -> bool:
    word = t.text.replace(".", "")  # "Co.", "Inc.", "U.S."
    return bool(_DOTTED.match(t.text)) or (word.isalpha() and t.text[0].isupper() and (len(t.text) > 1 or t.i > 0))


def _name_run(doc: Doc, i: int, limit: int = 6, roles_ok: bool = False, persons_ok: bool = False) -> int:
    """End of a run of capitalised name tokens starting at i (i itself when none)."""
    j = i
    while j < len(doc) and j - i < limit and _title(doc[j]) and doc[j].pos_ not in _NOT_NAME and (
        doc[j].ent_type_ not in ("DATE", "TIME", "CARDINAL") and (persons_ok or doc[j].ent_type_ != "PERSON")
    ) and (roles_ok or (doc[j].lower_ not in ROLE_HEADS and doc[j].lower_ not in ROLE_MODIFIERS)):
        j += 1
    return j


def _extend_of(doc: Doc, end: int) -> int:
    """"Ministry" + "of Foreign Affairs", "Office" + "for the Western District of New York"."""
    while end + 1 < len(doc) and doc[end].lower_ in ("of", "for"):
        k = end + 1
        if doc[k].lower_ == "the":
            k += 1
        run = _name_run(doc, k, roles_ok=True) if k < len(doc) else k
        if run == k:
            break
        end = run
    return end


def rule_spans(doc: Doc) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    tokens = info(doc).tokens
    n = len(tokens)
    for t in tokens:
        low = t.lower_
        i = t.i
        if low in ("copyright", "©"):
            j = i + 1
            while j < n and (tokens[j].like_num or tokens[j].text in ("©", "(", ")", "c", ",")):
                j += 1
            end = _name_run(doc, j, roles_ok=True)
            if end > j and j > i + 1:
                spans.append((j, end, "ORG"))
        elif low in OUTLET_NOUNS and t.is_lower and t.pos_ == "NOUN" and i + 1 < n:
            end = _name_run(doc, i + 1, persons_ok=True)  # "the website Full Fact" NER took for a person
            end = _extend_of(doc, end) if end > i + 1 else end
            if end > i + 1 and not aliases.canonical_id(doc[i + 1:end].text, "PERSON"):
                spans.append((i + 1, end, "ORG"))
        elif _DOTTED.match(t.text) and t.ent_iob_ == "O":
            spans.append((i, i + 1, "ORG"))
        elif low == "-" and i + 1 < n and tokens[i + 1].lower_ == "based" and i > 0 and tokens[i - 1].ent_iob_ == "O":
            start = i
            while start > 0 and tokens[start - 1].pos_ == "PROPN" and tokens[start - 1].is_title and i - start < 4:
                start -= 1
            if start < i and info(doc).sent(start).start != start or (start < i and i - start > 1):
                spans.append((start, i, "GPE"))
        elif low in ("am", "upon") or (low in ("an", "ob") and i + 1 < n and tokens[i + 1].lower_ == "der"):
            span = _connected_place(doc, i)
            if span:
                spans.append(span)
        elif low in ORG_HEADS and t.is_title:
            span = _org_phrase(doc, i)
            if span:
                spans.append(span)
    spans.sort()
    kept: list[tuple[int, int, str]] = []
    for s in spans:
        if kept and s[0] < kept[-1][1]:
            continue
        kept.append(s)
    return kept


def _connected_place(doc: Doc, i: int) -> tuple[int, int, str] | None:
    """"Braunau am Inn", "Frankfurt an der Oder", "Newcastle upon Tyne"."""
    left = doc[i - 1] if i > 0 else None
    if left is None or not left.is_title or left.pos_ != "PROPN":
        return None
    j = i + 2 if doc[i].lower_ in ("an", "ob") else i + 1
    if j >= len(doc) or not doc[j].is_title or doc[j].pos_ != "PROPN":
        return None
    if left.ent_type_ not in ("GPE", "LOC") and not gazetteer.place_type(left.text):
        return None
    start = left.i
    while left.ent_iob_ == "I" and start > 0 and doc[start - 1].ent_type_ == left.ent_type_:
        start -= 1
    return (start, j + 1, "GPE")


def _org_phrase(doc: Doc, i: int) -> tuple[int, int, str] | None:
    """"U.S. Attorney's Office (for the Western District of New York)", "Ministry of Foreign Affairs"."""
    start = i
    possessive = False
    while start > 0:
        p = doc[start - 1]
        if p.tag_ == "POS" or p.lower_ in ("'s", "’s"):
            possessive = True
        elif not ((p.is_title or p.is_upper) and p.pos_ == "PROPN"):
            break
        start -= 1
    if start < len(doc) and doc[start].tag_ == "POS":
        start += 1
    end = _extend_of(doc, i + 1)
    if doc[i].ent_type_ == "ORG":  # NER found part of it: keep the union
        es = ee = i
        while es > 0 and doc[es].ent_iob_ == "I":
            es -= 1
        while ee < len(doc) and doc[ee].ent_type_ == "ORG" and (ee == i or doc[ee].ent_iob_ == "I"):
            ee += 1
        start, end = min(start, es), max(end, ee)
    if not possessive and end == i + 1:
        return None
    if start == i and end == i + 1:
        return None
    return (start, end, "ORG")


def retype(doc: Doc, start: int, end: int, label: str, surface: str, known: bool) -> str | None:
    """The label a mention should have from its context; None drops it."""
    toks = info(doc).tokens
    if known:
        return label
    gaz = gazetteer.place_type(surface)
    root = doc[start:end].root
    if gaz:
        if gaz == label or label in ("EVENT", "LAW", "PRODUCT") or (
            label in ("PERSON", "ORG") and root.dep_ in ("nsubj", "nsubjpass") and gaz != "NORP"
        ):
            return label
        return gaz
    words = surface.split()
    last = words[-1].lower()
    if label in ("ORG", "PERSON", "GPE", "LOC") and last.endswith(("ism", "isms")) and len(last) > 5:
        return "NORP"  # "National Socialism": an ideology
    if label in ("ORG", "PERSON", "GPE", "FAC") and last in EVENT_HEADS and (len(words) > 1 or last.endswith("s")):
        return "EVENT"  # "the American Music Awards"
    nxt = toks[end] if end < len(doc) else None
    prev = toks[start - 1] if start > 0 else None
    if label in ("ORG", "GPE", "LOC", "NORP") and len(words) > 1 and not looks_like_org(surface) and (
        (prev is not None and prev.lower_ in HONORIFICS) or words[0].lower() in HONORIFICS
        or any(c.dep_ == "relcl" and any(g.lower_ == "who" and g.dep_ in ("nsubj", "nsubjpass") for g in c.children)
               for c in root.children)
    ):
        return "PERSON"  # "Sen. Ben Sasse", "Montell Figgins, who represents ..."
    if label == "PERSON":
        if nxt is not None and nxt.is_lower and nxt.lemma_ in FACILITY_NOUNS and root.dep_ == "compound" and root.head.i == nxt.i:
            return "FAC"  # "Hoa Lo prison"
        if end - start == 1 and nxt is not None and nxt.is_title and nxt.lower_ in ROLE_HEADS:
            return None  # "Research and Advocacy Director": part of a job title
    if label in ("ORG", "PERSON", "NORP") and nxt is not None and nxt.text in ("-", "–") and end + 1 < len(doc) and (
        toks[end + 1].lower_ == "based"
    ) and not looks_like_org(surface):
        return "GPE"  # "an Amritsar-based agent"
    if label == "LOC" and root.dep_ == "compound" and root.head.i >= end and root.head.lower_ in ADMIN_NOUNS:
        return "GPE"  # "Kowloon West district"
    if label in ("ORG", "PERSON") and not looks_like_org(surface) and root.dep_ == "pobj" and not any(
        w.lower() in FACILITY_WORDS or w.lower() in FACILITY_NOUNS for w in words
    ):
        prep = root.head
        if prep.lower_ in ORIGIN and any(c.dep_ == "poss" and _is_place(c) for c in root.children):
            return "GPE"  # "from Punjab's Bhatinda"
        if label == "ORG" and prep.lower_ in LOCATIVE and (prep.lower_ == "near" or prep.head.lemma_.lower() in LOCATED_HEADS):
            return "GPE"  # "the fuel facility in Senkata"
    return label


def _is_place(t: Token) -> bool:
    if t.ent_type_ in ("GPE", "LOC"):
        return True
    entry = aliases.get_table().lookup(t.text)
    return (entry is not None and entry.type in ("GPE", "LOC")) or gazetteer.place_type(t.text) in ("GPE", "LOC")
