"""The app's ASGI middleware, outermost first: the Host check, the rate limits, CORS, body sizes, and the
UI's security headers. Each answers in the API's error shape, ``{"error": {"type", "message"}}``.

    app.add_middleware(BodySizeLimit, limits={"/api/": (64_000, "MAX_REQUEST_BYTES", "Send less.")})
    app.add_middleware(RateLimit, security=security)          # every request but FREE ones, per address
    app.add_middleware(AllowedHosts, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(SecurityHeaders, frame_ancestors=security.allowed_origins)
    app.add_middleware(ClosedPaths)                           # Gradio's direct API: 404
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.trustedhost import TrustedHostMiddleware

from assistant.web.security import RateLimited, Security

log = logging.getLogger("assistant.web.security")

ASGIApp = Callable[[MutableMapping[str, Any], Callable[[], Awaitable[Any]], Callable[[Any], Awaitable[None]]],
                   Awaitable[None]]
Send = Callable[[Any], Awaitable[None]]

# The cheap requests, not counted against the per-address limit: static files, the UI's page and its
# event streams (their work was counted when it was asked for), health, the docs. An allow-list: a route
# added later, by us or by Gradio, is limited until it is named here.
FREE_PATHS = frozenset({
    "/", "/api/health", "/widget.js", "/widget/demo", "/docs", "/docs/oauth2-redirect", "/redoc",
    "/openapi.json", "/config", "/config/", "/favicon.ico", "/theme.css", "/robots.txt", "/manifest.json",
    "/gradio_api/queue/data",
})
FREE_PREFIXES = ("/assets/", "/static/", "/svelte/", "/pwa_icon", "/gradio_api/heartbeat/")
FREE_METHODS = ("GET", "HEAD")
PUBLISHER_PREFIX = "/api/documents/"
BEARER = re.compile(rb"^\s*Bearer +(\S+)\s*$", re.IGNORECASE)


def error_body(kind: str, message: str) -> bytes:
    return json.dumps({"error": {"type": kind, "message": message}}).encode()


async def send_error(send: Send, status: int, kind: str, message: str,
                     headers: list[tuple[bytes, bytes]] | None = None) -> None:
    body = error_body(kind, message)
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()), *(headers or [])]})
    await send({"type": "http.response.body", "body": body})


def is_free(method: str, path: str) -> bool:
    """Whether a request is one of the cheap ones the rate limit does not count."""
    return method == "OPTIONS" or (method in FREE_METHODS
                                   and (path in FREE_PATHS or path.startswith(FREE_PREFIXES)))


class AllowedHosts:
    """ASGI middleware: Starlette's TrustedHostMiddleware (ALLOWED_HOSTS), refusing another Host with a
    400 that says what to do, and a warning in the log once per host.

    Why: a page on another site whose name resolves to 127.0.0.1 (DNS rebinding) reaches a server bound
    to loopback as if it were the same origin; its requests carry that site's name as Host.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        self.app = app
        self.allowed_hosts = allowed_hosts
        self.check = TrustedHostMiddleware(self._allowed, allowed_hosts=allowed_hosts,  # type: ignore[arg-type]
                                           www_redirect=False)
        self.warned: set[str] = set()

    async def _allowed(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Send) -> None:
        scope["assistant.host_allowed"] = True
        await self.app(scope, receive, send)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Send) -> None:
        if scope["type"] != "http":
            await self.check(scope, receive, send)  # type: ignore[arg-type]
            return

        async def unless_refused(message: Any) -> None:  # the library's plain-text refusal is replaced
            if scope.get("assistant.host_allowed"):
                await send(message)

        await self.check(scope, receive, unless_refused)  # type: ignore[arg-type]
        if not scope.get("assistant.host_allowed"):
            host = Headers(scope=scope).get("host", "")
            if host not in self.warned and len(self.warned) < 100:
                self.warned.add(host)
                log.warning("refused a request for the host %r: not in ALLOWED_HOSTS (%s)", host,
                            ", ".join(self.allowed_hosts))
            await send_error(send, 400, "HostNotAllowed",
                             f"This server does not answer for the host {host!r}. If it should, add that "
                             "name to ALLOWED_HOSTS (or set PUBLIC_URL to the address readers use) on the "
                             "server.")


