"""Secrets out of the URLs we show: credentials and secret-looking query values become ``***``.

    redact_url("https://bob:pw@news.example.com/rss?api_key=abc123&lang=en")
    # 'https://***@news.example.com/rss?api_key=***&lang=en'
    redact_text("news.example.com/rss?token=abc did not answer")   # every URL in a message

    redact_logs("httpx")        # the HTTP client logs every URL it requests: redacted from now on

A feed's address often carries its key (``?api_key=…``, ``?token=…``, ``user:password@``); the
address is still needed to fetch it, so it is stored as given and redacted wherever it is shown:
statistics, feed lists, reports, errors and logs.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, urlsplit, urlunsplit

MASK = "***"
# Query keys whose value is a secret (api_key, apiKey, access_token, X-Amz-Signature, client_secret,
# password, sig, auth, session ids...): one of these words in the key, or one of these parts in it.
SECRET_WORDS = {"key", "apikey", "token", "secret", "password", "passwd", "pwd", "pass", "auth", "sig",
                "signature", "credential", "credentials", "session", "sessionid", "sid", "code", "jwt",
                "bearer", "private"}
SECRET_PARTS = ("token", "secret", "passw", "passcode", "apikey", "signature", "credential")
KEY_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# A value that looks like a secret whatever its key: a long run of letters and digits mixed (a random
# token, a hex digest, base64), not a word, a number or a date.
SECRET_VALUE = re.compile(r"^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_\-+/=.~%]{24,}$")
URL = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s<>\"'()\[\]{}]+", re.IGNORECASE)


def redact_url(url: str) -> str:
    """``url`` with its user and password and its secret-looking query values replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = "&".join(_redact_pair(pair) for pair in parts.query.split("&")) if parts.query else ""
    fragment = parts.fragment if "=" not in parts.fragment else \
        "&".join(_redact_pair(pair) for pair in parts.fragment.split("&"))  # OAuth implicit-flow tokens
    return urlunsplit((parts.scheme, netloc, parts.path, query, fragment))


def redact_text(text: str) -> str:
    """``text`` with every URL in it redacted (for error messages that quote addresses)."""
    return URL.sub(lambda match: redact_url(match.group(0)), text)


def _redact_pair(pair: str) -> str:
    key, equals, value = pair.partition("=")
    if not equals or not value:
        return pair
    if is_secret_key(unquote(key)) or SECRET_VALUE.match(value):
        return f"{key}={MASK}"
    return pair


def is_secret_key(key: str) -> bool:
    """True for a query key whose value is a secret: ``api_key``, ``apiKey``, ``X-Amz-Signature``."""
    lowered = key.lower()
    return any(word.lower() in SECRET_WORDS for word in KEY_WORDS.findall(key)) \
        or any(part in lowered for part in SECRET_PARTS)


class RedactingFilter(logging.Filter):
    """A logging filter that redacts every URL in the messages of the logger it is added to."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def redact_logs(*names: str) -> None:
    """Redact the URLs in what the loggers ``names`` log (once per logger, however often called)."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
            logger.addFilter(RedactingFilter())
