"""`newswatch watch add|list|show|pause|resume|remove|test`: watchlists that alert on new matches.

A watch is a saved search (the filters of `newswatch search`) with a target and a mode. The news_alerts
DAG evaluates every active watch after each news_ingest run and sends each new match once.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from pipeline.cli.helptext import add_command
from pipeline.cli.search import add_filter_arguments

if TYPE_CHECKING:
    from pipeline.config import Settings

WATCH_DESCRIPTION = """\
Be told when something new matches a search. A watch is a saved search (the filters of `newswatch
search`) with a target (a webhook or e-mail addresses) and a mode (every match at once, or a digest).
After each scheduled ingest, Airflow's news_alerts DAG sends each new match once."""

EXAMPLES = """examples:
  newswatch watch add stoltenberg-nk "North Korea" --speaker Stoltenberg --certainty low --claims \\
      --webhook ops
  newswatch watch add acme-mentions --entity "Acme Corp" --email press@acme.example --digest 24
  newswatch watch test stoltenberg-nk          # what the last 24 hours would have sent; sends nothing
  newswatch watch list
  newswatch watch pause acme-mentions --reason "holiday"
  newswatch watch resume acme-mentions          # add --from-now to skip what was indexed while paused

targets: --webhook NAME posts JSON (with a Slack-compatible "text") to the URL configured for NAME: the
Airflow Connection newswatch_webhook_NAME, or NEWSWATCH_ALERT_WEBHOOKS="NAME=https://...". --email
sends through the Connection newswatch_smtp or NEWSWATCH_SMTP_*. Credentials never go in the watch.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("watch", help="watchlists: saved searches that alert on new matches",
                       description=WATCH_DESCRIPTION, epilog=EXAMPLES,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    wsub = p.add_subparsers(dest="watch_command", required=True, metavar="ACTION")

    add = wsub.add_parser("add", help="add a watch (its search is checked against the cluster first)",
                          description="Save a search (the filters of `newswatch search`) with where to send "
                                      "new matches: a webhook\nor e-mail, at once or as a digest. The search is "
                                      "tried against the cluster first.",
                          epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    add.add_argument("name", help="watch name: lowercase letters, digits, '-', '_', '.' (e.g. stoltenberg-nk)")
    add_filter_arguments(add)
    add.add_argument("--claims", action="store_true", help="match claims (default: articles)")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--webhook", metavar="NAME", help="post to the webhook configured under NAME")
    target.add_argument("--email", action="append", metavar="ADDRESS", help="e-mail recipient; repeatable")
    add.add_argument("--digest", type=int, metavar="HOURS",
                     help="collect matches and send at most one message every HOURS (default: immediately)")
    add.add_argument("--max-items", type=int, metavar="N",
                     help="matches listed per message (default NEWSWATCH_ALERT_MAX_ITEMS, 10)")
    add.add_argument("--description", default="", help="a note for the Watches page")
    add.add_argument("--replace", action="store_true", help="change an existing watch (keeps its progress)")
    add.set_defaults(handler=_add)

    ls = add_command(wsub, "list", help="every watch with its state",
                     description="Every watch: its search, target, mode, and its last match, delivery and failure.",
                     example="newswatch watch list\nnewswatch watch list --json")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_list)

    show = add_command(wsub, "show", help="one watch: definition, state, recent matches and deliveries",
                       description="One watch in full: its definition, how far it has evaluated, and its recent "
                                   "matches and\ndeliveries (with their idempotency keys).",
                       example="newswatch watch show stoltenberg-nk")
    show.add_argument("name")
    show.add_argument("--json", action="store_true")
    show.set_defaults(handler=_show)

    pause = add_command(wsub, "pause", help="stop evaluating and sending",
                        description="Stop evaluating the watch and sending its messages until it is resumed.",
                        example='newswatch watch pause acme-mentions --reason "holiday"')
    pause.add_argument("name")
    pause.add_argument("--reason", default="paused by hand")
    pause.set_defaults(handler=_pause)

    resume = add_command(wsub, "resume", help="start again; undelivered messages are retried",
                         description="Evaluate and send again; messages that were not delivered are retried.",
                         example="newswatch watch resume acme-mentions\nnewswatch watch resume acme-mentions "
                                 "--from-now   # skip what was indexed while paused")
    resume.add_argument("name")
    resume.add_argument("--from-now", action="store_true", help="skip what was indexed while the watch was paused")
    resume.set_defaults(handler=_resume)

    rm = add_command(wsub, "remove", help="delete a watch (its delivery records stay)",
                     description="Delete a watch. The records of what it delivered stay in the index.",
                     example="newswatch watch remove acme-mentions")
    rm.add_argument("name")
    rm.set_defaults(handler=_remove)

    test = add_command(wsub, "test", help="print what the watch would send for the last 24 hours; sends nothing",
                       description="Show the message the watch would send for what was indexed in the last "
                                   "hours. Sends nothing\nand changes nothing.",
                       example="newswatch watch test stoltenberg-nk\nnewswatch watch test stoltenberg-nk "
                               "--hours 168 --json")
    test.add_argument("name")
    test.add_argument("--hours", type=float, default=24.0, help="look back this many hours (default 24)")
    test.add_argument("--json", action="store_true", help="print the webhook's JSON body instead")
    test.set_defaults(handler=_test)


def _settings() -> Settings:
    from pipeline.config import load_settings

    return load_settings()


def _store(settings: Settings) -> Any:
    from pipeline.alerts.run import stores
    from pipeline.es import client_from_settings

    return stores(client_from_settings(settings), settings)


def _add(args: argparse.Namespace) -> int:
    from pipeline.alerts.deliver import parse_webhooks
    from pipeline.alerts.model import Target, Watch, WatchSearch
    from pipeline.alerts.run import add_watch

    settings = _settings()
    target = Target.parse(f"webhook:{args.webhook}" if args.webhook else "email:" + ",".join(args.email))
    search = WatchSearch(text=" ".join(args.query), entities=args.entity, speakers=args.speaker,
                         certainty=args.certainty, sites=args.site, claims=args.claims)
    watch = Watch.new(args.name, search, target, mode="digest" if args.digest else "immediate",
                      digest_hours=args.digest or 24, max_items=args.max_items, description=args.description)
    watch = add_watch(settings, watch, replace=args.replace)
    print(f"watch {watch.name}: {watch.search.describe()} -> {watch.target.spec()} "
          f"({_mode(watch)})")
    if target.channel == "webhook" and target.webhook not in parse_webhooks(settings.alert_webhooks):
        print(f"note: no webhook {target.webhook!r} in NEWSWATCH_ALERT_WEBHOOKS here; under Airflow, define the "
              f"Connection newswatch_webhook_{target.webhook}", file=sys.stderr)
    return 0


def _mode(w: Any) -> str:
    return f"digest every {w.digest_hours}h" if w.mode == "digest" else "immediate"


def _when(value: Any) -> str:
    return value.isoformat(timespec="seconds") if value else "-"


def _list(args: argparse.Namespace) -> int:
    settings = _settings()
    store, ledger = _store(settings)
    watches = store.all()
    counts = ledger.counts() if watches else {}
    if args.json:
        for w in watches:
            print(json.dumps({**w.model_dump(mode="json"), "counts": counts.get(w.watch_id, {})}))
        return 0
    if not watches:
        print("no watches (add one: newswatch watch add --help)")
        return 0
    for w in watches:
        c = counts.get(w.watch_id, {})
        status = f"PAUSED ({w.paused_reason})" if w.paused else "active"
        print(f"{w.name}  [{status}]  {_mode(w)} -> {w.target.spec()}")
        print(f"    search: {w.search.describe()}")
        print(f"    matches {c.get('matches', 0)} (pending {c.get('pending', 0)}), messages {c.get('deliveries', 0)}; "
              f"last match {_when(w.state.last_match_at)}, last delivery {_when(w.state.last_delivery_at)}"
              + (f"; failures {w.state.consecutive_failures}: {w.state.last_error}" if w.state.last_error else ""))
    return 0


def _show(args: argparse.Namespace) -> int:
    settings = _settings()
    store, ledger = _store(settings)
    w = store.get(args.name)
    matches = ledger.matches_of(w.watch_id, limit=10)
    deliveries = ledger.deliveries_of(w.watch_id, limit=10)
    if args.json:
        print(json.dumps({"watch": w.model_dump(mode="json"), "matches": [m.model_dump(mode="json") for m in matches],
                          "deliveries": [d.model_dump(mode="json") for d in deliveries]}, indent=2))
        return 0
    print(f"watch {w.name}" + (f"  PAUSED since {_when(w.paused_at)}: {w.paused_reason}" if w.paused else ""))
    if w.description:
        print(f"  {w.description}")
    print(f"  search:  {w.search.describe()}")
    print(f"  target:  {w.target.spec()}")
    print(f"  mode:    {_mode(w)}")
    s = w.state
    print(f"  state:   evaluated up to {_when(s.high_water_mark)}; last match {_when(s.last_match_at)}; "
          f"last delivery {_when(s.last_delivery_at)}")
    if s.last_error:
        print(f"  failing: {s.consecutive_failures} time(s) since {_when(s.failing_since)}: {s.last_error}")
    print("  recent deliveries:")
    for d in deliveries:
        print(f"    {_when(d.created_at)}  {d.state:<9} {d.match_count} match(es), {d.attempts} attempt(s)  "
              f"key {d.delivery_id}" + (f"  ({d.last_error})" if d.last_error and d.state != "delivered" else ""))
    if not deliveries:
        print("    none")
    print("  recent matches:")
    for m in matches:
        print(f"    {_when(m.matched_at)}  {m.state:<9} {m.item.title or '(untitled)'}  {m.item.url or ''}")
    if not matches:
        print("    none")
    return 0


def _pause(args: argparse.Namespace) -> int:
    store, _ = _store(_settings())
    w = store.pause(args.name, args.reason)
    print(f"watch {w.name} paused: {w.paused_reason}")
    return 0


def _resume(args: argparse.Namespace) -> int:
    store, _ = _store(_settings())
    w = store.resume(args.name, from_now=args.from_now)
    skipped = " (what was indexed while paused is skipped)" if args.from_now else ""
    print(f"watch {w.name} resumed{skipped}; undelivered messages go out with the next news_alerts run")
    return 0


def _remove(args: argparse.Namespace) -> int:
    store, _ = _store(_settings())
    store.remove(args.name)
    print(f"watch {args.name} removed")
    return 0


def _test(args: argparse.Namespace) -> int:
    from pipeline.alerts.run import preview

    settings = _settings()
    store, _ = _store(settings)
    watch = store.get(args.name)
    message, items = preview(settings, watch, hours=args.hours, es=store.es)
    if args.json:
        print(json.dumps(message.payload, indent=2, ensure_ascii=False))
        return 0
    if not items:
        print(f"watch {watch.name}: nothing indexed in the last {args.hours:g} hours matches; nothing would be sent")
        return 0
    print(f"watch {watch.name} would send to {watch.target.spec()} (nothing was sent):\n")
    print(f"Subject: {message.subject}\n")
    print(message.plain)
    return 0
