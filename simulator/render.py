"""Rendering feeds (RSS 2.0 / Atom), article pages and OPML for the simulator."""

from __future__ import annotations

from collections.abc import Sequence
from email.utils import format_datetime
from html import escape

from simulator.site import FeedSpec, ItemSpec


def item_link(base_url: str, item: ItemSpec) -> str:
    return item.link or f"{base_url}/articles/{item.slug}.html"


def _newest_first(items: Sequence[ItemSpec]) -> list[ItemSpec]:
    return sorted(items, key=lambda i: i.published, reverse=True)


def render_rss(feed: FeedSpec, base_url: str, max_items: int = 50) -> str:
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">',
        "<channel>",
        f"<title>{escape(feed.title or feed.id)}</title>",
        f"<link>{base_url}/</link>",
        f"<description>{escape(feed.description or feed.title or feed.id)}</description>",
        f"<language>{escape(feed.language)}</language>",
    ]
    if feed.ttl:
        parts.append(f"<ttl>{feed.ttl}</ttl>")
    for item in _newest_first(feed.items)[:max_items]:
        link = item_link(base_url, item)
        parts += [
            "<item>",
            f"<title>{escape(item.title)}</title>",
            f"<link>{escape(link)}</link>",
            f'<guid isPermaLink="{"false" if item.guid else "true"}">{escape(item.guid or link)}</guid>',
            f"<pubDate>{format_datetime(item.published)}</pubDate>",
        ]
        if item.author:
            parts.append(f"<dc:creator>{escape(item.author)}</dc:creator>")
        if item.summary:
            parts.append(f"<description>{escape(item.summary)}</description>")
        parts.append("</item>")
    parts += ["</channel>", "</rss>", ""]
    return "\n".join(parts)


def render_atom(feed: FeedSpec, base_url: str, max_items: int = 50) -> str:
    items = _newest_first(feed.items)[:max_items]
    updated = (items[0].published if items else None)
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{escape(feed.language)}">',
        f"<title>{escape(feed.title or feed.id)}</title>",
        f"<id>{base_url}/feeds/{escape(feed.id)}.xml</id>",
        f'<link href="{base_url}/"/>',
    ]
    if updated:
        parts.append(f"<updated>{updated.isoformat()}</updated>")
    for item in items:
        link = item_link(base_url, item)
        parts += [
            "<entry>",
            f"<title>{escape(item.title)}</title>",
            f'<link rel="alternate" href="{escape(link)}"/>',
            f"<id>{escape(item.guid or link)}</id>",
            f"<updated>{item.published.isoformat()}</updated>",
            f"<published>{item.published.isoformat()}</published>",
        ]
        if item.author:
            parts.append(f"<author><name>{escape(item.author)}</name></author>")
        if item.summary:
            parts.append(f"<summary>{escape(item.summary)}</summary>")
        parts.append("</entry>")
    parts += ["</feed>", ""]
    return "\n".join(parts)


def render_article(item: ItemSpec, site_name: str, base_url: str, language: str = "en") -> str:
    if item.html is not None:
        return item.html
    paragraphs = [p.strip() for p in (item.body or "").split("\n\n") if p.strip()]
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    url = item_link(base_url, item)
    author = escape(item.author or "")
    published = item.published.isoformat()
    byline = f'By <span class="author">{author}</span>, ' if author else ""
    return f"""<!DOCTYPE html>
<html lang="{escape(language)}">
<head>
<meta charset="utf-8">
<title>{escape(item.title)} | {escape(site_name)}</title>
<link rel="canonical" href="{escape(url)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{escape(item.title)}">
<meta property="og:site_name" content="{escape(site_name)}">
<meta property="og:url" content="{escape(url)}">
<meta name="description" content="{escape(item.summary or '')}">
<meta name="author" content="{author}">
<meta property="article:published_time" content="{published}">
</head>
<body>
<header><nav><a href="/">Home</a> <a href="/world">World</a> <a href="/business">Business</a></nav></header>
<main>
<article>
<h1>{escape(item.title)}</h1>
<p class="byline">{byline}<time datetime="{published}">{published[:10]}</time></p>
{body}
</article>
</main>
<footer><p>&copy; {escape(site_name)}. All rights reserved.</p></footer>
</body>
</html>
"""


def render_opml(feeds: Sequence[tuple[str, str]], title: str) -> str:
    outlines = "\n".join(
        f'    <outline type="rss" text="{escape(name)}" title="{escape(name)}" xmlUrl="{escape(url)}"/>'
        for name, url in feeds
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<opml version="2.0">\n'
        f"  <head><title>{escape(title)}</title></head>\n  <body>\n{outlines}\n  </body>\n</opml>\n"
    )
