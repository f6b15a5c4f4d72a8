"""One claim per statement: the drafts of all rules become claims that never overlap.

- A direct quote split by its attribution (`"...," she said. "..."`), whose second part has no
  attribution of its own, is one statement: one claim spanning both parts, with two quote spans.
- A quoted fragment inside a reported statement (`the supermarkets had "used inflation as cover" to
  raise margins`) is part of that claim: its span becomes a quote sub-span and the claim's kind is
  `mixed`. An unattributed sentence holding an attributed quote becomes that speaker's `mixed` claim.
- Nested reports keep the outer statement ("X said officials believe Z" is X's claim) except under
  "according to" and "This was stated by X", whose sentences are the inner speaker's.
- Any other overlap keeps the higher-ranked claim (quotations, then attributed statements, then
  unattributed assertions) and trims or drops the other.
"""

from __future__ import annotations

import re

from pipeline.tagging.attribution import Draft, trim
from pipeline.tagging.docinfo import DocInfo
from pipeline.tagging.lexicon import PASSIVE_ANAPHORS

_RANK = {"direct_quote": 3, "mixed": 3, "indirect": 2, "reported": 2, "assertion": 0}
_ATTRIBUTED = frozenset({"indirect", "reported", "mixed"})
_GAP_WORDS = 8  # an attribution between two parts of one quote: "she said", "said Jane Doe, the mayor"
_MIN_WORDS = 3


def one_per_statement(drafts: list[Draft], di: DocInfo) -> list[Draft]:
    """Non-overlapping claims from the drafts (sorted by start)."""
    drafts = merge_split_quotes(sorted(drafts, key=lambda d: (d.start, -d.end)), di)
    out: list[Draft] = []
    pending = sorted(drafts, key=lambda d: (d.start, -d.end))
    budget = 20 * len(pending) + 20  # every step merges, drops or trims; this only guards against a rule bug
    while pending:
        d = pending.pop(0)
        clash = next((o for o in out if o.start < d.end and d.start < o.end), None)
        if clash is None:
            out.append(d)
            continue
        budget -= 1
        if budget < 0:  # keep what does not overlap, best-ranked first
            if _RANK[d.kind] > _RANK[clash.kind]:
                out[out.index(clash)] = d
            continue
        out.remove(clash)
        for kept in _settle(clash, d, di.text):
            pending.append(kept)
        pending.sort(key=lambda x: (x.start, -x.end))
    out.sort(key=lambda d: (d.start, d.end))
    return [d for i, d in enumerate(out) if i == 0 or out[i - 1].end <= d.start]


def merge_split_quotes(drafts: list[Draft], di: DocInfo) -> list[Draft]:
    out: list[Draft] = []
    last_quote: Draft | None = None
    for d in drafts:
        if d.kind == "direct_quote" and last_quote is not None and _continues(last_quote, d, di):
            merged = Draft(last_quote.start, d.end, "direct_quote", cue=last_quote.cue,
                           speaker_token=last_quote.speaker_token, quote=last_quote.quote,
                           speaker=last_quote.speaker or d.speaker, quotes=last_quote.quotes + d.quotes,
                           relayed_by=last_quote.relayed_by)
            out[out.index(last_quote)] = merged
            last_quote = merged
            continue
        out.append(d)
        if d.kind == "direct_quote":
            last_quote = d
    return out


def _continues(a: Draft, b: Draft, di: DocInfo) -> bool:
    """`b` continues `a`'s statement: same paragraph, only `a`'s attribution between them, and no
    attribution of `b`'s own."""
    if a.cue is None or di.para_of(a.start) != di.para_of(b.start) or not (a.end <= a.cue.idx < b.start):
        return False
    if b.cue is not None and b.cue.i != a.cue.i:
        return False
    if a.speaker is not None and b.speaker is not None and (a.speaker.key or a.speaker.name) != (b.speaker.key or b.speaker.name):
        return False
    gap = di.text[a.end:b.start]
    return "\n" not in gap and len(gap.split()) <= _GAP_WORDS


