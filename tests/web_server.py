"""A small news site on 127.0.0.1 for the fetching tests: pages, redirects, robots.txt, errors.

    with serve_site() as site:          # site.base = "http://127.0.0.1:PORT"
        fetcher.fetch(site.base + "/world/mekong-rice")
    site.requests                       # the paths asked for, in order

Routes: /world/mekong-rice (tests/data/news_page.html), /latest (302 → the article),
/loop-a ⇄ /loop-b, /hop/N (→ /hop/N+1, forever), /big (Content-Length) and /big-stream
(no length) of 64 kB, /to-file (→ file://), /slow (answers after 2 s), /report.pdf, /private/... (disallowed by robots.txt),
/trickle (the article, one byte every TRICKLE_SECONDS after its headers: ~20 s in all) and
/trickle-headers (its status line and headers that way too), /front (a front page that declares the RSS
and Atom feeds in its head), anything else 404.
Feeds (tests/data/feeds/*.xml, SITE replaced by the site's address): /feeds/rss.xml, /feeds/atom.xml,
/feeds/news-sitemap.xml, /feeds/sitemap-index.xml (→ news-sitemap.xml, sitemap-more.xml),
/feeds/malformed.xml, each with an ETag and a
Last-Modified (304 when a request's If-None-Match matches); /feeds/slow.xml answers after
SLOW_SECONDS; /feeds/all.xml lists every article page, /news/<slug> (NEWS), each served after
``site.page_delay`` (``site.max_in_flight``: most served at once), with an ETag of its bytes (304 when
If-None-Match matches), saying ``site.edits[slug]`` instead of its text when set, ``site.layout``
added around it. ``site.conditions`` records each feed and page request's (path, If-None-Match,
If-Modified-Since).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ARTICLE = (Path(__file__).parent / "data" / "news_page.html").read_bytes()
ROBOTS = b"User-agent: *\nDisallow: /private/\n"
BIG = b"<html><body><p>" + b"x" * 64_000 + b"</p></body></html>"
FEEDS = Path(__file__).parent / "data" / "feeds"
FEED_TYPES = {"rss.xml": "application/rss+xml", "atom.xml": "application/atom+xml"}
LAST_MODIFIED = "Tue, 01 Dec 2026 10:00:00 GMT"
SLOW_SECONDS = 1.5
TRICKLE_SECONDS = 0.05  # a byte this often: no read ever times out, yet the whole takes long
TRICKLED = b"<html><body><article><h1>Slow news</h1><p>" + b"s" * 300 + b"</p></article></body></html>"
FRONT_PAGE = (b'<!doctype html><html><head><title>Delta Daily</title>'
              b'<link rel="alternate" type="application/rss+xml" title="News" href="/feeds/rss.xml">'
              b'<link rel="alternate" type="application/atom+xml" href="/feeds/atom.xml">'
              b"</head><body><h1>Delta Daily</h1><p>Today's news.</p></body></html>")
NEWS = {
    "rice-exports": ("Rice exports reach a record",
                     "Vietnam shipped more rice this year than in any year before, the trade ministry said. "
                     "Farmers in the Mekong delta sold three harvests at high prices."),
    "hanoi-metro": ("Hanoi opens a second metro line",
                    "The second metro line of Hanoi opened on Monday with twelve stations. "
                    "The city expects forty thousand passengers a day in its first year."),
    "dutch-dikes": ("Dutch engineers raise the dikes",
                    "Engineers in the Netherlands began raising the river dikes near Nijmegen. "
                    "The work protects two hundred thousand people from floods until the end of the century."),
    "mekong-bridge": ("A new bridge over the Mekong",
                      "A cable-stayed bridge linking Can Tho and Vinh Long opened to traffic. "
                      "It shortens the trip between the two provinces by an hour for trucks carrying fruit."),
}


def news_page(slug: str, text: str | None = None) -> bytes:
    title, text = NEWS[slug][0], text or NEWS[slug][1]
    paragraphs = "".join(f"<p>{sentence}.</p>" for sentence in text.rstrip(".").split(". "))
    filler = ("<p>Officials said more details would follow in the coming weeks, and that the public "
              "would be consulted on every further step of the plan before any decision is taken.</p>")
    return (f"<!doctype html><html lang=\"en\"><head><title>{title}</title></head><body>"
            f"<article><h1>{title}</h1>{paragraphs}{filler}</article></body></html>").encode()


@dataclass
class Site:
    base: str
    requests: list[str] = field(default_factory=list)
    conditions: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    page_delay: float = 0.0  # seconds each /news/ page takes, to see how many are fetched at once
    edits: dict[str, str] = field(default_factory=dict)  # slug → the text its /news/ page says instead
    layout: str = ""  # markup around every /news/ article that changes without the article changing
    in_flight: int = 0
    max_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.site.requests.append(self.path)  # type: ignore[attr-defined]
        path = self.path.partition("?")[0]
        if path == "/robots.txt":
            self.reply(200, ROBOTS, "text/plain")
        elif path in ("/world/mekong-rice", "/private/story"):
            self.reply(200, ARTICLE, "text/html; charset=utf-8")
        elif path == "/latest":
            self.redirect("/world/mekong-rice")
        elif path in ("/loop-a", "/loop-b"):
            self.redirect("/loop-b" if path == "/loop-a" else "/loop-a")
        elif path.startswith("/hop/"):
            self.redirect(f"/hop/{int(path.rsplit('/', 1)[1]) + 1}")
        elif path == "/big":
            self.reply(200, BIG, "text/html")
        elif path == "/big-stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()  # no Content-Length: HTTP/1.0, the body ends when the connection closes
            for start in range(0, len(BIG), 4096):
                self.wfile.write(BIG[start:start + 4096])
        elif path == "/to-file":
            self.redirect("file:///etc/passwd")
        elif path == "/slow":
            time.sleep(2)
            self.reply(200, ARTICLE, "text/html")
        elif path in ("/trickle", "/trickle-headers", "/feeds/trickle.xml"):
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                    b"Content-Length: " + str(len(TRICKLED)).encode() + b"\r\n\r\n")
            if path != "/trickle-headers":
                self.wfile.write(head)
                head = b""
            self.close_connection = True
            try:
                for byte in head + TRICKLED:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(TRICKLE_SECONDS)
            except OSError:  # the client gave up and closed the connection
                pass
        elif path == "/front":
            self.reply(200, FRONT_PAGE, "text/html; charset=utf-8")
        elif path == "/report.pdf":
            self.reply(200, b"%PDF-1.4\n", "application/pdf")
        elif path.startswith("/news/") and path[6:] in NEWS:
            site = self.server.site  # type: ignore[attr-defined]
            with site.lock:
                site.in_flight += 1
                site.max_in_flight = max(site.max_in_flight, site.in_flight)
            time.sleep(site.page_delay)
            with site.lock:
                site.in_flight -= 1
            slug = path[6:]
            body = news_page(slug, site.edits.get(slug)).replace(b"</body>", site.layout.encode() + b"</body>")
            etag = f'"{hashlib.sha256(body).hexdigest()[:16]}"'
            site.conditions.append((self.path, self.headers.get("If-None-Match"), None))
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.end_headers()
                return
            self.reply(200, body, "text/html; charset=utf-8", {"ETag": etag})
        elif path == "/feeds/slow.xml":
            time.sleep(SLOW_SECONDS)
            self.reply(200, (FEEDS / "rss.xml").read_bytes(), "application/rss+xml")
        elif path.startswith("/feeds/") and (FEEDS / path[7:]).is_file():
            self.feed(path[7:])
        else:
            self.reply(404, b"<h1>Not found</h1>", "text/html")

    def feed(self, name: str) -> None:
        site = self.server.site  # type: ignore[attr-defined]
        etag = f'"{name}-v1"'
        asked = self.headers.get("If-None-Match")
        site.conditions.append((self.path, asked, self.headers.get("If-Modified-Since")))
        if asked == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        body = (FEEDS / name).read_bytes().replace(b"SITE", site.base.encode())
        self.reply(200, body, FEED_TYPES.get(name, "application/xml"),
                   {"ETag": etag, "Last-Modified": LAST_MODIFIED})

    def reply(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve_site() -> Iterator[Site]:
    """Serve the site on a free port of 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    site = server.site = Site(f"http://127.0.0.1:{server.server_address[1]}")  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
