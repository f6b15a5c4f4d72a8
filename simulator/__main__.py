"""`python -m simulator --port N --site DIR [--synthetic N] [--hostile]`."""

from __future__ import annotations

import argparse
import sys

from simulator.server import Simulator
from simulator.site import SiteError


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m simulator", description="Serve a simulated news site.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument("--site", help="site directory containing site.yaml")
    p.add_argument("--synthetic", type=int, default=0, metavar="N", help="also serve N synthetic feeds")
    p.add_argument("--hostile", action="store_true", help="also serve the hostile fixtures")
    args = p.parse_args(argv)
    sys.setswitchinterval(0.0005)  # see simulator.process: keeps many handler threads responsive
    try:
        sim = Simulator(args.site, host=args.host, port=args.port)
    except SiteError as exc:
        print(f"simulator: {exc}", file=sys.stderr)
        return 2
    sim.record_requests = False
    base = sim.start()
    if args.synthetic:
        sim.add_synthetic_feeds(args.synthetic)
    if args.hostile:
        sim.add_hostile_fixtures()
    print(f"simulator serving {len(sim.feed_urls())} feeds at {base} (OPML: {base}/opml.xml)", flush=True)
    try:
        sim.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
