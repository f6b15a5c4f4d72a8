"""Direct quotations: straight and curly double quotes, British-style ‘single quotes’, «guillemets»,
including multi-paragraph quotes.

News style opens every paragraph of a long quotation with a quote mark and closes only the last
one; such a paragraph is quoted to its end and the next one continues it (``continues`` points at
the previous part, so the speaker carries over).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OPENERS = {"“": "”\"", "«": "»", "„": "“”\"", '"': '"”', "‘": "’"}
_PARA = re.compile(r"[^\n]+")
_MIN_WORDS = 3


@dataclass
class Quote:
    start: int  # content, without the quote marks
    end: int
    para: int
    continues: Quote | None = None  # the earlier part this quote continues
    open_ended: bool = False  # the paragraph ended before the quote closed

    def words(self, text: str) -> int:
        return len(text[self.start:self.end].split())


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _scan_paragraph(text: str, pstart: int, pend: int) -> list[tuple[int, int, bool]]:
    """(content start, content end, closed) for each quotation inside one paragraph."""
    found: list[tuple[int, int, bool]] = []
    i = pstart
    while i < pend:
        ch = text[i]
        closer = OPENERS.get(ch)
        if closer is None:
            i += 1
            continue
        if ch in ('"', "‘"):
            # an opening straight quote starts a word: preceded by start/space/bracket/dash
            prev = text[i - 1] if i > pstart else " "
            if not (prev.isspace() or prev in "([{—–-:;/,"):
                i += 1
                continue
        if ch == "‘":
            j = _single_closer(text, i + 1, pend)
            if j == -1:
                i += 1  # a lone ‘ is not a quotation (single quotes never span paragraphs)
                continue
            found.append((i + 1, j, True))
            i = j + 1
            continue
        j = min((k for k in (text.find(c, i + 1, pend) for c in closer) if k != -1), default=-1)
        if j == -1:
            found.append((i + 1, pend, False))
            break
        found.append((i + 1, j, True))
        i = j + 1
    return found


def _single_closer(text: str, start: int, end: int) -> int:
    """British-style ‘quote’: the first ’ not inside a word (so not "don’t"), before any new ‘."""
    j = start
    while j < end:
        ch = text[j]
        if ch == "‘":
            return -1
        if ch == "’" and (j + 1 >= end or not text[j + 1].isalpha()) and j > start and not text[j - 1].isspace():
            if not (text[j - 1] in "sS" and j + 1 < end and text[j + 1] == " " and j + 2 < end and text[j + 2].islower()):
                return j  # (a plural possessive, "the teachers’ union", is not a closer)
        j += 1
    return -1


def find_quotes(text: str) -> list[Quote]:
    quotes: list[Quote] = []
    prev_open_ended: Quote | None = None
    for para, match in enumerate(_PARA.finditer(text)):
        pstart, pend = match.span()
        first_char_pos = pstart + (len(match.group()) - len(match.group().lstrip()))
        continued_here = False
        for cstart, cend, closed in _scan_paragraph(text, pstart, pend):
            s, e = _strip(text, cstart, cend)
            e = _trim_trailing_punct(text, s, e)
            if e <= s:
                continue
            q = Quote(s, e, para, open_ended=not closed)
            if prev_open_ended is not None and not continued_here and cstart - 1 == first_char_pos:
                q.continues = prev_open_ended
                continued_here = True
            quotes.append(q)
        last = quotes[-1] if quotes else None
        prev_open_ended = last if last is not None and last.para == para and last.open_ended else None
    return [q for q in quotes if q.words(text) >= _MIN_WORDS or q.continues is not None]


def _trim_trailing_punct(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1] in ",;:":
        end -= 1
    return end