def _settle(a: Draft, b: Draft, text: str) -> list[Draft]:
    """What is left of two overlapping drafts: one, a merge of both, or both with one trimmed."""
    quote_a, quote_b = a.kind == "direct_quote", b.kind == "direct_quote"
    if quote_a != quote_b:
        q, o = (a, b) if quote_a else (b, a)
        if o.start <= q.start and q.end <= o.end:
            return [_absorb(o, q)]
        if q.start <= o.start and o.end <= q.end or _share(o, q) >= 0.9:
            return [q]  # paraphrase inside the quotation: the quotation says it
        if o.kind in _ATTRIBUTED or (o.kind == "assertion" and q.speaker is not None and _share(o, q) >= 0.5):
            return [_absorb(o, q)]
        return [q, *_trimmed(o, q, text)]
    inner, outer = (a, b) if (a.end - a.start) <= (b.end - b.start) else (b, a)
    if _share(inner, outer) >= 0.9 and inner.kind in _ATTRIBUTED and outer.kind in _ATTRIBUTED:
        return [inner if _defers(outer) else outer]
    if _RANK[a.kind] != _RANK[b.kind]:
        hi, lo = (a, b) if _RANK[a.kind] > _RANK[b.kind] else (b, a)
    else:
        hi, lo = (a, b) if _keep_first(a, b) else (b, a)
    if _share(lo, hi) >= 0.5:
        return [hi]
    return [hi, *_trimmed(lo, hi, text)]


def _share(a: Draft, b: Draft) -> float:
    """How much of `a` lies inside `b`."""
    return max(0, min(a.end, b.end) - max(a.start, b.start)) / max(1, a.end - a.start)


def _defers(outer: Draft) -> bool:
    """Outer reports whose inner statement is the one made: "according to X, Y said Z", and "This was
    stated by X" (whose span is the sentences before it)."""
    cue = outer.cue
    return cue is not None and (cue.lower_ == "according" or any(
        c.dep_ == "nsubjpass" and c.lower_ in PASSIVE_ANAPHORS for c in cue.children))


def _keep_first(a: Draft, b: Draft) -> bool:
    return ((a.speaker is not None), a.end - a.start) >= ((b.speaker is not None), b.end - b.start)


def _absorb(host: Draft, q: Draft) -> Draft:
    """`host` takes the quotation `q` (inside it or overlapping it) as a verbatim part: one statement."""
    start, end = min(host.start, q.start), max(host.end, q.end)
    kind = "mixed" if host.kind in _ATTRIBUTED or q.speaker is not None else host.kind
    speaker, cue, token, relay = host.speaker, host.cue, host.speaker_token, host.relayed_by
    own_cue = q.cue is not None and q.speaker is not None and (host.cue is None or q.cue.i != host.cue.i) \
        and start <= q.cue.idx < end
    if host.kind == "assertion" or speaker is None or own_cue:
        # the quoted words belong to whoever uttered them ("he said, '...', the prosecutor's office said");
        # the host's speaker passes them on
        if own_cue and host.kind != "assertion" and speaker is not None:
            relay = speaker
        speaker, cue, token = q.speaker or speaker, q.cue or cue, q.speaker_token or token
    return Draft(start, end, kind, cue=cue, speaker_token=token, speaker=speaker, relayed_by=relay,
                 quotes=sorted(host.quotes + q.quotes), question=host.question, verb_phrase=host.verb_phrase)


def _trimmed(lo: Draft, hi: Draft, text: str) -> list[Draft]:
    """`lo` without the part `hi` covers (the longer side when `hi` sits inside it), if at least a few
    words remain; dangling conjunctions and auxiliaries at the cut go too."""
    left = trim(text, lo.start, hi.start) if lo.start < hi.start else (0, 0)
    right = trim(text, hi.end, lo.end) if hi.end < lo.end else (0, 0)
    if left[1] > left[0] and hi.kind == "direct_quote":
        left = (left[0], _before_quote_mark(text, left[0], left[1]))
    if left[1] > left[0]:
        m = _DANGLING_END.search(text, left[0], left[1])
        left = trim(text, left[0], m.start()) if m else left
    if right[1] > right[0]:
        m = _DANGLING_START.match(text, right[0], right[1])
        right = trim(text, m.end(), right[1]) if m else right
    start, end = max(left, right, key=lambda span: len(text[span[0]:span[1]].split()))
    if len(text[start:end].split()) < _MIN_WORDS:
        return []
    return [Draft(start, end, lo.kind, cue=lo.cue, speaker_token=lo.speaker_token, speaker=lo.speaker,
                  quotes=[x for x in lo.quotes if start <= x[0] and x[1] <= end], question=lo.question,
                  verb_phrase=lo.verb_phrase, relayed_by=lo.relayed_by)]


_CUT_WORDS = r"(?:and|but|or|so|has|have|had|is|are|was|were|that|which|who|while|as|with|after|before|to|of)"
_DANGLING_END = re.compile(r"(?:[\s,;:–—-]+" + _CUT_WORDS + r")+[\s,;:–—-]*$", re.IGNORECASE)
_DANGLING_START = re.compile(r"[\s,;:–—-]*(?:" + _CUT_WORDS + r"[\s,;:–—-]+)+", re.IGNORECASE)


def _before_quote_mark(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in " \"“”«»‘’":
        end -= 1
    return end
