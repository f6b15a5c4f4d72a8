"""`newswatch feeds`: poll the feed list once, list feeds with their state, import/export OPML.

The state store is Elasticsearch (`newswatch-feeds`) when reachable, else a JSON file in
Settings.data_dir (`--state` picks explicitly).
"""

from __future__ import annotations

import argparse
import errno
import json
import logging
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from pipeline.cli.helptext import add_command

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from pipeline.config import Settings
    from pipeline.feeds.catalog import FeedConfig, FeedLoad
    from pipeline.feeds.poller import PollResult
    from pipeline.feeds.state import FeedStateStore


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(
        sub, "feeds", help="poll feeds, list them, import/export OPML",
        description="""
            The news feeds newswatch follows (seeds/feeds.yaml, or NEWSWATCH_FEEDS_FILE): poll them once
            by hand and see what is new, list them with their state (last poll, failures, next poll),
            and move feed lists in and out as OPML. Each feed's state (ETag, backoff, what it has
            already seen) lives in Elasticsearch when it is reachable, else in a JSON file.""",
        example="""
            newswatch feeds list
            newswatch feeds poll --all --entries new.jsonl
            newswatch feeds import-opml subscriptions.opml --dry-run
            newswatch feeds export-opml -o feeds.opml""")
    p.add_argument("--feeds", dest="feeds_file", help="feed list (default: Settings.feeds_file, seeds/feeds.yaml)")
    p.add_argument("--state", choices=("auto", "es", "file", "memory"), default="auto",
                   help="where per-feed state lives (default: Elasticsearch if reachable, else a JSON file)")
    fsub = p.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")

    poll = add_command(fsub, "poll", help="run one polling cycle and print a per-feed summary",
                       description="Poll the feeds that are due (or --all, or --only some) with conditional "
                                   "requests, and print\nwhat each one gave. Exit code 1 when a feed failed.",
                       example="newswatch feeds poll\nnewswatch feeds poll --only bbc-world --entries - | jq .url")
    poll.add_argument("--all", action="store_true", help="poll every enabled feed, not only those due")
    poll.add_argument("--only", action="append", default=[], metavar="FEED_ID", help="poll just these feeds")
    poll.add_argument("--entries", metavar="PATH", help="write new entries as JSON Lines to PATH ('-' for stdout)")
    poll.add_argument("--json", action="store_true", help="per-feed results as JSON Lines instead of a table")
    poll.add_argument("--allow-private-addresses", action="store_true", default=None,
                      help="let feeds live on loopback/private addresses (local simulator)")
    poll.set_defaults(handler=_poll)

    ls = add_command(fsub, "list", help="list feeds with their polling state",
                     description="Every configured feed with its language, tags, last status, last and next "
                                 "poll, and failures.",
                     example="newswatch feeds list\nnewswatch feeds --state file list --json")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_list)

    imp = add_command(fsub, "import-opml", help="add the feeds of an OPML file to the feed list",
                      description="Add the feeds of an OPML file (a feed reader's export) to the feeds file; "
                                  "feeds already\nlisted are kept as they are.",
                      example="newswatch feeds import-opml subscriptions.opml --dry-run")
    imp.add_argument("opml", help="OPML file")
    imp.add_argument("--dry-run", action="store_true", help="show what would be added, change nothing")
    imp.set_defaults(handler=_import_opml)

    exp = add_command(fsub, "export-opml", help="write the feed list as OPML",
                      description="Write the feeds file as OPML, for a feed reader or another newswatch.",
                      example="newswatch feeds export-opml -o feeds.opml")
    exp.add_argument("-o", "--output", help="output file (default: stdout)")
    exp.set_defaults(handler=_export_opml)


# helpers ---------------------------------------------------------------------------------------

def _settings(args: argparse.Namespace) -> Settings:
    from pipeline.config import load_settings

    return load_settings(feeds_file=args.feeds_file,
                         allow_private_addresses=getattr(args, "allow_private_addresses", None))


def _load(settings: Settings) -> FeedLoad:
    from pipeline.feeds.catalog import load_feeds

    if not Path(settings.feeds_file).is_file():  # the user's input, not a feed problem: exit code 2
        raise FileNotFoundError(errno.ENOENT, "no such feeds file (see --feeds / NEWSWATCH_FEEDS_FILE)",
                                settings.feeds_file)
    load = load_feeds(settings.feeds_file)
    for err in load.errors:
        print(f"warning: {settings.feeds_file}: {err}", file=sys.stderr)
    return load


def open_store(kind: str, settings: Settings) -> tuple[FeedStateStore, str]:
    """The state store and a description of it."""
    from pipeline.feeds.state import InMemoryFeedStateStore, JsonFileFeedStateStore

    if kind == "memory":
        return InMemoryFeedStateStore(), "memory (not saved)"
    if kind in ("auto", "es"):
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)  # a failed probe is not news
        try:
            from pipeline.es import client_from_settings
            from pipeline.feeds.state import ElasticsearchFeedStateStore
            from pipeline.index.names import IndexNames
            from pipeline.index.setup import ensure_indices

            es = client_from_settings(settings).options(request_timeout=3, max_retries=0)
            es.info()  # raises when the cluster does not answer, with the reason
            ensure_indices(es, settings)
            store = ElasticsearchFeedStateStore(es, IndexNames(settings.index_prefix).feeds)
            return store, f"Elasticsearch {settings.es_url}"
        except Exception as exc:  # any client/connection problem means: not available
            if kind == "es":
                from pipeline.index.errors import ClusterUnavailable

                raise ClusterUnavailable(f"Elasticsearch at {settings.es_url} unavailable ({exc})",
                                         url=settings.es_url) from exc
            log.info("feed state in a file: Elasticsearch at %s unavailable (%s: %s)", settings.es_url,
                     type(exc).__name__, exc)
    path = Path(settings.data_dir) / "feed-state.json"
    return JsonFileFeedStateStore(path), f"file {path}"


