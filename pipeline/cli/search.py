"""`newswatch search QUERY [--entity NAME] [--speaker NAME] [--certainty L] [--site S] [--since D] [--until D]
[--claims] [--sort KEY] [--json]`: articles (or claims) with highlights, matching claims and facets."""

from __future__ import annotations

import argparse
import re
import sys
from datetime import UTC, datetime
from typing import Any

SEARCH_DESCRIPTION = """\
Search what newswatch has indexed: articles (with highlighted passages, their claims and counts by
entity, speaker, site and date), or with --claims the claims themselves. Names resolve through the
alias table, so --entity DPRK also finds "North Korea". Errors in the query (an unknown field, an
unbalanced parenthesis) exit with code 2; an unreachable Elasticsearch with code 3."""

SEARCH_EXAMPLES = """\
examples:
  newswatch search "North Korea" --entity DPRK --since 2026-01-01
  newswatch search inflation --claims --certainty low
  newswatch search --claims --speaker Stoltenberg --json | jq '.claims[].text'
  newswatch search ceasefire --claims --sort checkworthiness
  newswatch search 'title:"rate cut" AND NOT site:example.org' --no-facets"""

# pipeline.search.query.SORTS["claims"], spelled out so that the CLI starts without importing the search
SORT_KEYS = ("relevance", "newest", "oldest", "checkworthiness", "speaker")


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date: {value!r} (use YYYY-MM-DD or an ISO timestamp)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def add_filter_arguments(p: argparse.ArgumentParser) -> None:
    """The search filters, shared by `newswatch search` and `newswatch watch add`."""
    p.add_argument("query", nargs="*", help="query text (Lucene syntax: AND/OR/NOT, \"phrases\", field:value)")
    p.add_argument("--entity", action="append", default=[], metavar="NAME",
                   help="only articles mentioning this entity (aliases resolve: DPRK = North Korea); repeatable")
    p.add_argument("--speaker", action="append", default=[], metavar="NAME", help="claims by this speaker; repeatable")
    p.add_argument("--certainty", choices=["low", "medium", "high"], help="claims with this certainty")
    p.add_argument("--site", action="append", default=[], metavar="S", help="site name or domain; repeatable")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("search", help="search articles or claims by text, entity, speaker and certainty",
                       description=SEARCH_DESCRIPTION, epilog=SEARCH_EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    add_filter_arguments(p)
    p.add_argument("--since", type=_date, metavar="DATE", help="published on or after (YYYY-MM-DD)")
    p.add_argument("--until", type=_date, metavar="DATE", help="published on or before (YYYY-MM-DD)")
    p.add_argument("--claims", action="store_true", help="search claims instead of articles")
    p.add_argument("--all-copies", action="store_true",
                   help="list every copy of a story (default: one row per story, with its number of outlets)")
    p.add_argument("--sort", default="relevance", choices=SORT_KEYS, metavar="KEY",
                   help="order of the results: relevance (default: the best match first, newest first without "
                        "query text), newest, oldest (undated last); for --claims also checkworthiness (most "
                        "check-worthy first) and speaker (A to Z, unattributed last). E.g. --claims --sort speaker")
    p.add_argument("--size", type=int, default=10, help="number of results (default 10)")
    p.add_argument("--no-facets", action="store_true", help="skip the facets")
    p.add_argument("--json", action="store_true", help="print the response as JSON")
    p.set_defaults(handler=_run)


def _plain(fragment: str, tty: bool) -> str:
    fragment = re.sub(r"\s+", " ", fragment).strip()
    if tty:
        return fragment.replace("<em>", "\033[1m").replace("</em>", "\033[0m")
    return fragment.replace("<em>", "[").replace("</em>", "]")


def _facet_line(name: str, buckets: list[Any]) -> str:
    def key(b: Any) -> str:  # date buckets: the day is enough
        return b.key[:10] if name == "published" and len(b.key) >= 10 and b.key[4] == "-" else b.key

    return f"  {name}: " + ", ".join(f"{key(b)} ({b.count})" for b in buckets)


def _claim_line(c: Any, tty: bool) -> str:
    who = c.speaker or "unattributed"
    text = _plain(c.highlight or c.text, tty)
    if len(text) > 240:
        text = text[:237] + "..."
    return f"    - {who} [{c.certainty or '?'}]: {text}"


def _copies(story: Any) -> str:
    """ "  (4 copies, 3 outlets)" when the hit stands for several copies."""
    if story is None or story.size <= 1:
        return ""
    return f"  ({story.size} copies, {story.outlet_count} outlet{'s' if story.outlet_count != 1 else ''})"


def _run(args: argparse.Namespace) -> int:
    from pipeline.config import load_settings
    from pipeline.es import client_from_settings
    from pipeline.search.api import search
    from pipeline.search.query import SearchError, SearchQuery

    settings = load_settings()
    try:
        query = SearchQuery(text=" ".join(args.query), entities=args.entity, speakers=args.speaker,
                            certainty=args.certainty, sites=args.site, since=args.since, until=args.until,
                            claims=args.claims, size=max(0, min(args.size, 500)), facets=not args.no_facets,
                            all_copies=args.all_copies, sort=args.sort)
        resp = search(client_from_settings(settings), query, settings)
    except SearchError as exc:
        print(f"newswatch search: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(resp.model_dump_json(indent=2))
        return 0
    tty = sys.stdout.isatty()
    for name, ids in resp.resolved.items():
        if ids and len(ids) == 1:
            print(f"({name} -> {ids[0]})")
    grouped = "" if resp.stories is None else f" in {resp.stories} {'statements' if resp.mode == 'claims' else 'stories'}"
    print(f"{resp.total} {resp.mode} matched{grouped} ({resp.took_ms} ms)")
    if resp.notice:
        print(f"note: {resp.notice}")
    if resp.mode == "claims":
        for c in resp.claims:
            print(_claim_line(c, tty).lstrip())
            print(f"      {c.title or ''}  {c.site or ''}  {c.published_at.date() if c.published_at else ''}  {c.url or ''}"
                  + _copies(c.story))
    for hit in resp.articles:
        date = hit.published_at.date().isoformat() if hit.published_at else "undated"
        print(f"\n* {hit.title or '(untitled)'}  [{hit.site or '?'}, {date}]{_copies(hit.story)}")
        print(f"  {hit.url}")
        for fragment in (hit.highlights.get("text") or hit.highlights.get("title") or [])[:2]:
            print(f"  ...{_plain(fragment, tty)}...")
        for c in hit.claims:
            print(_claim_line(c, tty))
    if any(resp.facets.values()):
        print("\nfacets:")
        for name, buckets in resp.facets.items():
            if buckets:
                print(_facet_line(name, buckets))
    return 0
