"""`newswatch extract --json PATH_OR_URL...`: article text and metadata, one JSON object per input.

Inputs are local `.html` / `.html.gz` (or `.txt`) files or http(s) URLs (fetched politely, with the SSRF
guard); `pipeline.jobs.sources` turns them into the records the stages take.
Exit status: 0 when every input was extracted, 1 when any ended in another outcome (each line says why).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

JSON_FIELDS = ("source", "status", "reason", "text", "title", "authors", "published_at", "language", "site",
               "url", "description", "tags", "image")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="extract article text and metadata from HTML files or URLs",
                       description=__doc__.splitlines()[0])
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
    from pipeline.config import load_settings
    from pipeline.jobs.sources import extract_sources

    settings = load_settings(allow_private_addresses=args.allow_private_addresses)
    failures = 0
    for row in (as_json(source, article) for source, article in extract_sources(args.sources, settings)):
        if row["status"] != "ok":
            failures += 1
        if args.json:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        else:
            print(f"== {row['source']}: {row['status']}" + (f" ({row['reason']})" if row["reason"] else ""))
            if row["title"]:
                print(f"title: {row['title']}")
            meta = [f"{k}: {row[k]}" for k in ("site", "language", "published_at") if row[k]]
            if row["authors"]:
                meta.append("authors: " + ", ".join(row["authors"]))
            if meta:
                print(" | ".join(meta))
            if row["text"]:
                print(row["text"])
            print()
    if failures:
        print(f"newswatch extract: {failures} of {len(args.sources)} inputs not extracted", file=sys.stderr)
    return 1 if failures else 0
