"""Is a short extracted text a paywall teaser?

Paywall markup alone proves nothing: sites ship their login bar, subscription modal and metering
scripts (`class="paywall-header-wrap"`, `class="paywall-modal"`) on every page, free ones included,
and some wrap the full, served article in `class="paywall"`. The question is only asked of a text
shorter than an article usually is (the extractor's PAYWALL_TEASER_CHARS), and then it is a teaser
when the page says so:

- it declares the article gated (schema.org `isAccessibleForFree: false`) and the gated part it
  names (`hasPart.cssSelector`) is not there with text in it: a page that serves the gated part
  in full is not withholding anything;
- it says so in words ("Subscribe to continue reading", "This article is for subscribers only");
- or it carries paywall markup and the text itself looks cut off (ends in "..." or mid-sentence)
  or is shorter than a brief.

A text of PAYWALL_TEASER_CHARS or more is an article, whatever markup the page carries.
"""

from __future__ import annotations

import re
from typing import Any

TEASER_MIN_CHARS = 250  # shorter than the shortest brief: with paywall markup, a teaser
SERVED_MIN_CHARS = 250  # a gated part with this much text in the page was served
CUT_LINE_MIN_CHARS = 80  # a last line this long without a full stop is a paragraph cut short

_DECLARED_GATED = re.compile(r"[\"']isAccessibleForFree[\"']\s*:\s*[\"']?false", re.IGNORECASE)
_GATE_PHRASE = re.compile(
    r"subscribe (now )?to (continue|keep) reading|to (continue|keep) reading,? (please )?(subscribe|log in|sign in)"
    r"|this (article|story|content) is (only )?(available |reserved )?(for|to) (paying )?(subscribers|members)",
    re.IGNORECASE,
)
_PAYWALL_CLASS = re.compile(
    r"class=[\"'][^\"']*\b(paywall|paywall-[\w-]+|subscriber-only|premium-content|piano-offer|meteredContent|"
    r"regwall|tp-modal)\b"
    r"|already a subscriber\?",
    re.IGNORECASE,
)
# cheap substring tests (on the lower-cased page) that must hold before each regex can match
_GATE_KEYS = ("reading", "subscribers", "members")
_CLASS_KEYS = ("paywall", "subscriber", "premium-content", "piano-offer", "meteredcontent", "regwall", "tp-modal")
_CSS_SELECTOR = re.compile(r"[\"']cssSelector[\"']\s*:\s*[\"']([^\"']+)[\"']")
_SIMPLE_SELECTOR = re.compile(r"^([a-zA-Z][\w-]*)?(?:([.#])([\w-]+))?$")
_SENTENCE_END = tuple(".!?\"'”’)»]")


def paywall_evidence(html: str, text: str, tree: Any = None) -> str | None:
    """What shows that `text` (the visible main text, assumed short) is a paywall teaser, or None."""
    low = html.lower()
    if "isaccessibleforfree" in low:
        declared = _DECLARED_GATED.search(html)
        if declared and not _gated_part_served(html, tree):
            return repr(declared.group(0)[:60])
    if any(key in low for key in _GATE_KEYS):
        phrase = _GATE_PHRASE.search(html)
        if phrase:
            return repr(phrase.group(0)[:60])
    if (len(text) < TEASER_MIN_CHARS or looks_cut_off(text)) and any(key in low for key in _CLASS_KEYS):
        markup = _PAYWALL_CLASS.search(html)
        if markup:
            return f"{markup.group(0)[:60]!r}, text cut off" if text else repr(markup.group(0)[:60])
    return None


def looks_cut_off(text: str) -> bool:
    """A text that stops with an ellipsis, or mid-sentence in a paragraph, as teasers do (a short last
    line without a full stop is a credit or a caption: "Reporting by Jane Doe; editing by Sam Lee")."""
    last = text.rstrip().rsplit("\n", 1)[-1].strip()
    if last.endswith(("...", "…")):
        return True
    return len(last) >= CUT_LINE_MIN_CHARS and not last.endswith(_SENTENCE_END)


def _gated_part_served(html: str, tree: Any) -> bool:
    """Whether the part the page's JSON-LD declares gated (hasPart.cssSelector) is in the page with
    text in it. Only simple selectors (`.class`, `#id`, `tag`, `tag.class`) are looked up."""
    if tree is None:
        return False
    for selector in dict.fromkeys(_CSS_SELECTOR.findall(html)):
        for part in selector.split(","):
            xpath = _selector_xpath(part.strip())
            if xpath is None:
                continue
            served = sum(len(" ".join(el.text_content().split())) for el in tree.xpath(xpath))
            if served >= SERVED_MIN_CHARS:
                return True
    return False


def _selector_xpath(selector: str) -> str | None:
    m = _SIMPLE_SELECTOR.match(selector)
    if not m or not (m.group(1) or m.group(3)):
        return None
    tag, kind, name = m.group(1) or "*", m.group(2), m.group(3)
    if kind == ".":
        return f"//{tag}[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"
    if kind == "#":
        return f"//{tag}[@id='{name}']"
    return f"//{tag}"
