"""Hostile bodies and filler text for the simulator."""

from __future__ import annotations

import functools
import random
import zlib

_SUBJECTS = ["The council", "Regional officials", "The ministry", "Local residents", "Researchers",
             "The company", "Union leaders", "Emergency services", "The central bank", "Investors"]
_VERBS = ["announced", "warned about", "reported", "debated", "welcomed", "criticised", "confirmed",
          "rejected", "outlined", "questioned"]
_OBJECTS = ["a new budget for public transport", "the rising cost of housing in the city",
            "plans to expand the harbour", "the results of the latest survey",
            "changes to the school calendar", "a proposal to cut energy prices",
            "the delay of the bridge repairs", "an agreement with neighbouring districts",
            "new rules for short-term rentals", "the quarterly employment figures"]
_TAILS = ["on Tuesday", "after a long meeting", "according to a statement", "despite objections",
          "in a press conference", "earlier this week", "following months of talks", "late on Friday"]


def filler_paragraphs(seed: str, paragraphs: int = 6, sentences: int = 4) -> str:
    """Deterministic, English-looking article text (blank-line separated paragraphs)."""
    rnd = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        out.append(" ".join(
            f"{rnd.choice(_SUBJECTS)} {rnd.choice(_VERBS)} {rnd.choice(_OBJECTS)} {rnd.choice(_TAILS)}."
            for _ in range(sentences)
        ))
    return "\n\n".join(out)


@functools.lru_cache(maxsize=4)
def gzip_bomb(inflated_bytes: int) -> bytes:
    """A gzip stream of `inflated_bytes` zeros (about 1000:1)."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = b"\0" * (1 << 20)
    out = [comp.compress(b"<html><body>")]
    left = inflated_bytes
    while left > 0:
        n = min(left, len(chunk))
        out.append(comp.compress(chunk[:n]))
        left -= n
    out.append(comp.flush())
    return b"".join(out)


XML_ENTITY_BOMB = """<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
  <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
  <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
  <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
  <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
  <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
  <!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">
]>
<rss version="2.0"><channel><title>&g;</title>
<item><title>&g;</title><link>http://127.0.0.1/articles/bomb.html</link></item>
</channel></rss>
"""

MALFORMED_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
<title>Broken & Co News</title>
<link>{base}/</link>
<item>
  <title>Mayor opens new bridge & tunnel</title>
  <link>{base}/articles/malformed-one.html</link>
  <pubDate>Mon, 16 Nov 2026 10:00:00 GMT</pubDate>
</item>
<item>
  <title>Harbour plans <b>approved</title>
  <link>{base}/articles/malformed-two.html</link>
</item>
</channel>
"""

CHALLENGE_PAGE = """<!DOCTYPE html><html><head><title>Just a moment...</title></head>
<body><div id="cf-challenge-running">Checking your browser before accessing the site.
Please enable JavaScript and cookies to continue.</div></body></html>"""

PAYWALL_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Budget talks collapse | Daily Ledger</title>
<meta property="og:type" content="article">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle",
"headline":"Budget talks collapse","isAccessibleForFree":"False",
"hasPart":{{"@type":"WebPageElement","isAccessibleForFree":"False","cssSelector":".paywall"}}}}</script>
</head><body><article><h1>Budget talks collapse</h1>
<p>{teaser}</p>
<div class="paywall">Subscribe to continue reading. This article is for subscribers only.</div>
</article></body></html>"""

LISTING_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Section front | Daily Ledger</title>
<meta property="og:type" content="website"></head><body><h1>Latest news</h1><ul>
{links}
</ul></body></html>"""


def listing_links(base_url: str, n: int = 40) -> str:
    return "\n".join(f'<li><a href="{base_url}/articles/story-{i}.html">Story number {i}</a></li>'
                     for i in range(n))
