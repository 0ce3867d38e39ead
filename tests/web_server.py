"""A small news site on 127.0.0.1 for the fetching tests: pages, redirects, robots.txt, errors.

    with serve_site() as site:          # site.base = "http://127.0.0.1:PORT"
        fetcher.fetch(site.base + "/world/mekong-rice")
    site.requests                       # the paths asked for, in order

Routes: /world/mekong-rice (tests/data/news_page.html), /latest (302 → the article),
/loop-a ⇄ /loop-b, /hop/N (→ /hop/N+1, forever), /big (Content-Length) and /big-stream
(no length) of 64 kB, /to-file (→ file://), /slow (answers after 2 s), /report.pdf, /private/... (disallowed by robots.txt), anything else 404.
"""

from __future__ import annotations

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


@dataclass
class Site:
    base: str
    requests: list[str] = field(default_factory=list)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.server.site.requests.append(self.path)  # type: ignore[attr-defined]
        path = self.path
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
        elif path == "/report.pdf":
            self.reply(200, b"%PDF-1.4\n", "application/pdf")
        else:
            self.reply(404, b"<h1>Not found</h1>", "text/html")

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
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