class SecurityHeaders:
    """ASGI middleware: the UI's Content-Security-Policy, whose ``frame-ancestors`` lets only this site
    and the SITES origins frame it, plus nosniff and a referrer policy. The API's JSON, the docs (which
    load Swagger UI's files) and the widget (its demo page has a stricter policy of its own) go without.
    """

    SKIPPED = ("/api/", "/v1/", "/docs", "/redoc", "/openapi.json", "/widget")

    def __init__(self, app: ASGIApp, frame_ancestors: list[str]) -> None:
        self.app = app
        ancestors = " ".join(["'self'", *frame_ancestors])
        # Gradio's page runs inline scripts and styles of its own, compiles gr.HTML's templates with
        # Function() ('unsafe-eval': without it the sources panel stays empty) and makes blob: workers;
        # everything else (scripts, fonts, images, event streams) comes from this origin
        policy = ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
                  "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
                  "media-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; "
                  f"object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors {ancestors}")
        self.headers = [(b"content-security-policy", policy.encode()),
                        (b"x-content-type-options", b"nosniff"),
                        (b"referrer-policy", b"strict-origin-when-cross-origin")]

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.SKIPPED):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(header for header in self.headers if header[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)


class ClosedPaths:
    """ASGI middleware: Gradio's direct API (``/gradio_api/run/``, ``/api/``, ``/call/``) answers 404.

    It reaches the UI's event functions (the answer, the admin's statistics) outside the queue the UI
    uses, where some of them fail with a 500 or a reset connection. Programs use the REST API instead.
    """

    PREFIXES = ("/gradio_api/run/", "/gradio_api/api/", "/gradio_api/call/")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.PREFIXES):
            await send_error(send, 404, "NotFound",
                             f"No endpoint {scope['path']}: the UI's functions are not an API. Programs ask "
                             "POST /api/chat or /v1/chat/completions; /docs lists the API.")
            return
        await self.app(scope, receive, send)


class RateLimit:
    """ASGI middleware: the limits, counted before the request is read or validated.

    Every request but the FREE ones counts against the per-address limit (RATE_LIMIT_PER_MINUTE), so a
    flood of invalid requests (422) is limited like valid ones, Gradio's routes like the API. A call to
    the publisher API with the admin token counts against the publisher's own limit instead
    (PUBLISHER_RATE_LIMIT_PER_MINUTE, per token): a CMS pushing its articles is no reader. Any other
    token there counts as a reader's request, and the admin check then counts it as a wrong token, per
    address. The client is the one uvicorn names (a trusted proxy's X-Forwarded-For, else the peer).
    """

    def __init__(self, app: ASGIApp, security: Security) -> None:
        self.app = app
        self.security = security

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Send) -> None:
        if scope["type"] == "http" and not is_free(scope.get("method", ""), scope["path"]):
            try:
                self.count(scope)
            except RateLimited as exc:
                await send_error(send, 429, "RateLimited", str(exc),
                                 [(b"retry-after", str(exc.retry_after).encode())])
                return
        await self.app(scope, receive, send)

    def count(self, scope: MutableMapping[str, Any]) -> None:
        if scope["path"].startswith(PUBLISHER_PREFIX):
            header = dict(scope.get("headers") or []).get(b"authorization", b"")
            match = BEARER.match(header)
            token = match.group(1).decode("latin-1") if match else None
            if self.security.is_admin_token(token):
                self.security.limit_publisher(token or "")
                return
        client = scope.get("client")
        self.security.limit_ip(client[0] if client else "unknown")


class BodySizeLimit:
    """ASGI middleware: bodies over the limit get 413 before the app sees them.

    ``limits`` maps path prefixes to byte limits (the longest matching prefix wins); other paths
    (the Gradio UI has its own upload limit) pass untouched. Chunked bodies are counted as they come.
    """

    def __init__(self, app: ASGIApp, limits: dict[str, tuple[int, str, str]]) -> None:
        self.app = app
        self.limits = sorted(limits.items(), key=lambda item: -len(item[0]))

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        rule = next((rule for prefix, rule in self.limits
                     if scope["type"] == "http" and scope["path"].startswith(prefix)), None)
        if rule is None:
            await self.app(scope, receive, send)
            return
        limit, setting, hint = rule
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(send, int(declared), limit, setting, hint)
            return
        messages, size = [], 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > limit:
                await self._refuse(send, size, limit, setting, hint)
                return
            if not message.get("more_body", False):
                break
        replay = iter(messages)

        async def replayed() -> Any:
            try:
                return next(replay)
            except StopIteration:
                return await receive()

        await self.app(scope, replayed, send)

    @staticmethod
    async def _refuse(send: Send, size: int, limit: int, setting: str, hint: str) -> None:
        await send_error(send, 413, "RequestTooLarge",
                         f"The request body ({size:,} bytes or more) is over the limit of {limit:,} bytes "
                         f"({setting}). {hint}")


class SiteCORS:
    """ASGI middleware: CORS for the configured origins only, except on ``open_paths``.

    The widget-session endpoint answers every origin (``*``, no credentials): it checks the Origin
    itself and refuses with a 403 that says why, which the widget can then read and show, instead of
    a bare CORS failure the reader sees as "cannot be reached". It hands out nothing to a refused page.
    """

    def __init__(self, app: ASGIApp, open_paths: tuple[str, ...], **options: Any) -> None:
        from starlette.middleware.cors import CORSMiddleware

        self.open_paths = open_paths
        self.strict = CORSMiddleware(app, **options)  # type: ignore[arg-type]
        self.open = CORSMiddleware(app, allow_origins=["*"], allow_credentials=False,  # type: ignore[arg-type]
                                   allow_methods=["POST"], allow_headers=["Content-Type"],
                                   expose_headers=options.get("expose_headers", ()), max_age=600)

    async def __call__(self, scope: MutableMapping[str, Any], receive: Callable[[], Awaitable[Any]],
                       send: Callable[[Any], Awaitable[None]]) -> None:
        chosen = self.open if scope["type"] == "http" and scope["path"] in self.open_paths else self.strict
        await chosen(scope, receive, send)  # type: ignore[arg-type]
