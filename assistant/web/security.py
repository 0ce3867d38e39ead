"""Who may call the web service: site origins, signed widget sessions, rate limits, body and admin checks.

    security = Security.from_settings(settings.security)
    token = security.issue_session("demo", "https://news.example.com")   # for the widget
    claims = security.verify_session(token, origin)                     # on every widget call
    security.limit_ip("203.0.113.7"); security.limit_site("demo")         # raise RateLimited
    security.limit_publisher(token)                                    # per token (the CMS)
    security.check_admin(bearer_token(header), client_ip)                # raise AdminRequired

Rate limits count before a request is read (``assistant.web.middleware.RateLimit``), so invalid
requests count too; wrong admin tokens have a window of their own per address, so no one can try tokens
faster than that; the publisher API's calls with the right token have theirs, per token.

Secure by default: with no SITES configured no origin is allowed, CORS lists only configured
origins, tokens live 15 minutes and are bound to the site key and the origin they were issued to.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import math
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from limits import RateLimitItemPerMinute
from limits.errors import ConfigurationError, StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from assistant.config import SecuritySettings
from assistant.errors import AssistantError, ConfigError

log = logging.getLogger(__name__)

SESSION_TTL_SECONDS = 15 * 60
SESSION_SALT = "assistant.widget-session.v1"
ADMIN_FAILURES_PER_MINUTE = 5
BEARER = re.compile(r"^Bearer +(\S+)$", re.IGNORECASE)


class AccessDenied(AssistantError):
    """The caller (origin, site key, token) is not allowed to do this (HTTP 403)."""


class SessionInvalid(AssistantError):
    """The widget session token is missing, expired or forged (HTTP 401)."""


class AdminRequired(AssistantError):
    """An admin endpoint was called without the right admin token (HTTP 401, or 403 when disabled)."""

    def __init__(self, message: str, disabled: bool = False) -> None:
        super().__init__(message)
        self.disabled = disabled


class RateLimited(AssistantError):
    """Too many requests from one IP address or one site (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RequestTooLarge(AssistantError):
    """The request body is over the configured limit (HTTP 413)."""


@dataclass(frozen=True)
class SessionClaims:
    site_key: str
    origin: str
    session_id: str


def normalize_origin(origin: str | None) -> str:
    return (origin or "").strip().rstrip("/").lower()


class Security:
    """The access rules of one running app (per-process state: the rate-limit windows)."""

    def __init__(self, settings: SecuritySettings, sites: dict[str, list[str]], secret: str) -> None:
        self.settings = settings
        self.sites = {key: [normalize_origin(o) for o in origins] for key, origins in sites.items()}
        self._serializer = URLSafeTimedSerializer(secret, salt=SESSION_SALT)
        self._limiter = MovingWindowRateLimiter(rate_limit_storage(settings.rate_limit_storage))
        self._ip_limit = RateLimitItemPerMinute(settings.rate_limit_per_minute)
        self._site_limit = RateLimitItemPerMinute(settings.site_rate_limit_per_minute)
        self._admin_failures = RateLimitItemPerMinute(ADMIN_FAILURES_PER_MINUTE)
        self._publisher_limit = RateLimitItemPerMinute(settings.publisher_rate_limit_per_minute)

    @classmethod
    def from_settings(cls, settings: SecuritySettings) -> Security:
        """Parse SITES (a ConfigError names a bad entry) and pick the session secret."""
        sites = settings.site_origins()
        if settings.session_secret is not None:
            secret = settings.session_secret.get_secret_value()
        else:
            secret = secrets.token_urlsafe(32)
            if sites:
                log.warning("SESSION_SECRET is not set: using a random secret for this process; widget "
                            "sessions will not survive a restart or work across several server processes.")
        if not sites:
            log.info("No SITES configured: the widget is refused on every origin.")
        return cls(settings, sites, secret)

    # --- origins ---------------------------------------------------------------------------
    @property
    def allowed_origins(self) -> list[str]:
        """Every configured origin (the CORS allow-list); empty when no site is configured."""
        return sorted({origin for origins in self.sites.values() for origin in origins})

    def site_allows(self, site_key: str, origin: str | None) -> bool:
        return normalize_origin(origin) in self.sites.get(site_key, [])

    def site_for_origin(self, origin: str) -> str | None:
        """The first site (by key) that allows ``origin``, e.g. for the demo page."""
        wanted = normalize_origin(origin)
        return next((key for key in sorted(self.sites) if wanted in self.sites[key]), None)

    # --- widget sessions -------------------------------------------------------------------
    def issue_session(self, site_key: str, origin: str | None) -> str:
        """A signed token for ``site_key`` on ``origin``; AccessDenied unless the site allows it."""
        if not origin:
            raise AccessDenied(
                "Widget sessions are issued to web pages only: the request has no Origin header.")
        if site_key not in self.sites:
            log.warning("widget refused: unknown site key %r (page origin %r); to allow it, add "
                        "%r to SITES", site_key, origin, f"{site_key}={normalize_origin(origin)}")
            raise AccessDenied(f"Unknown site key {site_key!r}; check data-site-key against SITES.")
        if not self.site_allows(site_key, origin):
            entry = f"{site_key}={'|'.join([*self.sites[site_key], normalize_origin(origin)])}"
            log.warning("widget refused: the origin %r is not allowed for site %r; to allow it, make "
                        "that site's SITES entry %r", origin, site_key, entry)
            raise AccessDenied(f"The origin {origin} is not allowed for site {site_key!r}; "
                               "add it to that site in SITES.")
        claims = {"site": site_key, "origin": normalize_origin(origin), "sid": secrets.token_urlsafe(9)}
        return str(self._serializer.dumps(claims))

    def verify_session(self, token: str, origin: str | None) -> SessionClaims:
        """The claims of a valid token used from the origin it was issued to."""
        try:
            claims = self._serializer.loads(token, max_age=SESSION_TTL_SECONDS)
        except SignatureExpired as exc:
            raise SessionInvalid("The widget session expired; fetch a new one from /api/widget/session.") \
                from exc
        except BadSignature as exc:
            raise SessionInvalid("The widget session token is invalid; fetch a new one from "
                                 "/api/widget/session.") from exc
        site_key, bound = str(claims.get("site", "")), str(claims.get("origin", ""))
        if normalize_origin(origin) != bound:
            raise AccessDenied("This widget session belongs to another origin; fetch one for this page.")
        if not self.site_allows(site_key, bound):
            raise AccessDenied(f"The site {site_key!r} no longer allows the origin {bound}.")
        return SessionClaims(site_key, bound, str(claims.get("sid", "")))

    # --- rate limits -----------------------------------------------------------------------
    def limit_ip(self, ip: str) -> None:
        self._hit(self._ip_limit, "ip", ip,
                  f"Too many requests from your address (limit {self.settings.rate_limit_per_minute} "
                  "a minute).")

    def limit_site(self, site_key: str) -> None:
        self._hit(self._site_limit, "site", site_key,
                  f"Too many requests for this site (limit {self.settings.site_rate_limit_per_minute} "
                  "a minute).")

    def limit_publisher(self, token: str) -> None:
        """The publisher API's own window, per token (its digest: the token itself is never a key)."""
        self._hit(self._publisher_limit, "publisher", digest(token).hex(),
                  "Too many publisher calls with this token (limit "
                  f"{self.settings.publisher_rate_limit_per_minute} a minute, "
                  "PUBLISHER_RATE_LIMIT_PER_MINUTE).")

    def is_admin_token(self, token: str | None) -> bool:
        """Whether ``token`` is ADMIN_TOKEN (constant-time); counts nothing, refuses nothing."""
        expected = self.settings.admin_token
        return bool(token) and expected is not None and \
            hmac.compare_digest(digest(token or ""), digest(expected.get_secret_value()))

    def _hit(self, item: RateLimitItemPerMinute, scope: str, key: str, message: str) -> None:
        try:
            if self._limiter.hit(item, scope, key):
                return
            reset = self._limiter.get_window_stats(item, scope, key).reset_time
        except StorageError as exc:  # the shared store went away: answer readers, say so in the log
            log.error("rate limits not applied: %s is unreachable (%r)",
                      self.settings.rate_limit_storage, exc.storage_error)
            return
        retry_after = max(1, math.ceil(reset - time.time()))
        raise RateLimited(f"{message} Try again in {retry_after} s.", retry_after)

    # --- admin -----------------------------------------------------------------------------
    def check_admin(self, token: str | None, client: str) -> None:
        """The one admin check of the API and the UI: AdminRequired unless ``token`` is ADMIN_TOKEN.

        Constant-time (digests of equal length are compared), and after ADMIN_FAILURES_PER_MINUTE
        wrong tokens from ``client`` every token is refused (RateLimited) until the window moves on.
        """
        expected = self.settings.admin_token
        if expected is None:
            raise AdminRequired("Admin endpoints are disabled: set ADMIN_TOKEN on the server.", disabled=True)
        try:
            allowed = self._limiter.test(self._admin_failures, "admin", client)
        except StorageError:
            allowed = True  # logged by _hit below when a failure is counted
        if not allowed:
            self._hit(self._admin_failures, "admin", client,
                      f"Too many wrong admin tokens from your address (limit {ADMIN_FAILURES_PER_MINUTE} "
                      "a minute).")
        if not token or not hmac.compare_digest(digest(token), digest(expected.get_secret_value())):
            with contextlib.suppress(RateLimited):  # the failure is counted; the answer stays the same
                self._hit(self._admin_failures, "admin", client, "")
            raise AdminRequired(
                "Admin endpoints need the admin token: send 'Authorization: Bearer <ADMIN_TOKEN>'.")


def digest(secret: str) -> bytes:
    """A fixed-length digest, so that comparing tokens reveals neither their content nor length."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).digest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (None when there is no header)."""
    if not authorization or not authorization.strip():
        return None
    match = BEARER.match(authorization.strip())
    if match is None:
        raise AdminRequired("The Authorization header must be 'Bearer <ADMIN_TOKEN>': the word Bearer, "
                            "a space, then the token.")
    return match.group(1)


def rate_limit_storage(uri: str) -> Any:
    """The counters' store named by RATE_LIMIT_STORAGE, checked now: a bad one stops the start."""
    # a store that does not answer must not hold a reader's request for long
    options = {"socket_connect_timeout": 2.0, "socket_timeout": 2.0} if uri.startswith("redis") else {}
    try:
        storage = storage_from_string(uri, wrap_exceptions=True, **options)
    except (ConfigurationError, ValueError) as exc:
        raise ConfigError(
            f"RATE_LIMIT_STORAGE={uri!r} is not a store we can use ({exc}); "
            "use memory:// or redis://HOST:PORT/DB."
        ) from exc
    if not storage.check():
        raise ConfigError(
            f"RATE_LIMIT_STORAGE={uri!r}: no answer from that store. Start it, or use memory:// "
            "for a single instance."
        )
    return storage
