"""Fetch one web page, politely and safely: the only code that goes to the web for a page.

    with Fetcher(settings.fetch) as fetcher:
        page = fetcher.fetch("https://news.example.com/story")
        feed = fetcher.fetch_feed("https://news.example.com/rss", etag=old.etag)  # feed.not_modified
    page.url, page.content

Every hop, the first and each redirect, is checked before any connection is made: http(s) only,
the host resolved and refused when any of its addresses is private, loopback, link-local,
multicast, reserved or unspecified (unless FETCH_ALLOW_PRIVATE=true, or it is in one of
FETCH_ALLOW_NETWORKS), and robots.txt asked for
permission. The connection then goes to the address that was checked (the Host header and TLS
name stay the host's), so a second DNS answer cannot point the request somewhere else.
Redirects are followed by hand up to FETCH_MAX_REDIRECTS; bodies are streamed and cut off at
FETCH_MAX_BYTES; connect and read timeouts are settings; proxies from the environment are ignored.

One fetch (robots.txt, every redirect, the body) ends within FETCH_TOTAL_TIMEOUT whatever the server
does: a server that sends a byte a second never lets a read time out, so each request's socket is
shut down by a watchdog at the deadline, and each connection serves one request (a reused one would
not be seen by the watchdog). Addresses in errors are redacted (``assistant.redaction``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from types import TracebackType
from urllib.robotparser import RobotFileParser

import httpx

from assistant.config import FetchSettings
from assistant.errors import SourceError
from assistant.redaction import redact_logs, redact_text, redact_url

HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
              "text/xml", "application/x-rss+xml")
ROBOTS_MAX_BYTES = 512_000
REDIRECT_STATUSES = {301, 302, 303, 307, 308}


@dataclass(frozen=True)
class Page:
    """A fetched page: the URL it was finally served from, its bytes and content type, and the
    validators for the next conditional GET. ``not_modified``: the server answered 304 (no body)."""

    url: str
    content: bytes
    content_type: str
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


@dataclass(frozen=True)
class _Reply:
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes


class Fetcher:
    """An HTTP client with the fetching rules above; one per batch of pages (robots.txt is cached)."""

    def __init__(self, settings: FetchSettings, transport: httpx.BaseTransport | None = None) -> None:
        self.settings = settings
        redact_logs("httpx")  # it logs each URL requested, a feed's key or password included
        self.client = httpx.Client(
            timeout=httpx.Timeout(settings.fetch_read_timeout, connect=settings.fetch_connect_timeout),
            # no keep-alive: the watchdog must hold the socket of the request it guards
            limits=httpx.Limits(max_connections=settings.fetch_concurrency, max_keepalive_connections=0),
            headers={"User-Agent": settings.fetch_user_agent},
            follow_redirects=False,
            trust_env=False,
            transport=transport,
        )
        self._robots: dict[str, RobotFileParser] = {}
        self._networks = settings.allowed_networks

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def fetch(self, url: str, *, feeds: bool = False, etag: str | None = None,
              last_modified: str | None = None) -> Page:
        """GET an HTML page (or, with ``feeds``, a feed or sitemap too: see ``Page.content_type``);
        every failure is a SourceError that names the URL and what to do. With the validators of an
        earlier fetch the GET is conditional: a 304 is a Page with ``not_modified`` set."""
        conditions = {"If-None-Match": etag or "", "If-Modified-Since": last_modified or ""}
        return self._fetch(url, HTML_TYPES + FEED_TYPES if feeds else HTML_TYPES,
                           "is not an HTML page ({}); download it and ingest the file instead",
                           {k: v for k, v in conditions.items() if v})

    def fetch_feed_or_page(self, url: str) -> Page:
        """GET what an operator gave as a feed's address: a feed or sitemap, or a web page (whose feed
        links ``feeds.feed_links`` reads); anything else is a SourceError that says what to give."""
        return self._fetch(url, FEED_TYPES + HTML_TYPES, "is not a feed, a sitemap or a web page ({}); give "
                           "the address of the site's RSS/Atom feed or sitemap")

    def fetch_feed(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Page:
        """GET an RSS/Atom feed or a sitemap, conditionally when validators of an earlier fetch are given:
        a 304 comes back as a Page with ``not_modified`` set and no content."""
        conditions = {"If-None-Match": etag or "", "If-Modified-Since": last_modified or ""}
        return self._fetch(url, FEED_TYPES, "is not a feed or sitemap ({}); give the address of the site's "
                           "RSS/Atom feed or sitemap", {k: v for k, v in conditions.items() if v})

    def _fetch(self, url: str, accept: tuple[str, ...], wrong_type: str,
               conditions: dict[str, str] | None = None) -> Page:
        current = url
        seen: set[str] = set()
        deadline = Deadline(url, self.settings.fetch_total_timeout)
        for _ in range(self.settings.fetch_max_redirects + 1):
            seen.add(current)
            self._checked_address(httpx.URL(current), url)  # refused before any request, robots.txt too
            self._check_robots(current, url, deadline)
            response = self._get(current, self.settings.fetch_max_bytes, origin=url, deadline=deadline,
                                 extra=conditions)
            location = response.headers.get("location")
            if response.status in REDIRECT_STATUSES and location:
                following = str(httpx.URL(current).join(location))
                if following in seen:
                    raise source_error(url, f"redirects in a loop ({current} → {following}); "
                                            "open it in a browser to see where it should go")
                current = following
                continue
            validators = {"etag": response.headers.get("etag"),
                          "last_modified": response.headers.get("last-modified")}
            if response.status == 304 and conditions:
                return Page(url=current, content=b"", content_type="", not_modified=True, **validators)
            if response.status >= 400 or response.status == 304:
                raise source_error(url, f"returned HTTP {response.status} {response.reason}"
                                        "; check the address")
            content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type and content_type not in accept:
                if accept is HTML_TYPES and content_type in FEED_TYPES:
                    raise source_error(url, f"is a feed or sitemap ({content_type}), not an article page; "
                                            f"follow it with `assistant feeds add {url}` and "
                                            "`assistant sync`")
                raise source_error(url, wrong_type.format(content_type))
            return Page(url=current, content=response.body, content_type=content_type, **validators)
        raise source_error(url, f"redirects more than {self.settings.fetch_max_redirects} times; "
                                "raise FETCH_MAX_REDIRECTS to follow more")

    def _get(self, url: str, max_bytes: int, origin: str, deadline: Deadline,
             extra: dict[str, str] | None = None) -> _Reply:
        """One GET to the checked address of ``url``, without following redirects, ended at ``deadline``."""
        target = httpx.URL(url)
        address = self._checked_address(target, origin)
        left = deadline.left()
        watchdog = Watchdog(left)
        extensions: dict[str, object] = {"trace": watchdog.trace}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        headers = {"Host": target.netloc.decode("ascii"), **(extra or {})}
        timeout = httpx.Timeout(min(self.settings.fetch_read_timeout, left),
                                connect=min(self.settings.fetch_connect_timeout, left))
        request = self.client.build_request("GET", target.copy_with(host=address), headers=headers,
                                            extensions=extensions, timeout=timeout)
        try:
            with watchdog:
                response = self.client.send(request, stream=True)
                try:
                    declared = response.headers.get("content-length", "")
                    if declared.isdigit() and int(declared) > max_bytes:
                        raise _too_large(origin, max_bytes)
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > max_bytes:
                            raise _too_large(origin, max_bytes)
                        deadline.check()
                finally:
                    response.close()
        except httpx.HTTPError as exc:
            deadline.check(margin=0.2)  # the watchdog, or a timeout cut short by the deadline, ended it
            if isinstance(exc, httpx.TimeoutException):
                raise source_error(origin, f"did not answer in time ({exc.__class__.__name__} at {url}); "
                                           "try again later or raise FETCH_READ_TIMEOUT") from exc
            raise source_error(origin, f"cannot be fetched ({exc.__class__.__name__}: {exc}); "
                                       "check the address and your connection") from exc
        deadline.check()
        return _Reply(response.status_code, response.reason_phrase, response.headers, bytes(body))

    def _checked_address(self, target: httpx.URL, origin: str) -> str:
        """The address to connect to, after refusing non-http(s) URLs and forbidden networks."""
        if target.scheme not in ("http", "https") or not target.host:
            raise source_error(origin, f"is not an http(s) URL ({target}); give a web address or a file")
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            found = socket.getaddrinfo(target.host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise source_error(origin, f"has a host that does not resolve ({target.host}); "
                                       "check the address") from exc
        addresses = [str(info[4][0]) for info in found]
        for address in addresses:
            if not self.settings.fetch_allow_private and is_forbidden(address) and not self._allowed(address):
                what = (f"{target.host} is a private address" if target.host.strip("[]") == address
                        else f"{target.host} resolves to a private address ({address})")
                raise source_error(origin, f"{what}; set FETCH_ALLOW_PRIVATE=true, or name its network in "
                                           "FETCH_ALLOW_NETWORKS, to allow it")
        return addresses[0]

    def _allowed(self, address: str) -> bool:
        """In one of FETCH_ALLOW_NETWORKS: a private network the operator named as safe to fetch."""
        ip = ipaddress.ip_address(address.split("%")[0])
        return any(ip in network for network in self._networks)

    def _check_robots(self, url: str, asked: str, deadline: Deadline) -> None:
        target = httpx.URL(url)
        origin = f"{target.scheme}://{target.netloc.decode('ascii')}"
        rules = self._robots.get(origin)
        if rules is None:
            rules = self._robots[origin] = self._read_robots(origin, asked, deadline)
        if not rules.can_fetch(self.settings.fetch_user_agent, url):
            raise source_error(asked, f"is disallowed by {origin}/robots.txt for our user agent; "
                                      "the site asks not to be fetched, so it is not")

    def _read_robots(self, origin: str, asked: str, deadline: Deadline) -> RobotFileParser:
        """robots.txt as RFC 9309 reads it: missing (4xx) allows all, a server error (5xx) allows none."""
        rules = RobotFileParser(origin + "/robots.txt")
        robots_url = origin + "/robots.txt"
        for _ in range(self.settings.fetch_max_redirects + 1):
            response = self._get(robots_url, ROBOTS_MAX_BYTES, origin=asked, deadline=deadline)
            location = response.headers.get("location")
            if response.status in REDIRECT_STATUSES and location:
                robots_url = str(httpx.URL(robots_url).join(location))
                continue
            break
        if response.status >= 500:
            rules.disallow_all = True
        elif response.status >= 300:  # missing, or redirected too often: no rules
            rules.allow_all = True
        else:
            rules.parse(response.body.decode("utf-8", errors="replace").splitlines())
        return rules


def is_forbidden(address: str) -> bool:
    """True for addresses a fetch must not reach by default (SSRF): anything not globally routable."""
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified or not ip.is_global)


def _too_large(url: str, max_bytes: int) -> SourceError:
    return source_error(url, f"is larger than {max_bytes:,} bytes; raise FETCH_MAX_BYTES to allow it")


def source_error(url: str, reason: str) -> SourceError:
    """A SourceError about ``url`` with the address and any address in the reason redacted."""
    return SourceError(redact_url(url), redact_text(reason))


class Deadline:
    """When one fetch must end: FETCH_TOTAL_TIMEOUT after it starts, redirects and robots.txt included."""

    def __init__(self, url: str, seconds: float) -> None:
        self.url, self.seconds = url, seconds
        self.at = time.monotonic() + seconds

    def left(self) -> float:
        """Seconds left; a SourceError that names the address and the limit when none are."""
        self.check()
        return self.at - time.monotonic()

    def check(self, margin: float = 0.0) -> None:
        if time.monotonic() >= self.at - margin:
            raise source_error(self.url, f"took longer than {self.seconds:g} s to fetch "
                                         "(FETCH_TOTAL_TIMEOUT): the server sends too slowly. Try again "
                                         "later, or raise FETCH_TOTAL_TIMEOUT for it")


class Watchdog:
    """Shuts the request's socket down when its time is up, which ends any read under way.

    httpcore names each new connection's stream in the request's ``trace`` extension; a read blocked
    on a socket that is shut down returns at once, and the fetch then reports the deadline.
    """

    def __init__(self, seconds: float) -> None:
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True
        self._lock = threading.Lock()
        self._stream: object | None = None
        self._expired = False

    def trace(self, event: str, info: dict[str, object]) -> None:
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            with self._lock:
                self._stream = info.get("return_value")  # after TLS, the TLS stream: its socket is read
                if self._expired:
                    self._shut()

    def _expire(self) -> None:
        with self._lock:
            self._expired = True
            self._shut()

    def _shut(self) -> None:
        get_extra_info = getattr(self._stream, "get_extra_info", None)
        sock = get_extra_info("socket") if get_extra_info is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._timer.cancel()
