"""Access rules: sites and origins, signed widget sessions, rate limits, the admin token."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.web.security import (
    SESSION_SALT,
    SESSION_TTL_SECONDS,
    AccessDenied,
    AdminRequired,
    RateLimited,
    Security,
    SessionInvalid,
    bearer_token,
)
from tests.conftest import make_settings

SECRET = "a-test-secret-that-is-long-enough"


def secured(tmp_path: Path, **overrides: object) -> Security:
    base: dict[str, object] = {"session_secret": SECRET,
                               "sites": "news=https://News.example.com/|https://www.news.example.com;blog=http://127.0.0.1:9"}
    base.update(overrides)
    return Security.from_settings(make_settings(tmp_path, **base).security)


def test_without_sites_every_origin_is_refused(settings: Settings) -> None:
    security = Security.from_settings(settings.security)
    assert security.allowed_origins == []
    for origin in ("http://127.0.0.1:7860", "https://news.example.com", "null"):
        with pytest.raises(AccessDenied):
            security.issue_session("demo", origin)


def test_sites_allow_exactly_their_origins(tmp_path: Path) -> None:
    security = secured(tmp_path)
    assert security.allowed_origins == ["http://127.0.0.1:9", "https://news.example.com",
                                        "https://www.news.example.com"]
    assert "*" not in security.allowed_origins
    assert security.site_allows("news", "https://news.example.com")
    assert not security.site_allows("news", "https://news.example.com.evil.test")
    assert not security.site_allows("news", "http://news.example.com")  # another scheme is another origin
    assert not security.site_allows("blog", "https://news.example.com")
    with pytest.raises(AccessDenied, match="not allowed for site 'blog'"):
        security.issue_session("blog", "https://news.example.com")
    with pytest.raises(AccessDenied, match="Unknown site key"):
        security.issue_session("nope", "https://news.example.com")
    with pytest.raises(AccessDenied, match="no Origin"):
        security.issue_session("news", None)


def test_a_session_is_bound_to_its_site_and_origin(tmp_path: Path) -> None:
    security = secured(tmp_path)
    token = security.issue_session("news", "https://www.news.example.com")
    claims = security.verify_session(token, "https://www.news.example.com")
    assert (claims.site_key, claims.origin) == ("news", "https://www.news.example.com")
    with pytest.raises(AccessDenied, match="another origin"):
        security.verify_session(token, "https://news.example.com")
    with pytest.raises(AccessDenied):
        security.verify_session(token, None)


def test_tampered_foreign_and_expired_tokens_are_refused(tmp_path: Path) -> None:
    security = secured(tmp_path)
    token = security.issue_session("news", "https://news.example.com")
    with pytest.raises(SessionInvalid, match="invalid"):
        security.verify_session(token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
                                "https://news.example.com")
    other = secured(tmp_path, session_secret="another-secret-another-secret")
    with pytest.raises(SessionInvalid):
        other.verify_session(token, "https://news.example.com")

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - SESSION_TTL_SECONDS - 5

    signer = URLSafeTimedSerializer(SECRET, salt=SESSION_SALT, signer=SignedLongAgo)
    old = signer.dumps({"site": "news", "origin": "https://news.example.com", "sid": "x"})
    with pytest.raises(SessionInvalid, match="expired"):
        security.verify_session(old, "https://news.example.com")


def test_a_token_stops_working_when_its_origin_is_removed(tmp_path: Path) -> None:
    token = secured(tmp_path).issue_session("news", "https://www.news.example.com")
    narrowed = secured(tmp_path, sites="news=https://news.example.com")
    with pytest.raises(AccessDenied, match="no longer allows"):
        narrowed.verify_session(token, "https://www.news.example.com")


def test_without_a_session_secret_tokens_do_not_survive_a_restart(tmp_path: Path) -> None:
    first = secured(tmp_path, session_secret=None)
    token = first.issue_session("news", "https://news.example.com")
    assert first.verify_session(token, "https://news.example.com").site_key == "news"
    with pytest.raises(SessionInvalid):
        secured(tmp_path, session_secret=None).verify_session(token, "https://news.example.com")


def test_rate_limits_per_ip_and_per_site(tmp_path: Path) -> None:
    security = secured(tmp_path, rate_limit_per_minute=3, site_rate_limit_per_minute=2)
    for _ in range(3):
        security.limit_ip("10.0.0.1")
    with pytest.raises(RateLimited) as caught:
        security.limit_ip("10.0.0.1")
    assert 1 <= caught.value.retry_after <= 60
    assert "3 a minute" in str(caught.value)
    security.limit_ip("10.0.0.2")  # another address has its own window
    security.limit_site("news")
    security.limit_site("news")
    with pytest.raises(RateLimited, match="this site"):
        security.limit_site("news")
    security.limit_site("blog")


def test_admin_token(tmp_path: Path) -> None:
    with pytest.raises(AdminRequired, match="disabled") as caught:
        secured(tmp_path).check_admin("anything", "10.0.0.1")
    assert caught.value.disabled
    security = secured(tmp_path, admin_token="s3cret-admin-token")
    security.check_admin("s3cret-admin-token", "10.0.0.1")
    for wrong in (None, "", "s3cret-admin-toke", "s3cret-admin-token ", "\ud800"):
        with pytest.raises(AdminRequired) as caught:
            security.check_admin(wrong, "10.0.0.1")
        assert not caught.value.disabled
    # five wrong tokens a minute from one address: then every token is refused there, not elsewhere
    with pytest.raises(RateLimited, match="Too many wrong admin tokens") as limited:
        security.check_admin("s3cret-admin-token", "10.0.0.1")
    assert 1 <= limited.value.retry_after <= 60
    security.check_admin("s3cret-admin-token", "10.0.0.2")


def test_the_admin_header_must_be_bearer(tmp_path: Path) -> None:
    assert bearer_token(None) is None and bearer_token("  ") is None
    assert bearer_token("Bearer abc") == "abc" and bearer_token("bearer  abc ") == "abc"
    for malformed in ("abc", "Basic abc", "Bearer", "Bearer a b", "Bearerabc"):
        with pytest.raises(AdminRequired, match="must be 'Bearer <ADMIN_TOKEN>'"):
            bearer_token(malformed)


def test_a_malformed_sites_setting_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="SITES"):
        secured(tmp_path, sites="just-a-key")
