"""The simulator server: a threaded stdlib HTTP/1.1 server on 127.0.0.1 and its control API."""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from simulator import hostile
from simulator.render import item_link, render_article, render_atom, render_opml, render_rss
from simulator.site import FeedSpec, ItemSpec, load_site


@dataclass
class Behaviour:
    """How one path misbehaves. Unset fields mean 'behave normally'."""

    status: int | None = None
    retry_after: int | str | None = None
    delay: float = 0.0
    trickle: float = 0.0
    redirect_to: str | None = None
    redirect_status: int = 302
    lying_etag: bool = False
    huge_bytes: int = 0
    gzip_bomb_bytes: int = 0
    body: bytes | str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    charset_declared: str | None = None
    charset_actual: str | None = None
    times: int | None = None  # apply to the next N requests only


@dataclass
class _Rendered:
    version: int
    body: bytes
    etag: str
    last_modified: datetime


# name -> path of the ready-made hostile fixtures installed by add_hostile_fixtures().
HOSTILE: dict[str, str] = {
    "unchanged_feed": "/feeds/hostile-unchanged.xml",
    "lying_etag_feed": "/feeds/hostile-lying-etag.xml",
    "slow_feed": "/feeds/hostile-slow.xml",
    "rate_limited_feed": "/feeds/hostile-429.xml",
    "server_error_feed": "/feeds/hostile-503.xml",
    "redirect_loop_feed": "/feeds/hostile-loop.xml",
    "moved_feed": "/feeds/hostile-moved.xml",
    "huge_feed": "/feeds/hostile-huge.xml",
    "gzip_bomb_feed": "/feeds/hostile-gzip-bomb.xml",
    "malformed_feed": "/feeds/hostile-malformed.xml",
    "xml_bomb_feed": "/feeds/hostile-xml-bomb.xml",
    "ssrf_feed": "/feeds/hostile-ssrf.xml",
    "ok_article": "/articles/hostile-ok.html",
    "robots_disallowed_article": "/private/hostile-secret.html",
    "wrong_charset_article": "/articles/hostile-wrong-charset.html",
    "huge_article": "/articles/hostile-huge.html",
    "gzip_bomb_article": "/articles/hostile-gzip-bomb.html",
    "slow_article": "/articles/hostile-slow.html",
    "trickle_article": "/articles/hostile-trickle.html",
    "forbidden_article": "/articles/hostile-forbidden.html",
    "rate_limited_article": "/articles/hostile-429.html",
    "challenge_article": "/articles/hostile-challenge.html",
    "paywalled_article": "/articles/hostile-paywalled.html",
    "short_article": "/articles/hostile-short.html",
    "listing_page": "/articles/hostile-listing.html",
    "pdf_document": "/articles/hostile-report.pdf",
    "missing_article": "/articles/hostile-missing.html",
    "server_error_article": "/articles/hostile-500.html",
    "redirect_loop_article": "/articles/hostile-loop.html",
    "redirect_to_metadata_article": "/articles/hostile-to-metadata.html",
}
METADATA_URL = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"
PRIVATE_URL = "http://10.0.0.1/admin"
BOMB_BYTES = 128 * 1024 * 1024  # inflates 1000:1; the fetch cap must stop it early