def _ago(when: datetime | None, now: datetime) -> str:
    if when is None:
        return "-"
    seconds = int((when - now).total_seconds())
    sign = "in " if seconds >= 0 else ""
    seconds = abs(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{sign}{seconds // size}{unit}" + ("" if sign else " ago")
    return f"{sign}{seconds}s" + ("" if sign else " ago")


def print_table(rows: list[list[Any]], headers: list[str], out: TextIO | None = None) -> None:
    out = out or sys.stdout
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    widths[-1] = min(widths[-1], 80)
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip(), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for r in rows:
        cells = [str(c) for c in r]
        cells[-1] = cells[-1][:80]
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip(), file=out)


# actions ---------------------------------------------------------------------------------------

def _poll(args: argparse.Namespace) -> int:
    from pipeline.cli.progress import Progress
    from pipeline.feeds.poller import poll_feeds_async
    from pipeline.feeds.schedule import due_feeds
    from pipeline.fetch import aio

    settings = _settings(args)
    load = _load(settings)
    if not load.feeds:
        print(f"newswatch feeds: no valid feeds in {settings.feeds_file}", file=sys.stderr)
        return 2
    store, where = open_store(args.state, settings)
    feeds: list[FeedConfig] = [f for f in load.feeds if f.enabled]
    if args.only:
        feeds = [f for f in load.feeds if f.id in set(args.only)]
    elif not args.all:
        feeds = due_feeds(feeds, store)
    print(f"polling {len(feeds)} of {len(load.feeds)} feeds (state: {where})", file=sys.stderr)
    with Progress(len(feeds), "polling") as progress:
        results = aio.run(poll_feeds_async(feeds, store, settings,
                                           on_result=lambda r: progress.advance(f"{r.feed_id}: {r.outcome.status.value}")))
    now = datetime.now(UTC)
    if args.entries:
        _write_entries(args.entries, results)
    if args.json:
        for r in results:
            print(json.dumps({"feed_id": r.feed_id, "status": r.outcome.status.value, "reason": r.outcome.reason,
                              "http_status": r.http_status, **r.counts,
                              "next_poll_at": r.next_poll_at.isoformat() if r.next_poll_at else None,
                              "disabled": r.disabled}))
    else:
        rows = [[r.feed_id, r.outcome.status.value, r.http_status or "-", len(r.new_entries), r.duplicates,
                 f"{r.elapsed_ms:.0f}", _ago(r.next_poll_at, now), r.outcome.reason] for r in results]
        print_table(rows, ["feed", "status", "http", "new", "dup", "ms", "next", "reason"])
        new = sum(len(r.new_entries) for r in results)
        failed = sum(1 for r in results if not r.outcome.ok)
        print(f"\n{len(results)} feeds polled: {new} new entries, {failed} failed")
    return 1 if any(not r.outcome.ok for r in results) else 0


def _write_entries(target: str, results: list[PollResult]) -> None:
    lines = [e.model_dump_json() for r in results for e in r.new_entries]
    if target == "-":
        for line in lines:
            print(line)
        return
    Path(target).write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _list(args: argparse.Namespace) -> int:
    settings = _settings(args)
    load = _load(settings)
    store, where = open_store(args.state, settings)
    states = store.get_many(f.id for f in load.feeds)
    now = datetime.now(UTC)
    if args.json:
        for f in load.feeds:
            s = states.get(f.id)
            row: dict[str, Any] = {**f.model_dump(), "state": s.model_dump(mode="json", exclude={"recent_hashes"})
                                   if s else None}
            print(json.dumps(row, ensure_ascii=False))
        return 1 if load.errors else 0
    rows = []
    for f in load.feeds:
        s = states.get(f.id)
        status = "disabled" if not f.enabled else (
            "auto-disabled" if s and s.disabled else (s.status if s else "never polled"))
        rows.append([f.id, f.language or "-", ",".join(f.tags)[:30], status,
                     _ago(s.last_polled_at, now) if s else "-", _ago(s.next_poll_at, now) if s else "-",
                     s.consecutive_failures if s else 0,
                     (s.disabled_reason or s.reason) if s else f.url])
    print(f"{len(load.feeds)} feeds from {settings.feeds_file} (state: {where})")
    print_table(rows, ["feed", "lang", "tags", "status", "polled", "next", "fails", "reason / url"])
    return 1 if load.errors else 0


def _import_opml(args: argparse.Namespace) -> int:
    from pipeline.feeds.catalog import dump_feeds_yaml, import_opml, merge_feeds

    settings = _settings(args)
    imported = import_opml(Path(args.opml))
    for err in imported.errors:
        print(f"warning: {args.opml}: {err}", file=sys.stderr)
    path = Path(settings.feeds_file)
    existing = _load(settings).feeds if path.exists() else []
    merged, added = merge_feeds(existing, imported.feeds)
    new_ids = [f.id for f in merged[len(existing):]]
    print(f"{added} new feeds from {args.opml} ({len(imported.feeds) - added} already listed)"
          + (f": {', '.join(new_ids)}" if new_ids else ""))
    if added and not args.dry_run:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dump_feeds_yaml(merged), encoding="utf-8")
        print(f"wrote {path}")
    return 1 if imported.errors else 0


def _export_opml(args: argparse.Namespace) -> int:
    from pipeline.feeds.catalog import export_opml

    settings = _settings(args)
    load = _load(settings)
    text = export_opml(load.feeds)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {len(load.feeds)} feeds to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 1 if load.errors else 0
