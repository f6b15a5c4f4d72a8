"""`newswatch extract --json PATH_OR_URL...`: article text and metadata, one JSON object per input.

Inputs are local `.html` / `.html.gz` (or `.txt`) files or http(s) URLs (fetched politely, with the SSRF
guard); `pipeline.jobs.sources` turns them into the records the stages take.
Exit status: 0 when every input was extracted, 1 when any ended in another outcome (each line says why),
2 when an input is neither a readable file nor an http(s) URL (nothing is done then).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pipeline.cli.helptext import add_command

JSON_FIELDS = ("source", "status", "reason", "text", "title", "authors", "published_at", "language", "site",
               "url", "description", "tags", "image")


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "extract", help="extract article text and metadata from HTML files or URLs",
        description="""
            Show what newswatch reads in a page: the article's text without menus and adverts, its
            title, authors, date, language and site, or why it is not usable (too short, paywalled,
            not an article, an HTTP error). Nothing is indexed. Inputs are saved pages (.html,
            .html.gz), text files (.txt) or http(s) URLs; --json prints one JSON object per input.""",
        example="""
            newswatch extract https://example.org/news/story.html
            newswatch extract --json saved/*.html.gz > articles.jsonl
            newswatch extract --allow-private-addresses http://127.0.0.1:8765/articles/a.html""")
    p.add_argument("sources", nargs="+", metavar="PATH_OR_URL")
    p.add_argument("--json", action="store_true", help="one JSON object per input, one per line")
    p.add_argument("--allow-private-addresses", action="store_true", default=None,
                   help="let URLs reach loopback/private addresses (local test servers)")
    p.set_defaults(handler=_run)


def as_json(source: str, article: Any) -> dict[str, Any]:
    return {
        "source": source,
        "status": article.outcome.status.value,
        "reason": article.outcome.reason,
        "text": article.text,
        "title": article.title,
        "authors": article.authors,
        "published_at": article.published_at.isoformat() if article.published_at else None,
        "language": article.language,
        "site": article.site,
        "url": article.url or None,
        "description": article.description,
        "tags": article.tags,
        "image": article.image,
    }


def _run(args: argparse.Namespace) -> int:
    from pipeline.cli.progress import Progress
    from pipeline.config import load_settings
    from pipeline.jobs.sources import InputError, extract_sources, input_problem

    problems = {s: why for s in dict.fromkeys(args.sources) if (why := input_problem(s))}
    if problems:
        raise InputError(problems)
    settings = load_settings(allow_private_addresses=args.allow_private_addresses)
    failures = 0
    with Progress(len(args.sources), "extracting") as progress:
        for row in (as_json(source, article) for source, article in extract_sources(args.sources, settings)):
            if row["status"] != "ok":
                failures += 1
            for line in _lines(row, args.json):
                progress.echo(line)
            progress.advance(row["source"])
    if failures:
        print(f"newswatch extract: {failures} of {len(args.sources)} inputs not extracted", file=sys.stderr)
    return 1 if failures else 0


def _lines(row: dict[str, Any], as_json_line: bool) -> list[str]:
    if as_json_line:
        return [json.dumps(row, ensure_ascii=False)]
    lines = [f"== {row['source']}: {row['status']}" + (f" ({row['reason']})" if row["reason"] else "")]
    if row["title"]:
        lines.append(f"title: {row['title']}")
    meta = [f"{k}: {row[k]}" for k in ("site", "language", "published_at") if row[k]]
    if row["authors"]:
        meta.append("authors: " + ", ".join(row["authors"]))
    if meta:
        lines.append(" | ".join(meta))
    if row["text"]:
        lines.append(row["text"])
    lines.append("")
    return lines