class Simulator:
    """See the package docstring for the API and the site format."""

    def __init__(self, site_dir: str | Path | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 robots: str | None = None, name: str = "Simulated News", latency: float = 0.0) -> None:
        self.host = host
        self.latency = latency  # seconds added before every response (a simulated network round trip)
        self.port = port
        self.name = name
        self.robots = robots
        self._lock = threading.RLock()
        self._feeds: dict[str, FeedSpec] = {}
        self._articles: dict[str, tuple[ItemSpec, str]] = {}  # path -> (item, language)
        self._versions: Counter[str] = Counter()
        self._modified: dict[str, datetime] = {}
        self._cache: dict[str, _Rendered] = {}
        self._behaviours: dict[str, Behaviour] = {}
        self._raw: dict[str, tuple[bytes, str]] = {}  # path -> (body, content type)
        self._hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.record_requests = True
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if site_dir is not None:
            self._load_site(site_dir)

    # lifecycle ------------------------------------------------------------------------------
    def start(self) -> str:
        if self._server is not None:
            return self.base_url
        server = _QuietServer((self.host, self.port), _handler_for(self))
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"simulator:{self.port}", daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Simulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def serve_forever(self) -> None:
        self.start()
        try:
            while True:
                time.sleep(3600)
        finally:
            self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # content --------------------------------------------------------------------------------
    def _load_site(self, site_dir: str | Path) -> None:
        site = load_site(site_dir)
        self.name = site.name
        if site.robots is not None:
            self.robots = site.robots
        for feed in site.feeds:
            self._install_feed(feed)
        for path, spec in site.behaviours.items():
            self.set_behaviour(path, **spec)

    def _install_feed(self, feed: FeedSpec) -> None:
        with self._lock:
            self._feeds[feed.id] = feed
            for item in feed.items:
                self._articles[f"/articles/{item.slug}.html"] = (item, feed.language)
            self._touch(f"/feeds/{feed.id}.xml")

    def _touch(self, path: str) -> None:
        self._versions[path] += 1
        self._modified[path] = datetime.now(UTC).replace(microsecond=0)

    def add_feed(self, feed_id: str, title: str = "", *, format: str = "rss", language: str = "en",
                 ttl: int | None = None) -> str:
        """Create an empty feed (no-op if it exists); returns its URL."""
        with self._lock:
            if feed_id not in self._feeds:
                self._install_feed(FeedSpec(id=feed_id, title=title or feed_id, format=format,
                                            language=language, ttl=ttl))
        return self.feed_url(feed_id)

    def feed_url(self, feed_id: str) -> str:
        return self.url(f"/feeds/{feed_id}.xml")

    def feed_urls(self) -> list[str]:
        with self._lock:
            return [self.feed_url(f) for f in self._feeds]

    def add_article(self, feed_id: str, title: str, body: str | None = None, *, slug: str | None = None,
                    published: datetime | None = None, author: str | None = None,
                    summary: str | None = None, html: str | None = None, guid: str | None = None,
                    link: str | None = None) -> str:
        """Append an item to a feed (created if missing) and serve its page; returns the article URL.

        With neither `body` nor `html`, realistic filler paragraphs are generated.
        """
        with self._lock:
            self.add_feed(feed_id)
            feed = self._feeds[feed_id]
            slug = slug or f"{feed_id}-{len(feed.items) + 1}-{hashlib.sha1(title.encode()).hexdigest()[:6]}"
            if body is None and html is None and link is None:
                body = hostile.filler_paragraphs(slug)
            item = ItemSpec(slug=slug, title=title, body=body, html=html, author=author, summary=summary,
                            guid=guid, link=link, published=published or datetime.now(UTC))
            feed.items.append(item)
            if link is None:
                self._articles[f"/articles/{slug}.html"] = (item, feed.language)
            self._touch(f"/feeds/{feed_id}.xml")
            return item_link(self.base_url, item)

    def set_raw(self, path: str, body: bytes | str, content_type: str = "text/html; charset=utf-8") -> str:
        """Serve a fixed body at `path`; returns its URL."""
        with self._lock:
            self._raw[path] = (body.encode("utf-8") if isinstance(body, str) else body, content_type)
            self._touch(path)
        return self.url(path)

    def set_robots(self, text: str | None) -> None:
        self.robots = text

    def set_behaviour(self, path: str, behaviour: Behaviour | None = None, **changes: Any) -> None:
        known = {f.name for f in fields(Behaviour)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(f"unknown behaviour fields for {path}: {sorted(unknown)}")
        with self._lock:
            self._behaviours[path] = behaviour or Behaviour(**changes)

    def clear_behaviour(self, path: str) -> None:
        with self._lock:
            self._behaviours.pop(path, None)

    def hits(self, path: str) -> int:
        with self._lock:
            return self._hits[path]

    def reset_hits(self) -> None:
        with self._lock:
            self._hits.clear()
            self.requests.clear()

    # bulk -------------------------------------------------------------------------------------
    def add_synthetic_feeds(self, n: int, items_per_feed: int = 30, prefix: str = "syn") -> list[str]:
        """Add `n` feeds (ids `<prefix>-0000`...) of `items_per_feed` items each, sized like real news
        feeds (a few hundred characters of summary, an author and categories per item); returns URLs."""
        base = datetime(2026, 11, 1, tzinfo=UTC)
        urls = []
        with self._lock:
            for i in range(n):
                feed_id = f"{prefix}-{i:04d}"
                items = [ItemSpec(slug=f"{feed_id}-{j}", title=f"Synthetic story {j} of feed {i}",
                                  summary=hostile.filler_paragraphs(f"{feed_id}-{j}", paragraphs=1, sentences=4),
                                  author=f"Reporter {j % 7}", body=None,
                                  link=f"{self.base_url}/articles/{feed_id}-{j}.html",
                                  published=base + timedelta(minutes=j))
                         for j in range(items_per_feed)]
                self._install_feed(FeedSpec(id=feed_id, title=f"Synthetic feed {i}", items=items, ttl=None,
                                            description=f"Synthetic news feed number {i}"))
                urls.append(self.feed_url(feed_id))
        return urls

    def add_hostile_fixtures(self) -> dict[str, str]:
        """Install the hostile catalogue (HOSTILE) and robots.txt; returns name -> URL."""
        b = self.base_url
        with self._lock:
            if self.robots is None or "user-agent: *" not in self.robots.lower():
                self.robots = (self.robots or "") + "\nUser-agent: *\nDisallow: /private/\n"
            elif "Disallow: /private/" not in self.robots:
                lines = self.robots.splitlines()
                at = next((i for i, line in enumerate(lines) if line.strip().lower() == "user-agent: *"), None)
                if at is None:
                    lines += ["User-agent: *", "Disallow: /private/"]
                else:
                    lines.insert(at + 1, "Disallow: /private/")
                self.robots = "\n".join(lines) + "\n"
            for name in ("unchanged", "lying-etag", "slow", "429", "503", "moved-target"):
                fid = f"hostile-{name}"
                for j in range(3):
                    self.add_article(fid, f"{name} story {j}", slug=f"{fid}-{j}",
                                     published=datetime(2026, 11, 1, 12, j, tzinfo=UTC))
            self.set_behaviour(HOSTILE["lying_etag_feed"], lying_etag=True)
            self.set_behaviour(HOSTILE["slow_feed"], delay=3.0)
            self.set_behaviour(HOSTILE["rate_limited_feed"], status=429, retry_after=120)
            self.set_behaviour(HOSTILE["server_error_feed"], status=503)
            self.set_behaviour(HOSTILE["redirect_loop_feed"], redirect_to="/feeds/hostile-loop-b.xml")
            self.set_behaviour("/feeds/hostile-loop-b.xml", redirect_to=HOSTILE["redirect_loop_feed"])
            self.set_behaviour(HOSTILE["moved_feed"], redirect_to="/feeds/hostile-moved-target.xml",
                               redirect_status=301)
            self.set_behaviour(HOSTILE["huge_feed"], huge_bytes=64 * 1024 * 1024,
                               content_type="application/rss+xml")
            hostile.gzip_bomb(BOMB_BYTES)  # built now, so the first request is not slow
            self.set_behaviour(HOSTILE["gzip_bomb_feed"], gzip_bomb_bytes=BOMB_BYTES,
                               content_type="application/rss+xml")
            self.set_raw(HOSTILE["malformed_feed"], hostile.MALFORMED_RSS.format(base=b), "application/rss+xml")
            self.set_raw(HOSTILE["xml_bomb_feed"], hostile.XML_ENTITY_BOMB, "application/rss+xml")
            self.add_article("hostile-ssrf", "Metadata service", link=METADATA_URL)
            self.add_article("hostile-ssrf", "Private admin", link=PRIVATE_URL)
            self.add_article("hostile-ssrf", "Redirect to metadata", link=b + HOSTILE["redirect_to_metadata_article"])
            self.add_article("hostile-ssrf", "Fine story", slug="hostile-ssrf-fine")
            # articles
            text = hostile.filler_paragraphs("hostile-ok")
            self.add_article("hostile-articles", "Harbour expansion approved", text, slug="hostile-ok",
                             author="Jane Doe", published=datetime(2026, 11, 2, 9, tzinfo=UTC))
            secret = ItemSpec(slug="hostile-secret", title="Secret", body=hostile.filler_paragraphs("secret"))
            self.set_raw(HOSTILE["robots_disallowed_article"], render_article(secret, self.name, b))
            cafe = ItemSpec(slug="hostile-wrong-charset", title="Café society returns to the old town",
                            body=("Le café au coin de la rue a rouvert ses portes. Les habitués étaient ravis "
                                  "de retrouver leurs crêpes préférées et l'ambiance d'antan. ") * 8)
            self.set_raw(HOSTILE["wrong_charset_article"], render_article(cafe, self.name, b, "fr"))
            self.set_behaviour(HOSTILE["wrong_charset_article"], charset_declared="utf-8",
                               charset_actual="cp1252")
            for key, behaviour in {
                "huge_article": Behaviour(huge_bytes=64 * 1024 * 1024),
                "gzip_bomb_article": Behaviour(gzip_bomb_bytes=BOMB_BYTES),
                "slow_article": Behaviour(delay=3.0),
                "trickle_article": Behaviour(trickle=0.5),
                "forbidden_article": Behaviour(status=403),
                "rate_limited_article": Behaviour(status=429, retry_after=60),
                "challenge_article": Behaviour(status=503, body=hostile.CHALLENGE_PAGE,
                                               headers={"Server": "cloudflare", "cf-mitigated": "challenge"}),
                "server_error_article": Behaviour(status=500),
                "redirect_loop_article": Behaviour(redirect_to="/articles/hostile-loop-b.html"),
                "redirect_to_metadata_article": Behaviour(redirect_to=METADATA_URL),
            }.items():
                self.set_behaviour(HOSTILE[key], behaviour)
                if key in ("slow_article", "trickle_article"):
                    self.set_raw(HOSTILE[key], render_article(ItemSpec(slug=key, title="Slow news day",
                                                                       body=text), self.name, b))
            self.set_behaviour("/articles/hostile-loop-b.html", redirect_to=HOSTILE["redirect_loop_article"])
            self.set_raw(HOSTILE["paywalled_article"], hostile.PAYWALL_PAGE.format(
                teaser="Negotiators left the room on Monday without an agreement on the budget."))
            self.set_raw(HOSTILE["short_article"], render_article(
                ItemSpec(slug="short", title="Brief", body="Road closed today."), self.name, b))
            self.set_raw(HOSTILE["listing_page"], hostile.LISTING_PAGE.format(links=hostile.listing_links(b)))
            self.set_raw(HOSTILE["pdf_document"], b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "application/pdf")
        return {name: b + path for name, path in HOSTILE.items()}

    # serving ----------------------------------------------------------------------------------
    def _behaviour_for(self, path: str) -> Behaviour | None:
        with self._lock:
            b = self._behaviours.get(path)
            if b is None:
                return None
            if b.times is not None:
                if b.times <= 0:
                    return None
                b.times -= 1
            return b

    def _content(self, path: str) -> tuple[bytes, str, str, datetime] | None:
        """(body, content type, etag, last modified) for a path, rendered once per version."""
        with self._lock:
            if path in self._raw:
                body, ctype = self._raw[path]
                return body, ctype, _etag(body), self._modified[path]
            if path == "/robots.txt" and self.robots is not None:
                body = self.robots.encode("utf-8")
                return body, "text/plain; charset=utf-8", _etag(body), datetime(2026, 1, 1, tzinfo=UTC)
            if path == "/opml.xml":
                body = render_opml([(f.title or f.id, self.feed_url(f.id)) for f in self._feeds.values()],
                                   self.name).encode("utf-8")
                return body, "text/x-opml; charset=utf-8", _etag(body), datetime(2026, 1, 1, tzinfo=UTC)
            if path.startswith("/feeds/") and path.endswith(".xml"):
                feed = self._feeds.get(path[len("/feeds/"):-len(".xml")])
                if feed is None:
                    return None
                version = self._versions[path]
                cached = self._cache.get(path)
                if cached is None or cached.version != version:
                    render = render_atom if feed.format == "atom" else render_rss
                    body = render(feed, self.base_url).encode("utf-8")
                    cached = _Rendered(version, body, _etag(body), self._modified[path])
                    self._cache[path] = cached
                ctype = "application/atom+xml" if feed.format == "atom" else "application/rss+xml"
                return cached.body, ctype + "; charset=utf-8", cached.etag, cached.last_modified
            found = self._articles.get(path)
            if found is not None:
                item, language = found
                body = render_article(item, self.name, self.base_url, language).encode("utf-8")
                return body, "text/html; charset=utf-8", _etag(body), item.published.replace(microsecond=0)
            return None

    def _log(self, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self._hits[path] += 1
            if self.record_requests:
                self.requests.append((path, headers))


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def _handler_for(sim: Simulator) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        simulator = sim

    return Handler


class _Handler(BaseHTTPRequestHandler):
    simulator: Simulator
    protocol_version = "HTTP/1.1"
    server_version = "newswatch-simulator/1.0"
    # headers and body leave in one segment: no Nagle/delayed-ACK stalls between them
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        try:
            self._respond(head)
        except (BrokenPipeError, ConnectionResetError, TimeoutError):
            self.close_connection = True

    def _send(self, status: int, body: bytes, content_type: str, extra: dict[str, str] | None = None,
              head: bool = False, trickle: float = 0.0) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if head:
            return
        if trickle:
            for i in range(0, len(body), 1024):
                self.wfile.write(body[i:i + 1024])
                self.wfile.flush()
                time.sleep(trickle)
        else:
            self.wfile.write(body)

    def _respond(self, head: bool) -> None:
        sim = self.simulator
        path = urlsplit(self.path).path
        sim._log(path, {k.lower(): v for k, v in self.headers.items()})
        b = sim._behaviour_for(path) or Behaviour()
        if b.delay or sim.latency:
            time.sleep(b.delay + sim.latency)
        extra = dict(b.headers)
        if b.retry_after is not None:
            extra["Retry-After"] = str(b.retry_after)
        if b.redirect_to:
            target = b.redirect_to if "://" in b.redirect_to else sim.url(b.redirect_to)
            self._send(b.redirect_status, b"", "text/plain", {**extra, "Location": target}, head)
            return
        if b.gzip_bomb_bytes:
            bomb = hostile.gzip_bomb(b.gzip_bomb_bytes)
            self._send(200, bomb, b.content_type or "text/html; charset=utf-8",
                       {**extra, "Content-Encoding": "gzip"}, head)
            return
        if b.huge_bytes:
            self._send_huge(b.huge_bytes, b.content_type or "text/html; charset=utf-8", extra, head)
            return
        if b.status is not None and b.body is None:
            msg = f"simulated {b.status}".encode()
            self._send(b.status, msg, "text/plain; charset=utf-8", extra, head)
            return
        if b.body is not None:
            body = b.body.encode("utf-8") if isinstance(b.body, str) else b.body
            self._send(b.status or 200, body, b.content_type or "text/html; charset=utf-8", extra, head,
                       b.trickle)
            return
        content = sim._content(path)
        if content is None:
            self._send(404, b"not found", "text/plain; charset=utf-8", extra, head)
            return
        body, ctype, etag, last_modified = content
        if b.content_type:
            ctype = b.content_type
        if b.charset_actual:
            body = body.decode("utf-8").encode(b.charset_actual, errors="replace")
            ctype = ctype.split(";")[0] + (f"; charset={b.charset_declared}" if b.charset_declared else "")
        if b.lying_etag:
            etag = '"v1"'
        else:
            if _not_modified(self.headers, etag, last_modified):
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                return
        extra.update({"ETag": etag, "Last-Modified": format_datetime(last_modified, usegmt=True)})
        self._send(200, body, ctype, extra, head, b.trickle)

    def _send_huge(self, size: int, content_type: str, extra: dict[str, str], head: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(size))
        for k, v in extra.items():
            self.send_header(k, v)
        self.end_headers()
        if head:
            return
        chunk = (b"<p>" + b"lorem ipsum dolor sit amet " * 40 + b"</p>\n") * 64
        sent = 0
        while sent < size:
            piece = chunk[: size - sent]
            self.wfile.write(piece)
            sent += len(piece)
        self.close_connection = True


def _not_modified(headers: Any, etag: str, last_modified: datetime) -> bool:
    inm = headers.get("If-None-Match")
    if inm is not None:
        tags = {t.strip().removeprefix("W/") for t in inm.split(",")}
        return etag in tags or "*" in tags
    ims = headers.get("If-Modified-Since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified <= since
    return False
