"""A news-site simulator: an HTTP server on 127.0.0.1 serving feeds and article pages, with
programmable hostile behaviour per path. Used by the intake tests, the Airflow end-to-end tests,
the demo and the benchmarks.

In-process (tests)::

    from simulator import Simulator

    sim = Simulator(site_dir=None)          # or a directory in the site format below; latency=0.02
                                            # adds a simulated 20 ms round trip to every response
    base_url = sim.start()                  # "http://127.0.0.1:<port>", served from a background thread
    sim.add_feed("world", title="World")    # -> feed URL  <base>/feeds/world.xml
    url = sim.add_article("world", title="Quake hits coast", body="First para.\\n\\nSecond para.")
    sim.set_behaviour("/feeds/world.xml", status=503, retry_after=30, times=2)
    sim.hits("/feeds/world.xml")            # how many requests that path received
    sim.stop()

    with Simulator() as sim: ...            # start/stop as a context manager

Out of process (no GIL shared with the code under test): ``simulator.process.SimulatorProcess``
takes the same arguments and proxies every method through a pipe.

Standalone: ``python -m simulator --port 8765 --site seeds/demo-site``
(``--synthetic 1000`` adds synthetic feeds; ``--hostile`` adds the hostile catalogue below).

Paths served
------------
- ``/feeds/<feed_id>.xml``  RSS 2.0 (or Atom when the feed's format is ``atom``), with a strong ETag
  (hash of the body) and Last-Modified; honours If-None-Match / If-Modified-Since with 304.
- ``/articles/<slug>.html`` article pages (from a file, or rendered from plain-text paragraphs).
- ``/robots.txt`` the site's robots text (``Simulator(robots=...)`` or ``robots:`` in site.yaml).
- ``/opml.xml`` an OPML list of every feed.
- ``/synthetic/<n>.xml`` synthetic feeds (see ``add_synthetic_feeds``).

Behaviour (``set_behaviour(path, **fields)``, see ``Behaviour``): ``status``, ``retry_after``,
``delay`` (seconds before the response), ``trickle`` (seconds between 1 KB body chunks),
``redirect_to`` + ``redirect_status``, ``lying_etag`` (constant ETag, conditionals ignored, 200
always), ``huge_bytes`` (a body that large), ``gzip_bomb_bytes`` (gzip-encoded zeros that inflate to
that size), ``body`` / ``content_type`` / ``headers`` overrides, ``charset_declared`` + ``charset_actual``
(wrong-charset pages), ``times`` (apply only to the next N requests, then behave normally).
``add_hostile_fixtures()`` installs ready-made hostile paths (see ``HOSTILE``): 304s, a lying ETag,
slow, 429, 5xx, redirect loop, huge body, gzip bomb, wrong charset, malformed XML, XML entity bomb,
robots-disallowed articles and items linking to 169.254.169.254 and 10.0.0.1.

Site directory format (``seeds/demo-site/`` follows it)
------------------------------------------------------
``<site>/site.yaml``::

    name: Demo News Network            # used as og:site_name of rendered articles
    robots: |                          # optional robots.txt body
      User-agent: *
      Disallow: /private/
    feeds:
      - id: world                      # served at /feeds/world.xml
        title: World News
        format: rss                    # rss (default) | atom
        language: en
        ttl: 15                        # optional <ttl> (minutes)
        items:                         # newest last or first, any order; sorted by `published`
          - slug: quake-hits-coast     # served at /articles/quake-hits-coast.html
            title: Quake hits coast
            published: 2026-11-20T08:00:00Z
            author: Jane Doe
            summary: A strong earthquake ...
            body: |                    # plain paragraphs separated by blank lines, rendered into
              First paragraph.         # an article template with title/author/date metadata ...
            # file: articles/quake.html  # ... or a complete HTML file, relative to the site dir
            # guid: custom-guid        # defaults to the article URL
    behaviours:                        # optional, path -> Behaviour fields
      /feeds/flaky.xml: {status: 503, times: 2}

Every item needs ``slug`` and ``title``, and either ``body`` or ``file``. Unknown keys are errors.
"""

from simulator.server import HOSTILE, Behaviour, Simulator
from simulator.site import SiteError, load_site

__all__ = ["HOSTILE", "Behaviour", "SiteError", "Simulator", "load_site"]
